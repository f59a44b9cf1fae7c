#!/usr/bin/env bash
# End-to-end tests of the studio web UI against the REAL server (called by
# `tests/run.sh e2e`). Builds web/dist if needed, runs the Vitest component tests, starts
# `voiceclone serve` on a free loopback port with a fresh data dir, generates test audio
# with espeak-ng/sox, runs the Playwright specs (e2e.mjs) in headless Debian chromium with
# axe-core checks, and always stops the server.
#
# Two servers: the main one gets the tiny golden F5-TTS + Vocos weights installed into its
# data dir before it starts (exactly as tests/api/test_api_jobs.c's quick-clone test does),
# so the quick-clone flow runs end to end (random tiny weights: noise-like audio, expected);
# a second, bare one has no weights at all, for the 503 WEIGHTS_MISSING message.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
BIN=${VCS_BIN:-$ROOT/${BUILD:-build}/voiceclone}
[ -x "$BIN" ] || { echo "e2e: server binary $BIN not found (run make build)" >&2; exit 1; }
command -v /usr/bin/chromium >/dev/null || { echo "e2e: /usr/bin/chromium missing (scripts/install-deps.sh)" >&2; exit 1; }

bash scripts/build-web.sh
echo "e2e: vitest"
(cd web && npx --no-install vitest run)

TMP=$(mktemp -d /tmp/vcs-e2e.XXXXXX)
SERVER_PIDS=()
stop_server() { # pid
  local pid=$1
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "e2e: WARNING: server $pid did not exit within 5 s of SIGTERM; killing it" >&2
      kill -9 "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
  fi
}
FILES_PID=
cleanup() {
  local pid
  for pid in "${SERVER_PIDS[@]}"; do stop_server "$pid"; done
  # the file server dies of the signal (exit 143): that is not a failure of the suite
  if [ -n "$FILES_PID" ]; then kill "$FILES_PID" 2>/dev/null; wait "$FILES_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
start_server() { # port data-dir log
  VCS_JOBS_TEST_KINDS=1 VCS_WEB_DIR="$ROOT/web/dist" "$BIN" serve --host 127.0.0.1 --port "$1" --data "$2" >"$3" 2>&1 &
  local pid=$!
  SERVER_PIDS+=("$pid")
  for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$1/api/health" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { echo "e2e: server exited:" >&2; cat "$3" >&2; exit 1; }
    sleep 0.1
  done
  curl -fsS "http://127.0.0.1:$1/api/health" >/dev/null || { echo "e2e: server did not become healthy" >&2; cat "$3" >&2; exit 1; }
}

# test audio: clear speech (~20 s), the same ×5, a 3 s clip (too short for training), a non-audio file named .wav,
# an empty .wav, a text file and a noisy take
espeak-ng -s 140 -w "$TMP/speech.wav" "Hello, this is a recording for VoiceClone Studio. I am reading a few sentences \
clearly and at a steady pace, so that the quality analysis has enough speech to measure. The quick brown fox jumps \
over the lazy dog, and the rain in Spain stays mainly in the plain. One, two, three, four, five."
sox "$TMP/speech.wav" "$TMP/speech.wav" "$TMP/speech.wav" "$TMP/speech.wav" "$TMP/speech.wav" "$TMP/long.wav"  # ~5 MB: several tus chunks
sox -n -r 24000 -c 1 "$TMP/short.wav" synth 3 sine 220 vol 0.3
printf 'this is not audio at all\n%.0s' {1..200} > "$TMP/fake.wav"
: > "$TMP/empty.wav"                                   # 0 bytes
printf 'shopping list: milk, eggs\n' > "$TMP/notes.txt"  # not audio by its name: refused in the browser
# a noisy take: the speech with white noise as long as itself, about 12 dB SNR (between the 10 dB refusal
# and the 15 dB training minimum: kept with a warning, trained on only with "use anyway")
sox "$TMP/speech.wav" "$TMP/noise.wav" synth whitenoise vol 0.045
sox -m "$TMP/speech.wav" "$TMP/noise.wav" "$TMP/noisy.wav"
# quick-clone reference: the tiny golden case's clip ×3 (6 s; its transcript is "Some call me nature.")
sox tests/golden/f5tts/tiny/ref.wav "$TMP/ref.wav" repeat 3
# for the import + convert specs: a voice in the official small-model .pth layout whose content features
# are the tiny golden HuBERT's 96 dims (tests/models/rvc/fixtures/make_voices.py)
cp tests/models/rvc/fixtures/voice_v2_96.pth "$TMP/small_voice.pth"

# the main server's weights, installed before it starts: the tiny golden F5-TTS + Vocos, and the tiny
# golden HuBERT (fairseq-style .pt) + RMVPE as the RVC base models,
# through `voiceclone models import`, as a user without internet would install them
import_weights() { "$BIN" models import "$1" --to "$2" ${3:+--as "$3"} --data "$TMP/data" >/dev/null; }
import_weights tests/golden/f5tts/tiny/weights.safetensors f5tts
import_weights tests/golden/f5tts/tiny/vocab.txt f5tts
import_weights tests/golden/f5tts/tiny/pytorch_model.bin vocos
# the random-weight golden Whisper as the default size: the quick clone's "we heard" and speech to speech
import_weights tests/golden/whisper/tiny_multilingual/model.pt whisper base.pt
import_weights tests/golden/whisper/tiny_multilingual/multilingual.tiktoken whisper
import_weights tests/golden/rvc/hubert_small/hubert_fairseq_style.pt hubert hubert_base.pt
import_weights tests/golden/rvc/rmvpe_small/rmvpe.safetensors rmvpe rmvpe.pt

PORT=$(free_port)
start_server "$PORT" "$TMP/data" "$TMP/server.log"
# "Download models" from the UI, never from the internet: a local HTTP file server holds the tiny golden
# HuBERT/RMVPE under the names docs/models-manifest.json gives the rvc pack; the bare server downloads from it
mkdir -p "$TMP/files"
cp tests/golden/rvc/hubert_small/hubert_fairseq_style.pt "$TMP/files/hubert_base.pt"
cp tests/golden/rvc/rmvpe_small/rmvpe.safetensors "$TMP/files/rmvpe.pt"
FILES_PORT=$(free_port)
python3 -m http.server "$FILES_PORT" --bind 127.0.0.1 --directory "$TMP/files" >"$TMP/files.log" 2>&1 &
FILES_PID=$!
BARE_PORT=$(free_port)
VCS_MODELS_BASE_URL="http://127.0.0.1:$FILES_PORT/" start_server "$BARE_PORT" "$TMP/bare-data" "$TMP/bare-server.log"

echo "e2e: playwright against $BIN on port $PORT (tiny F5-TTS and RVC weights) and $BARE_PORT (no weights)"
status=0
VCS_BASE="http://127.0.0.1:$PORT" VCS_BARE_BASE="http://127.0.0.1:$BARE_PORT" VCS_AUDIO_DIR="$TMP" VCS_WEB="$ROOT/web" \
  VCS_SHOTS="${VCS_E2E_SHOTS:-$TMP/shots}" node tests/e2e/e2e.mjs || status=$?
if [ "$status" -ne 0 ]; then
  echo "e2e: server log (tail):"; tail -n 30 "$TMP/server.log"
  echo "e2e: bare server log (tail):"; tail -n 10 "$TMP/bare-server.log"
fi
exit "$status"
