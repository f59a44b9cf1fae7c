#!/usr/bin/env bash
# Long fuzzing run of the model-file loaders and audio decoding: weights, index, zip, audio, 10 minutes each
# (not part of make test).
exec bash "$(dirname "$0")/../../tests/fuzz/run.sh" "${FUZZ_SECONDS:-600}"
