#!/usr/bin/env bash
# Job-queue throughput: 1000 empty jobs through submit → claim → run → complete (JSON line).
set -euo pipefail
cd "$(dirname "$0")/../.."
"${BUILD:-build}/voiceclone" bench jobs
