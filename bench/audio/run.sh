#!/usr/bin/env bash
# Benchmark: decode + quality analysis of 10 minutes of 44.1 kHz speech with noise.
# Prints one JSON line: seconds (median of 3) and times real time (target >= 300x).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-${BUILD:-build}/voiceclone}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
espeak-ng -s 160 -w "$tmp/s.wav" "The quick brown fox jumps over the lazy dog. A journey of a thousand miles begins with a single step." 2>/dev/null
sox "$tmp/s.wav" -r 44100 "$tmp/s44.wav"
sox "$tmp/s44.wav" "$tmp/long.wav" repeat 100 trim 0 600
sox -m "$tmp/long.wav" <(sox -n -r 44100 -c 1 -t wav - synth 600 pinknoise vol 0.01) "$tmp/bench.wav" 2>/dev/null || cp "$tmp/long.wav" "$tmp/bench.wav"
dur=$(soxi -D "$tmp/bench.wav")
times=()
for _ in 1 2 3; do
  s=$(date +%s.%N); "$BIN" analyze "$tmp/bench.wav" --json >/dev/null; e=$(date +%s.%N)
  times+=("$(echo "$e - $s" | bc -l)")
done
med=$(printf '%s\n' "${times[@]}" | sort -g | sed -n 2p)
printf '{"bench":"analyze","audio_seconds":%.1f,"sample_rate":44100,"seconds":%.3f,"x_realtime":%.0f,"target_x_realtime":300}\n' \
  "$dur" "$med" "$(echo "$dur / $med" | bc -l)"
