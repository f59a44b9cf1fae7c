#!/usr/bin/env bash
# Fails when the web client's generated API types (web/src/lib/api-schema.d.ts) or their snapshot of
# the server's document (web/src/lib/openapi.json) no longer match what the server answers at
# /api/openapi.json: regenerate with `bash tools/api-types/generate.sh` (docs/API.md).
set -euo pipefail
exec bash "$(dirname "$0")/../../tools/api-types/generate.sh" --check
