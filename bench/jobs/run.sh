#!/usr/bin/env bash
# Job-system benches, one JSON line each:
#   jobs_queue       1000 empty jobs through submit → claim → run → complete (voiceclone bench jobs)
#   jobs_sse_fanout  SSE_CLIENTS (1000) progress-stream clients on one job of a real server: server
#                    RSS and event delivery latency p50/p99 (bench/jobs/sse_fanout.c, built here),
#                    with the default per-connection memory and with VCS_CONN_MEMORY_KB=64
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
"$BUILD/voiceclone" bench jobs
mkdir -p "$BUILD/bench"
${CC:-gcc} -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -o "$BUILD/bench/sse_fanout" bench/jobs/sse_fanout.c
ulimit -n 8192 2>/dev/null || true
"$BUILD/bench/sse_fanout" "$BUILD/voiceclone" "${SSE_CLIENTS:-1000}" "${SSE_EVENTS:-50}" "${SSE_SECONDS:-5}"
VCS_CONN_MEMORY_KB=64 "$BUILD/bench/sse_fanout" "$BUILD/voiceclone" "${SSE_CLIENTS:-1000}" "${SSE_EVENTS:-50}" "${SSE_SECONDS:-5}"
