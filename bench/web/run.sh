#!/usr/bin/env bash
# Web UI benchmark: bundle bytes and time to interactive per route, against a real server on
# loopback with a fresh data dir (bench/web/measure.mjs). Needs web/dist (scripts/build-web.sh).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
BIN=${BIN:-$ROOT/${BUILD:-build}/voiceclone}
[ -f web/dist/index.html ] || bash scripts/build-web.sh >&2
TMP=$(mktemp -d /tmp/vcs-bench-web.XXXXXX)
PORT=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
VCS_ACCESS_LOG=0 VCS_WEB_DIR="$ROOT/web/dist" "$BIN" serve --host 127.0.0.1 --port "$PORT" --data "$TMP/data" 2>"$TMP/log" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$PORT/api/health" >/dev/null 2>&1 && break; sleep 0.1; done
VCS_BASE="http://127.0.0.1:$PORT" VCS_WEB="$ROOT/web" node bench/web/measure.mjs
