# VoiceClone Studio build.
#
# Plain GNU Make with wildcards: every .c under src/ (except src/cli/) goes into
# build/libvcs.a; src/cli/*.c link it into build/voiceclone. Every tests/**/test_*.c
# becomes its own test binary. Adding a module means adding files, never editing this.
#
#   make build   deps (apt, idempotent) + C build + web UI (when web/package.json exists)
#   make run     build, then serve on http://127.0.0.1:8000 with data in ./data
#   make test    build, then unit, golden, API, PostgreSQL (store/jobs/API again on a throwaway
#                server) and browser suites, then the ASan/UBSan suite
# -jN builds the C objects in parallel and the web UI (npm ci: mostly download) beside them;
# `make test`'s ASan tree is built with one job per core (tests/run.sh asan) whatever -j says.
#   make bench   benchmarks, one JSON object per line

CC      ?= gcc
# V=1 prints full compiler command lines.
Q       := $(if $(V),,@)
BUILD   ?= build
PKGS    := libmicrohttpd jansson sqlite3 libpq sndfile soxr libebur128 lame kissfft-float openblas libcurl zlib
WARN    := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wno-format-truncation -Wstrict-prototypes
CFLAGS  ?= -O2 -g
ALLCFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -march=x86-64-v3 -Isrc \
            $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(EXTRA_CFLAGS)
# oneDNN (libdnnl-dev) ships no pkg-config file; it brings OpenMP (libgomp) for its threads.
LDLIBS  := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -ldnnl -lgomp -lcrypto -lpthread -lm
TEST_LDLIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

# SRC_DIRS/TEST_DIRS narrow a build to some modules (e.g. while other modules are mid-edit):
#   make unit BUILD=build-audio SRC_DIRS="src/base src/audio" TEST_DIRS=tests/audio
SRC_DIRS  ?= src
TEST_DIRS ?= tests
LIB_SRC  := $(shell find $(SRC_DIRS) -name '*.c' ! -path 'src/cli/*' | sort)
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
TEST_SRC := $(shell find $(TEST_DIRS) -name 'test_*.c' ! -path 'tests/support/*' | sort)
SUPPORT_SRC := $(shell find tests/support -name '*.c' 2>/dev/null | sort)

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
SUPPORT_OBJ := $(SUPPORT_SRC:%.c=$(BUILD)/obj/%.o)
TEST_BIN := $(TEST_SRC:%.c=$(BUILD)/%)
# Only named as prerequisites of the test pattern rule, the support objects would count as
# intermediate: make would delete them after a build, and the next make would compile them again
# and relink every test binary.
.SECONDARY: $(SUPPORT_OBJ)

.DEFAULT_GOAL := all
unit: $(TEST_BIN)

.PHONY: all build deps c unit web web-ui run test test-unit test-golden test-api test-pg test-e2e compose-test test-asan bench clean fuzz
all: build

deps:
	@bash scripts/install-deps.sh

# c and web-ui are independent goals of one sub-make: with -jN they build side by side.
build: deps
	@$(MAKE) --no-print-directory c web-ui

web-ui:
	@if [ -f web/package.json ]; then bash scripts/build-web.sh; fi

c: $(BUILD)/voiceclone $(TEST_BIN)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "CC $<"
	$(Q)$(CC) $(ALLCFLAGS) -MMD -MP -c $< -o $@

# layers.c, the training tape's ops, the arena and the CPU backend's layout conversions thread
# their long loops with OpenMP (nn/par.h; the runtime oneDNN uses); the sanitizer build
# (EXTRA_CFLAGS on its command line replaces this) compiles them serial.
OMP_OBJ := layers ops arena tape tape_ops tape_seq tape_conv tape_loss optim
$(foreach o,$(OMP_OBJ),$(eval $(BUILD)/obj/src/nn/$(o).o: EXTRA_CFLAGS += -fopenmp))
$(BUILD)/obj/src/nn/cpu/cpu_backend.o: EXTRA_CFLAGS += -fopenmp

# main.c checks the CPU before anything else runs, so it must not itself need AVX2.
$(BUILD)/obj/src/cli/main.o: EXTRA_CFLAGS += -march=x86-64 -mtune=generic

$(BUILD)/libvcs.a: $(LIB_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(BUILD)/voiceclone: $(CLI_OBJ) $(BUILD)/libvcs.a
	@echo "LD $@"
	$(Q)$(CC) $(ALLCFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libvcs.a $(LDLIBS)

$(BUILD)/tests/%: tests/%.c $(SUPPORT_OBJ) $(BUILD)/libvcs.a
	@mkdir -p $(dir $@)
	@echo "LD $@"
	$(Q)$(CC) $(ALLCFLAGS) -Itests -o $@ $< $(SUPPORT_OBJ) $(BUILD)/libvcs.a $(LDLIBS) $(TEST_LDLIBS)

run: build
	$(BUILD)/voiceclone serve --host 127.0.0.1 --port 8000 --data ./data

test: build
	@bash tests/run.sh all

test-unit: build
	@bash tests/run.sh unit
test-golden: build
	@bash tests/run.sh golden
test-api: build
	@bash tests/run.sh api
test-pg: build
	@bash tests/run.sh pg
test-e2e: build
	@bash tests/run.sh e2e
# Containers: build the images, run postgres + api + 2 workers, upload → preprocess and import →
# convert flows, tear down (docs/OPERATIONS.md). Not part of `make test`.
compose-test:
	@bash scripts/compose-test.sh
# Address + undefined-behaviour sanitizers over the unit suites (separate build tree). The API
# tests are not built there: the unit suite never runs them.
ASAN_TEST_DIRS := $(filter-out tests/api,$(patsubst %/,%,$(wildcard tests/*/)))
test-asan: deps
	@$(MAKE) --no-print-directory c BUILD=build-asan CC=clang EXTRA_CFLAGS=-Wno-unknown-warning-option \
	  TEST_DIRS="$(ASAN_TEST_DIRS)" \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
	@BUILD=build-asan bash tests/run.sh unit

bench: build
	@bash bench/run.sh

clean:
	rm -rf $(BUILD) build-asan build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
