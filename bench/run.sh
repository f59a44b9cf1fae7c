#!/usr/bin/env bash
# Runs every bench/*/run.sh and prints their JSON lines (one object per line) on stdout.
# Progress and diagnostics go to stderr. BUILD (default: build) selects the build tree.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
for b in bench/*/run.sh; do
  [ -f "$b" ] || continue
  echo "bench: $b" >&2
  bash "$b" || { status=1; echo "{\"bench\":\"$b\",\"status\":\"failed\"}"; }
done
exit $status
