#!/usr/bin/env bash
# The contract test's pinned checkers (Ajv, Redocly: package-lock.json): npm ci when
# tests/contract/node_modules is missing or older than the lock file (sha256 stamp). Called by
# tests/contract/run.sh; .ci/run calls it beside the C build, so the download overlaps compiling.
set -euo pipefail
cd "$(dirname "$0")"
lock_sha=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.vcs-lock.sha256 2>/dev/null)" != "$lock_sha" ]; then
  echo "contract: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sha" > node_modules/.vcs-lock.sha256
fi
