#!/usr/bin/env bash
# Builds Sluice (Release) and runs every test with ctest: the default set
# first, then the timed soaks (label `soak`, each a fixed run over ~20 s).
# Installs missing Debian packages first (packaging/install-deps.sh).
# Usage: bash tests/run.sh [extra ctest arguments, passed to both runs]
# Set SLUICE_PRESET=asan to run the suite under AddressSanitizer + UBSan.
# SLUICE_FUZZ=1 also runs the libFuzzer set (tests/fuzz/run.sh: its own clang
# build in build/fuzz, label `fuzz`, SLUICE_FUZZ_SECONDS per target).
# Fails when any run fails; each set runs even when an earlier one failed.
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${SLUICE_PRESET:-release}

bash packaging/install-deps.sh
cmake --preset "$preset"
cmake --build --preset "$preset" -j"$(nproc)"
status=0
ctest --preset "$preset" -j"$(nproc)" -LE soak "$@" || status=$?
ctest --preset "$preset" -j"$(nproc)" -L soak "$@" || status=$?
if [[ ${SLUICE_FUZZ:-0} == 1 ]]; then
    bash tests/fuzz/run.sh || status=$?
fi
exit "$status"
