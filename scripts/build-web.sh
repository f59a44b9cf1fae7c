#!/usr/bin/env bash
# Builds the studio web UI into web/dist (served by `voiceclone serve` at /).
# Called by `make build` when web/package.json exists. Idempotent and quick:
#   - `npm ci` only when web/node_modules is missing or package-lock.json changed
#     (sha256 stamp kept in node_modules/.vcs-lock.sha256);
#   - type check + `vite build` only when a source/config file is newer than web/dist/index.html.
# Any failure exits non-zero with the tool's own message.
set -euo pipefail
bash "$(dirname "$0")/make-sample.sh"   # the quick clone's pre-loaded target (public/samples)
cd "$(dirname "$0")/../web"

lock_sha=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.vcs-lock.sha256
if [ ! -d node_modules ] || [ "$(cat "$stamp" 2>/dev/null)" != "$lock_sha" ]; then
  echo "web: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sha" > "$stamp"
fi

if [ -f dist/index.html ] && [ -z "$(find src index.html vite.config.ts tsconfig.json package-lock.json public \
      -newer dist/index.html -print -quit 2>/dev/null)" ]; then
  echo "web: dist is up to date"
  exit 0
fi
echo "web: type check"
npx --no-install tsc --noEmit -p .
echo "web: vite build"
npx --no-install vite build --logLevel warn
test -f dist/index.html || { echo "web: vite build produced no dist/index.html" >&2; exit 1; }
echo "web: built web/dist"
