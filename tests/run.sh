#!/usr/bin/env bash
# Runs the test suites and prints one summary line per suite plus a total.
#
#   tests/run.sh unit|golden|api|pg|e2e|asan|all
#
# unit   every build/tests/**/test_* binary outside tests/api (cmocka, one process each)
# golden build/voiceclone check-golden on tests/golden/<model>/<case> (committed copies) and,
#        when ../shared/golden exists, on every case there too
# api    every build/tests/api/test_* binary and tests/api/*.sh (real server on loopback), among
#        them the OpenAPI contract test (tests/contract/run.sh: Ajv + Redocly, npm ci on first use)
# pg     the store and jobs unit tests and the whole API suite again on PostgreSQL: a throwaway
#        server (scripts/pg-tmp.sh) in a temp folder, VCS_TEST_DATABASE_URL pointing at it (each
#        test makes its own database); test_api_train skips there the three tests with no store
#        path of their own (v1/no-pitch, default epochs, cancel in feature extraction: run once, in
#        the api suite); the scale-out test (tests/api/test_api_scaleout: 1 API node
#        + 3 workers, lane limits per worker, lapsed leases of a sleep job and of a real tiny
#        training, cross-node SSE) starts its own server
#        and runs once, in the api suite
# e2e    tests/e2e/run.sh (headless Chromium) when the web UI exists
# asan   the unit suite rebuilt with ASan/UBSan (make test-asan)
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export VCS_TEST_ROOT=$PWD
failed=()
not_run=()
passed=0

run_one() { # name, command...
  local name=$1; shift
  local log; log=$(mktemp)
  local t0=$SECONDS
  "$@" >"$log" 2>&1
  local rc=$?
  if [ $rc -eq 0 ]; then
    passed=$((passed+1)); echo "PASS $name ($((SECONDS-t0))s)"
  elif [ $rc -eq 3 ] && [ "${ALLOW_NOT_RUN:-0}" = 1 ]; then
    # check-golden: a case of a model this build has no engine for. Listed, never counted as passed.
    not_run+=("$name"); echo "NOT RUN $name: $(grep -m1 'NOT RUN' "$log")"
  else
    failed+=("$name"); echo "FAIL $name ($((SECONDS-t0))s)"; tail -n 60 "$log" | sed 's/^/    /'
  fi
  rm -f "$log"
}

suite_unit() {
  local bin
  while IFS= read -r bin; do run_one "${bin#$BUILD/}" "$bin"; done \
    < <(find "$BUILD/tests" -type f -name 'test_*' -perm -u+x ! -path "*/tests/api/*" | sort)
  # The engine again on oneDNN's AVX2 kernels (8-channel native blocks, no bf16), as an AVX2-only
  # machine runs it; a no-op cap where the CPU has no more than AVX2.
  run_one "nn/test_backend (AVX2 kernels)" env DNNL_MAX_CPU_ISA=AVX2 "$BUILD/tests/nn/test_backend"
  run_one "golden rvc synthesizer (AVX2 kernels)" env DNNL_MAX_CPU_ISA=AVX2 "$BUILD/voiceclone" check-golden \
    tests/golden/rvc/synth_v2_48k_small
}

golden_cases() {
  local root
  for root in tests/golden ../shared/golden; do
    [ -d "$root" ] || continue
    find "$root" -mindepth 2 -maxdepth 2 -type d -exec test -f '{}/config.json' ';' -print | sort
  done
}

suite_golden() {
  local dir
  while IFS= read -r dir; do ALLOW_NOT_RUN=1 run_one "golden ${dir}" "$BUILD/voiceclone" check-golden "$dir"; done < <(golden_cases)
}

suite_api() {
  local t
  while IFS= read -r t; do run_one "${t#$BUILD/}" "$t"; done \
    < <(find "$BUILD/tests/api" -type f -name 'test_*' -perm -u+x 2>/dev/null | sort)
  for t in tests/api/*.sh; do [ -f "$t" ] && run_one "$t" bash "$t"; done
}

suite_pg() {
  local dir url bin
  dir=$(mktemp -d /tmp/vcs-pg-suite-XXXXXX); chmod 755 "$dir"
  if ! url=$(bash scripts/pg-tmp.sh start "$dir"); then
    failed+=("pg: could not start PostgreSQL (scripts/pg-tmp.sh; apt-get install postgresql)"); rm -rf "$dir"; return
  fi
  export VCS_TEST_DATABASE_URL=$url
  while IFS= read -r bin; do run_one "pg: ${bin#$BUILD/}" "$bin"; done \
    < <(find "$BUILD/tests/store" "$BUILD/tests/jobs" -type f -name 'test_*' -perm -u+x 2>/dev/null | sort)
  while IFS= read -r bin; do run_one "pg: ${bin#$BUILD/}" "$bin"; done \
    < <(find "$BUILD/tests/api" -type f -name 'test_*' -perm -u+x ! -name 'test_api_scaleout' 2>/dev/null | sort)
  unset VCS_TEST_DATABASE_URL
  bash scripts/pg-tmp.sh stop "$dir"; rm -rf "$dir"
}

suite_e2e() {
  [ -f tests/e2e/run.sh ] && run_one "e2e" bash tests/e2e/run.sh
}

suite_asan() {
  # One compile job per core (the asan tree is a second full build); MAKEFLAGS dropped so that a
  # `make -jN test` around this script does not hand down a jobserver it has closed for us.
  run_one "asan+ubsan unit suite" env -u MAKEFLAGS -u MFLAGS make --no-print-directory -j"$(nproc)" test-asan
  # short libFuzzer run of each model-file loader and of audio decoding (the long one is bench/fuzz/run.sh)
  local t
  for t in weights index zip audio; do run_one "fuzz smoke: $t loader (15 s)" bash tests/fuzz/run.sh 15 "$t"; done
}

case "${1:-all}" in
  unit) suite_unit ;;
  golden) suite_golden ;;
  api) suite_api ;;
  pg) suite_pg ;;
  e2e) suite_e2e ;;
  asan) suite_asan ;;
  all) suite_unit; suite_golden; suite_api; suite_pg; suite_e2e; [ "$BUILD" = build ] && suite_asan ;;
  *) echo "usage: tests/run.sh unit|golden|api|pg|e2e|asan|all" >&2; exit 2 ;;
esac

echo "tests: $passed passed, ${#failed[@]} failed, ${#not_run[@]} not run (no engine for their model yet)"
for f in "${not_run[@]}"; do echo "  not run: $f"; done
for f in "${failed[@]}"; do echo "  failed: $f"; done
[ ${#failed[@]} -eq 0 ]
