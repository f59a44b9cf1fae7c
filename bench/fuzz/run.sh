#!/usr/bin/env bash
# Long fuzzing run of the weight loaders (10 minutes; not part of make test).
exec bash "$(dirname "$0")/../../tests/fuzz/run.sh" "${FUZZ_SECONDS:-600}"
