#!/usr/bin/env bash
# The OpenAPI contract test in the API suite: see tests/contract/run.sh.
exec bash "$(dirname "$0")/../contract/run.sh"
