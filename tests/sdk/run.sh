#!/bin/sh
# ctest entry for the official @google/genai SDK tests. Arguments: the test
# files to run (default simulator.test.mjs, against `sluice --simulate-gemini`,
# which needs SLUICE_BIN; gateway.test.mjs needs SLUICE_GATEWAY_HARNESS).
# Installs the locked dependencies when missing.
set -eu
cd "$(dirname "$0")"
if [ ! -d node_modules ]; then
    npm ci --no-audit --no-fund
fi
if [ "$#" -eq 0 ]; then
    set -- simulator.test.mjs
fi
exec node --test "$@"
