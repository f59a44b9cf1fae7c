#!/usr/bin/env bash
# The quick clone's pre-loaded target ("Use sample audio"): speech generated from a fixed text
# with espeak-ng (Debian package, GPL-3; the sound it synthesizes is not covered by its licence,
# so the recording may be shipped and used freely), into web/public/samples/ where the web build
# copies it to web/dist/samples/. Called by scripts/build-web.sh; does nothing when the file is
# there. The transcript is web/public/samples/sample-target.json (committed, the same TEXT).
set -euo pipefail
cd "$(dirname "$0")/../web/public/samples"
TEXT="Welcome to VoiceClone Studio. This short recording is the sample target. Press generate, and you will hear these same words spoken in your own voice."
[ -f sample-target.wav ] && exit 0
if ! command -v espeak-ng >/dev/null 2>&1; then
  echo "make-sample: espeak-ng is not installed (scripts/install-deps.sh); the quick clone's 'Use sample audio' will say so" >&2
  exit 0
fi
# 22.05 kHz mono 16-bit WAV, about 9 s; written to a temp name first so a failure leaves nothing half-made
espeak-ng -v en-us -s 150 -w sample-target.tmp.wav "$TEXT"
mv sample-target.tmp.wav sample-target.wav
echo "make-sample: web/public/samples/sample-target.wav"
