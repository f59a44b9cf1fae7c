#!/usr/bin/env bash
# Fuzzes the model-file loaders for SECONDS each (default 60) with libFuzzer + ASan/UBSan:
#   weights  nn_weights_open (safetensors, PyTorch zip + restricted unpickler)
#   index    rvc_index_load (faiss IVF-Flat / Flat)
#   zip      rvc_import_unzip (voice archives: stored/deflated, caps)
#   audio    audio_probe_file + audio_header_check + audio_decode_file_max (uploads: libsndfile
#            WAV/RF64/FLAC/Ogg/MP3 under a purpose's duration and decoded-size limits)
# Seeds: the generated hostile files of every class (tests/support/hostile.c via make_seeds),
# the committed hostile weights in tests/nn/fixtures/hostile and the real small layouts.
# Usage: tests/fuzz/run.sh [SECONDS] [TARGET...]. Prints one JSON line per target.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_TO_RUN=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(weights index zip audio)
out=build-fuzz
mkdir -p "$out"
CFLAGS_FUZZ=(-std=c11 -D_GNU_SOURCE -g -O1 -march=x86-64-v3 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Isrc -Itests)
seeds="$out/seeds"
rm -rf "$seeds"; mkdir -p "$seeds"
clang -std=c11 -D_GNU_SOURCE -O1 -Isrc -Itests tests/fuzz/make_seeds.c tests/support/hostile.c -lsndfile -lz -lm -o "$out/make_seeds"
"$out/make_seeds" "$seeds"

build_target() {
  case $1 in
    weights) clang "${CFLAGS_FUZZ[@]}" tests/fuzz/fuzz_weights.c src/nn/weights.c src/nn/ptzip.c src/base/error.c -ljansson -lm -o "$out/fuzz_weights" ;;
    index) clang "${CFLAGS_FUZZ[@]}" tests/fuzz/fuzz_index.c src/models/rvc/rvc_index.c src/base/error.c -o "$out/fuzz_index" ;;
    zip) clang "${CFLAGS_FUZZ[@]}" $(pkg-config --cflags jansson sqlite3) tests/fuzz/fuzz_zip.c src/models/rvc/rvc_import_zip.c src/base/error.c -lz -o "$out/fuzz_zip" ;;
    audio) clang "${CFLAGS_FUZZ[@]}" $(pkg-config --cflags sndfile soxr lame) tests/fuzz/fuzz_audio.c src/audio/audio_io.c src/base/error.c \
             $(pkg-config --libs sndfile soxr lame) -lm -o "$out/fuzz_audio" ;;
  esac
}

seed_corpus() { # target corpus-dir
  case $1 in
    weights) cp "$seeds"/*.pth "$seeds"/*.safetensors "$2/"
             for f in tests/nn/fixtures/hostile/* tests/golden/f5tts/tiny/pytorch_model.bin tests/golden/rvc/synth_v2_48k_small/synthesizer_official.pth; do
               [ -f "$f" ] && [ "$(stat -c%s "$f")" -lt 2000000 ] && cp "$f" "$2/" 2>/dev/null || true
             done ;;
    index) cp "$seeds"/*.index "$2/"
           for f in tests/models/rvc/fixtures/*.index; do [ -f "$f" ] && [ "$(stat -c%s "$f")" -lt 2000000 ] && cp "$f" "$2/"; done ;;
    zip) cp "$seeds"/*.zip "$2/"  # valid archives (honest directory) with bomb payloads
         cp tests/models/rvc/fixtures/voice_bad_dim.index "$2/" 2>/dev/null || true ;;
    audio) # the first byte picks the purpose (0 reference 30 s, 1 training 10 min, 2 target 30 min).
           # Every seed under the reference budget; the WAVs (whose decoded size their file bounds)
           # under the target's too: the 384 kHz FLAC decodes 11 M frames there, 1.5 s an execution
           # under ASan. Seeds past 256 kB (the 1.5 MB 384 kHz WAV) stay out: the unit and API
           # tests cover them. Only our code is instrumented (libsndfile is Debian's), so coverage
           # guides through the checks around the decoder, not inside it.
           for f in "$seeds"/*.wav "$seeds"/*.flac "$seeds"/*.ogg "$seeds"/*.mp3; do
             size=$(stat -c%s "$f")
             [ "$size" -le 262144 ] || continue
             { printf '\0'; cat "$f"; } > "$2/0-$(basename "$f")"
             case $f in *.wav) { printf '\2'; cat "$f"; } > "$2/2-$(basename "$f")" ;; esac
           done ;;
  esac
}

fail=0
for t in "${targets[@]}"; do
  build_target "$t"
  corpus="$out/corpus-$t"; crashes="$out/crashes-$t"
  mkdir -p "$corpus" "$crashes"
  seed_corpus "$t" "$corpus"
  log=$(mktemp)
  set +e
  "$out/fuzz_$t" "$corpus" -max_total_time="$SECONDS_TO_RUN" -max_len=1048576 -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$crashes/" -print_final_stats=1 >"$log" 2>&1
  status=$?
  set -e
  execs=$(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  ncrash=$(ls "$crashes" | wc -l)
  printf '{"bench":"fuzz_%s","seconds":%s,"executions":%s,"corpus":%s,"crashes":%s,"exit":%s}\n' \
    "$t" "$SECONDS_TO_RUN" "${execs:-0}" "$(ls "$corpus" | wc -l)" "$ncrash" "$status"
  if [ "$ncrash" -ne 0 ] || [ "$status" -ne 0 ]; then fail=1; tail -n 40 "$log" >&2; fi
  rm -f "$log"
done
exit $fail
