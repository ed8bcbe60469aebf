#!/bin/sh
# ctest entry for the official @google/genai SDK against `sluice --simulate-gemini`.
# Needs SLUICE_BIN (set by ctest). Installs the locked dependencies when missing.
set -eu
cd "$(dirname "$0")"
if [ ! -d node_modules ]; then
    npm ci --no-audit --no-fund
fi
exec node --test simulator.test.mjs
