#!/usr/bin/env bash
# The API contract test (make test runs it through tests/api/test_openapi_contract.sh):
#   1. npm ci of the pinned checkers (package-lock.json) when tests/contract/node_modules is stale
#      (tests/contract/deps.sh);
#   2. a real `voiceclone serve` on a free loopback port with a fresh data folder, the tiny golden
#      F5-TTS/Vocos/Whisper weights installed, test kinds on; the tiny golden HuBERT/RMVPE are not
#      imported but served by a local file server (file_server.mjs) as hubert_base.pt / rmvpe.pt,
#      where the studio's real manifest sends the "rvc" pack's downloads (VCS_MODELS_BASE_URL), so
#      contract.mjs installs them with a real models_pull job and checks its download progress;
#   3. contract.mjs: every operation of its /api/openapi.json exercised, every answer validated
#      against the document with Ajv;
#   4. Redocly lint of the same document (recommended rules, tests/contract/redocly.yaml); a
#      warning fails too.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT/tests/contract"
BIN=${VCS_BIN:-$ROOT/${BUILD:-build}/voiceclone}
[ -x "$BIN" ] || { echo "contract: server binary $BIN not found (run make build)" >&2; exit 1; }

node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' || {
  echo "contract: @redocly/cli needs Node.js >= 20.19 (found $(node --version)); scripts/install-deps.sh" >&2; exit 1; }
bash deps.sh

TMP=$(mktemp -d /tmp/vcs-contract.XXXXXX)
PID=
FILES_PID=
cleanup() {
  if [ -n "$FILES_PID" ]; then kill "$FILES_PID" 2>/dev/null || true; wait "$FILES_PID" 2>/dev/null || true; fi
  if [ -n "$PID" ] && kill "$PID" 2>/dev/null; then
    for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT

# audio: ~15 s of speech (training), a 6 s reference, a 2 s tone (target)
espeak-ng -s 140 -w "$TMP/speech.wav" "Hello, this is a recording for VoiceClone Studio. I am reading a few sentences \
clearly and at a steady pace, so that the quality analysis has enough speech to measure. One, two, three, four, five."
sox "$TMP/speech.wav" "$TMP/reference.wav" trim 0 6
sox -n -r 24000 -c 1 -b 16 "$TMP/tone.wav" synth 2 sine 220 vol 0.3

mkdir -p "$TMP/data"
import_weights() { "$BIN" models import "$ROOT/$1" --to "$2" ${3:+--as "$3"} --data "$TMP/data" >/dev/null; }
import_weights tests/golden/f5tts/tiny/weights.safetensors f5tts
import_weights tests/golden/f5tts/tiny/vocab.txt f5tts
import_weights tests/golden/f5tts/tiny/pytorch_model.bin vocos
import_weights tests/golden/whisper/tiny_multilingual/model.pt whisper base.pt
import_weights tests/golden/whisper/tiny_multilingual/multilingual.tiktoken whisper

# the "rvc" pack's files under the names of docs/models-manifest.json's URLs
mkdir -p "$TMP/mirror"
cp "$ROOT/tests/golden/rvc/hubert_small/hubert_fairseq_style.pt" "$TMP/mirror/hubert_base.pt"
cp "$ROOT/tests/golden/rvc/rmvpe_small/rmvpe.safetensors" "$TMP/mirror/rmvpe.pt"
node file_server.mjs "$TMP/mirror" >"$TMP/files.port" 2>"$TMP/files.log" &
FILES_PID=$!
for _ in $(seq 100); do [ -s "$TMP/files.port" ] && break; sleep 0.1; done
FILES_PORT=$(head -n1 "$TMP/files.port")
[ -n "$FILES_PORT" ] || { echo "contract: the file server did not start" >&2; cat "$TMP/files.log" >&2; exit 1; }

PORT=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
# every weights download goes to the local file server, never to the internet
cd "$ROOT" # the server reads docs/models-manifest.json from its folder
VCS_JOBS_TEST_KINDS=1 VCS_MODELS_BASE_URL="http://127.0.0.1:$FILES_PORT" VCS_ACCESS_LOG=0 \
  "$BIN" serve --host 127.0.0.1 --port "$PORT" --data "$TMP/data" >"$TMP/server.log" 2>&1 &
PID=$!
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$PORT/api/health" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "http://127.0.0.1:$PORT/api/health" >/dev/null || { echo "contract: the server did not start" >&2; cat "$TMP/server.log" >&2; exit 1; }

status=0
VCS_BASE="http://127.0.0.1:$PORT" VCS_AUDIO_DIR="$TMP" VCS_ROOT="$ROOT" VCS_DOC_OUT="$TMP/openapi.json" \
  VCS_BIN="$BIN" VCS_DATA="$TMP/data" VCS_MIRROR_DIR="$TMP/mirror" \
  node tests/contract/contract.mjs || status=$?
if [ $status -ne 0 ]; then echo "contract: server log (tail):"; tail -n 20 "$TMP/server.log"; fi

echo "contract: redocly lint"
lint=$(cd tests/contract && npx --no-install redocly lint --config redocly.yaml "$TMP/openapi.json" 2>&1) || status=1
echo "$lint" | tail -n 30
if echo "$lint" | grep -qiE 'warning|error'; then echo "contract: the lint reported problems" >&2; status=1; fi
exit $status
