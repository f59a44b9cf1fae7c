#!/usr/bin/env bash
# Server benchmarks, one JSON object per line:
#  1. tus upload of 100 MiB over loopback in one PATCH (curl -T streams it): MB/s and the server's
#     peak RSS growth (VmHWM after − VmRSS before). Upload-Length is 100 MiB + 1 byte so the
#     upload does not finish: this measures the transfer path (socket → .part file + fdatasync),
#     not decoding/analysis of 18 minutes of audio, which is the audio module's benchmark.
#  1b. the same bytes as one multipart POST to /api/upload/target-audio (streamed to disk, then
#     refused as INVALID_FORMAT because they are random): MB/s and peak RSS growth.
#  1c. a 10-minute 44.1 kHz stereo WAV over tus to completion (transfer, decode, analysis, store).
#  2. GET /api/models with wrk -t2 -c50 -d10s, next to nginx (nginx-light, 2 workers) serving a
#     small static file on the same machine in the same run; ratio = studio / nginx.
# Both servers are started on free loopback ports with temp folders and stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
BIN=$BUILD/voiceclone
WRK_SECONDS=${WRK_SECONDS:-10}
[ -x "$BIN" ] || { echo "bench/server: $BIN not built" >&2; exit 1; }
TMP=$(mktemp -d /tmp/vcs-bench-XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])' 2>/dev/null ||
              echo $((20000 + RANDOM % 20000)); }
wait_http() { for _ in $(seq 100); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done; return 1; }
kb() { awk -v k="$2:" '$1==k{print $2}' "/proc/$1/status"; }

PORT=$(free_port)
VCS_ACCESS_LOG=0 "$BIN" serve --host 127.0.0.1 --port "$PORT" --data "$TMP/data" 2>"$TMP/server.log" &
SPID=$!; PIDS+=("$SPID")
wait_http "http://127.0.0.1:$PORT/api/health" || { cat "$TMP/server.log" >&2; exit 1; }
BASE=http://127.0.0.1:$PORT

# ---- 1. tus 100 MiB ----
SIZE=$((100 * 1024 * 1024))
head -c "$SIZE" /dev/urandom > "$TMP/blob"
curl -s -o /dev/null "$BASE/api/models"   # warm
RSS0=$(kb "$SPID" VmRSS)
LOC=$(curl -si -X POST -H 'Tus-Resumable: 1.0.0' -H "Upload-Length: $((SIZE + 1))" \
      -H "Upload-Metadata: purpose $(printf target | base64)" "$BASE/api/uploads/" | awk 'tolower($1)=="location:"{print $2}' | tr -d '\r')
T=$(curl -s -o /dev/null -w '%{time_total} %{http_code}' -X PATCH -T "$TMP/blob" -H 'Tus-Resumable: 1.0.0' \
      -H 'Upload-Offset: 0' -H 'Content-Type: application/offset+octet-stream' -H 'Expect:' "$BASE$LOC")
HWM=$(kb "$SPID" VmHWM)
read -r SECS CODE <<<"$T"
OFF=$(curl -sI -H 'Tus-Resumable: 1.0.0' "$BASE$LOC" | awk 'tolower($1)=="upload-offset:"{print $2}' | tr -d '\r')
awk -v s="$SECS" -v size="$SIZE" -v r0="$RSS0" -v hwm="$HWM" -v code="$CODE" -v off="$OFF" 'BEGIN{
  printf "{\"bench\":\"server.tus_upload_100mb\",\"bytes\":%d,\"seconds\":%.3f,\"mb_per_s\":%.1f,\"http_status\":%d,\"offset_after\":%d,\"rss_before_mb\":%.1f,\"peak_rss_mb\":%.1f,\"peak_rss_growth_mb\":%.1f,\"target_mb_per_s\":300,\"target_growth_mb\":32}\n",
    size, s, size/1048576/s, code, off, r0/1024, hwm/1024, (hwm-r0)/1024 }'

# ---- 1b. the same 100 MiB as one multipart POST (brief's upload endpoint, streamed to disk) ----
# Random bytes: the server streams the whole body to disk, then refuses it as INVALID_FORMAT (400).
RSS0=$(kb "$SPID" VmRSS)
T=$(curl -s -o /dev/null -w '%{time_total} %{http_code}' -H 'Expect:' -F "file=@$TMP/blob" "$BASE/api/upload/target-audio")
HWM=$(kb "$SPID" VmHWM)
read -r SECS CODE <<<"$T"
awk -v s="$SECS" -v size="$SIZE" -v r0="$RSS0" -v hwm="$HWM" -v code="$CODE" 'BEGIN{
  printf "{\"bench\":\"server.multipart_upload_100mb\",\"bytes\":%d,\"seconds\":%.3f,\"mb_per_s\":%.1f,\"http_status\":%d,\"peak_rss_mb\":%.1f,\"peak_rss_growth_mb\":%.1f}\n",
    size, s, size/1048576/s, code, hwm/1024, (hwm-r0)/1024 }'
rm -f "$TMP/blob"

# ---- 1c. a real finished upload: 10 min of 44.1 kHz stereo speech-like audio over tus, to completion
#      (transfer + decode + quality analysis + mono WAV written + row) ----
sox -n -r 44100 -c 2 -b 16 "$TMP/ten_min.wav" synth 600 pinknoise vol 0.05 2>/dev/null
FSIZE=$(stat -c %s "$TMP/ten_min.wav")
RSS0=$(kb "$SPID" VmRSS)
LOC=$(curl -si -X POST -H 'Tus-Resumable: 1.0.0' -H "Upload-Length: $FSIZE" \
      -H "Upload-Metadata: purpose $(printf target | base64)" "$BASE/api/uploads/" | awk 'tolower($1)=="location:"{print $2}' | tr -d '\r')
T=$(curl -s -o /dev/null -w '%{time_total} %{http_code}' -X PATCH -T "$TMP/ten_min.wav" -H 'Tus-Resumable: 1.0.0' \
      -H 'Upload-Offset: 0' -H 'Content-Type: application/offset+octet-stream' -H 'Expect:' "$BASE$LOC")
HWM=$(kb "$SPID" VmHWM)
read -r SECS CODE <<<"$T"
awk -v s="$SECS" -v size="$FSIZE" -v r0="$RSS0" -v hwm="$HWM" -v code="$CODE" 'BEGIN{
  printf "{\"bench\":\"server.tus_finished_10min_44k_stereo\",\"bytes\":%d,\"seconds\":%.3f,\"x_realtime\":%.0f,\"http_status\":%d,\"peak_rss_mb\":%.1f,\"peak_rss_growth_mb\":%.1f,\"note\":\"growth is the decoded mono float32 buffer (10 min x 44.1k x 4 B = 106 MB), not the transfer\"}\n",
    size, s, 600/s, code, hwm/1024, (hwm-r0)/1024 }'
rm -f "$TMP/ten_min.wav"

# ---- 2. wrk: studio GET /api/models vs nginx static ----
NPORT=$(free_port)
mkdir -p "$TMP/www" "$TMP/nginx"
chmod a+rx "$TMP" "$TMP/www"   # nginx workers run as an unprivileged user when started by root
printf '{"status":"success","models":[]}' > "$TMP/www/models.json"; chmod a+r "$TMP/www/models.json"
cat > "$TMP/nginx/nginx.conf" <<NGX
worker_processes 2;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  client_body_temp_path $TMP/nginx; proxy_temp_path $TMP/nginx; fastcgi_temp_path $TMP/nginx;
  uwsgi_temp_path $TMP/nginx; scgi_temp_path $TMP/nginx;
  server { listen 127.0.0.1:$NPORT; root $TMP/www; }
}
NGX
nginx -c "$TMP/nginx/nginx.conf" -p "$TMP/nginx" 2>"$TMP/nginx/stderr" &
NPID=$!; PIDS+=("$NPID")
wait_http "http://127.0.0.1:$NPORT/models.json" || { cat "$TMP/nginx/stderr" "$TMP/nginx/error.log" >&2; exit 1; }
rps() { wrk -t2 -c50 -d"${WRK_SECONDS}s" "$1" | awk '/Requests\/sec/{print $2}'; }
STUDIO=$(rps "$BASE/api/models")
NGINX=$(rps "http://127.0.0.1:$NPORT/models.json")
awk -v a="$STUDIO" -v b="$NGINX" -v d="$WRK_SECONDS" 'BEGIN{
  printf "{\"bench\":\"server.wrk_get_models\",\"wrk\":\"-t2 -c50 -d%ss\",\"studio_req_per_s\":%.0f,\"nginx_static_req_per_s\":%.0f,\"ratio\":%.3f}\n", d, a, b, a/b }'
