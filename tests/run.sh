#!/usr/bin/env bash
# Builds Sluice (Release) and runs every test with ctest.
# Installs missing Debian packages first (packaging/install-deps.sh).
# Usage: bash tests/run.sh [extra ctest arguments]
# Set SLUICE_PRESET=asan to run the suite under AddressSanitizer + UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${SLUICE_PRESET:-release}

bash packaging/install-deps.sh
cmake --preset "$preset"
cmake --build --preset "$preset" -j"$(nproc)"
ctest --preset "$preset" -j"$(nproc)" "$@"
