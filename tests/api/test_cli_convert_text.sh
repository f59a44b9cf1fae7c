#!/usr/bin/env bash
# `voiceclone convert --text` (RVC text mode from the command line) with the tiny golden F5-TTS,
# the random-weight golden Whisper and the tiny RVC base models: without F5-TTS weights it names
# the pull command; with --ref-text, and with the reference transcribed by Whisper, it writes a
# non-silent WAV at the voice's rate; a 2 s reference is refused.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${VCS_BIN:-$ROOT/${BUILD:-build}/voiceclone}
T=$(mktemp -d /tmp/vcs-cli-convert-text.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
imp() { "$BIN" models import "$ROOT/tests/golden/$1" --to "$2" ${3:+--as "$3"} --data "$T/data" >/dev/null; }
imp rvc/hubert_small/hubert_fairseq_style.pt hubert hubert_base.pt
imp rvc/rmvpe_small/rmvpe.safetensors rmvpe rmvpe.pt
W="$T/data/weights"
M="$ROOT/tests/models/rvc/fixtures/voice_v2_96.pth"
sox "$ROOT/tests/golden/f5tts/tiny/ref.wav" "$T/ref.wav" repeat 3
sox -n -r 24000 -c 1 "$T/short.wav" synth 2 sine 220 vol 0.3

out=$("$BIN" convert --model "$M" --text "Hello there." --ref "$T/ref.wav" --ref-text "Some call me nature." -o "$T/x.wav" --weights "$W" 2>&1) &&
  fail "converted without F5-TTS weights"
grep -q "voiceclone models pull f5tts" <<<"$out" || fail "missing F5-TTS message: $out"

imp f5tts/tiny/weights.safetensors f5tts
imp f5tts/tiny/vocab.txt f5tts
imp f5tts/tiny/pytorch_model.bin vocos
out=$("$BIN" convert --model "$M" --text "Hello there." --ref "$T/ref.wav" -o "$T/x.wav" --weights "$W" 2>&1) &&
  fail "transcribed the reference without Whisper"
grep -q "voiceclone models pull whisper" <<<"$out" || fail "missing Whisper message: $out"

imp whisper/tiny_multilingual/model.pt whisper base.pt
imp whisper/tiny_multilingual/multilingual.tiktoken whisper
out=$("$BIN" convert --model "$M" --text "Hello there." --ref "$T/short.wav" --ref-text "a" -o "$T/x.wav" --weights "$W" 2>&1) &&
  fail "a 2 s reference was accepted"
grep -q "at least 3 s" <<<"$out" || fail "short reference message: $out"

check() { # out.wav: 48 kHz (the voice's rate), longer than 0.2 s, not silent
  [ "$(soxi -r "$1")" = 48000 ] || fail "rate $(soxi -r "$1")"
  awk -v d="$(soxi -D "$1")" 'BEGIN { exit !(d > 0.2) }' || fail "only $(soxi -D "$1") s"
  rms=$(sox "$1" -n stat 2>&1 | awk '/RMS +amplitude/ { print $3 }')
  awk -v r="$rms" 'BEGIN { exit !(r > 0.001) }' || fail "silent output (RMS $rms)"
}
"$BIN" convert --model "$M" --text "Hello there, this is a test." --ref "$T/ref.wav" --ref-text "Some call me nature." --nfe 2 --seed 1 \
  -o "$T/typed.wav" --weights "$W" 2>"$T/log" || { cat "$T/log" >&2; fail "text mode with --ref-text failed"; }
check "$T/typed.wav"
"$BIN" convert --model "$M" --text "Good morning." --ref "$T/ref.wav" --nfe 2 -o "$T/heard.wav" --weights "$W" 2>"$T/log" ||
  { cat "$T/log" >&2; fail "text mode with a transcribed reference failed"; }
check "$T/heard.wav"
grep -q "^reference text: " "$T/log" || fail "the texts used are printed: $(cat "$T/log")"
echo "PASS cli convert --text: weights named, short reference refused, typed and transcribed references spoken and converted"
