#!/usr/bin/env bash
# Fuzzes the weight loaders for SECONDS (default 60) with libFuzzer + ASan/UBSan.
# Seeds: the real layouts in tests/golden and the hostile files in tests/nn/fixtures/hostile.
# Prints one JSON line: executions, corpus size, crashes found.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_TO_RUN=${1:-60}
out=build-fuzz
mkdir -p "$out/corpus" "$out/crashes"
srcs=$(ls src/nn/weights.c src/nn/ptzip.c src/base/error.c)
clang -std=c11 -D_GNU_SOURCE -g -O1 -march=x86-64-v3 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Isrc \
  tests/fuzz/fuzz_weights.c $srcs -ljansson -lm -o "$out/fuzz_weights"
seeds=()
for f in tests/nn/fixtures/hostile/* tests/golden/f5tts/tiny/pytorch_model.bin tests/golden/rvc/synth_v2_48k_small/synthesizer_official.pth; do
  [ -f "$f" ] && [ "$(stat -c%s "$f")" -lt 2000000 ] && cp "$f" "$out/corpus/" 2>/dev/null || true
done
log=$(mktemp)
set +e
"$out/fuzz_weights" "$out/corpus" -max_total_time="$SECONDS_TO_RUN" -max_len=1048576 -rss_limit_mb=2048 \
  -artifact_prefix="$out/crashes/" -print_final_stats=1 >"$log" 2>&1
status=$?
set -e
execs=$(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
crashes=$(ls "$out/crashes" | wc -l)
printf '{"bench":"fuzz_weights","seconds":%s,"executions":%s,"corpus":%s,"crashes":%s,"exit":%s}\n' \
  "$SECONDS_TO_RUN" "${execs:-0}" "$(ls "$out/corpus" | wc -l)" "$crashes" "$status"
rm -f "$log"
[ "$crashes" -eq 0 ]
