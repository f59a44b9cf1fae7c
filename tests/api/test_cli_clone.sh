#!/usr/bin/env bash
# `voiceclone clone` (the quick clone from the command line) with the tiny golden F5-TTS and the
# random-weight golden Whisper: a voice sample under 3 s and a silent target are refused with the
# brief's words; speech to speech with --pitch writes a result exactly as long as the target.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${VCS_BIN:-$ROOT/${BUILD:-build}/voiceclone}
T=$(mktemp -d /tmp/vcs-cli-clone.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
imp() { "$BIN" models import "$ROOT/tests/golden/$1" --to "$2" ${3:+--as "$3"} --data "$T/data" >/dev/null; }
imp f5tts/tiny/weights.safetensors f5tts
imp f5tts/tiny/vocab.txt f5tts
imp f5tts/tiny/pytorch_model.bin vocos
imp whisper/tiny_multilingual/model.pt whisper base.pt
imp whisper/tiny_multilingual/multilingual.tiktoken whisper
W="$T/data/weights"
sox "$ROOT/tests/golden/f5tts/tiny/ref.wav" "$T/ref.wav" repeat 3
sox -n -r 24000 -c 1 "$T/short.wav" synth 2 sine 220 vol 0.3
sox -n -r 16000 -c 1 -b 16 "$T/silence.wav" trim 0 4
espeak-ng -w "$T/speech.wav" "Hello there. This is the recording to speak again." 2>/dev/null

out=$("$BIN" clone --ref "$T/short.wav" --ref-text "a" --text "b" -o "$T/x.wav" --weights "$W" 2>&1) && fail "a 2 s sample was accepted"
grep -q "at least 3 s" <<<"$out" || fail "short sample message: $out"

out=$("$BIN" clone --ref "$T/ref.wav" --ref-text "Some call me nature." --target "$T/silence.wav" -o "$T/x.wav" --weights "$W" 2>&1) && fail "a silent target was accepted"
grep -q "no speech found" <<<"$out" || fail "silent target message: $out"
[ ! -e "$T/x.wav" ] || fail "an output was written for a silent target"

out=$("$BIN" clone --ref "$T/ref.wav" --target "$T/speech.wav" --pitch 13 -o "$T/x.wav" --weights "$W" 2>&1) && fail "--pitch 13 was accepted"
grep -q -- "--pitch must be" <<<"$out" || fail "pitch range message: $out"

"$BIN" clone --ref "$T/ref.wav" --ref-text "Some call me nature." --target "$T/speech.wav" --pitch 4 --nfe 2 --seed 1 -o "$T/out.wav" --weights "$W" 2>"$T/log" ||
  { cat "$T/log" >&2; fail "speech to speech failed"; }
want=$(soxi -D "$T/speech.wav"); got=$(soxi -D "$T/out.wav")
awk -v a="$want" -v b="$got" 'BEGIN { exit !(a - b < 0.01 && b - a < 0.01) }' || fail "result $got s, target $want s"
grep -q "^reference text: " "$T/log" || fail "the texts used are printed: $(cat "$T/log")"
echo "PASS cli clone: short sample and silent target refused, --pitch range, speech to speech as long as the target"
