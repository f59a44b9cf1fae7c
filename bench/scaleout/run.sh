#!/usr/bin/env bash
# Scale-out benches on PostgreSQL (bench/scaleout/scaleout.py; one JSON line each): throughput
# with 1, 4, 8 worker processes, SSE latency across processes, failover time, idle worker RSS.
set -euo pipefail
cd "$(dirname "$0")/../.."
python3 bench/scaleout/scaleout.py "${BUILD:-build}"
