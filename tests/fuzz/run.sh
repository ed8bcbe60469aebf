#!/usr/bin/env bash
# Builds the libFuzzer targets (clang 14, ASan + UBSan; the `fuzz` preset,
# build/fuzz) and runs them all with ctest (label `fuzz`), two at a time,
# each for SLUICE_FUZZ_SECONDS (default: the cache value, 20 s).
# packaging/install-deps.sh installs what is missing (clang-14,
# libclang-rt-14-dev and llvm-14 among the rest).
# Usage: bash tests/fuzz/run.sh [extra ctest arguments]
#   SLUICE_FUZZ_SECONDS=300 bash tests/fuzz/run.sh -R jsonscanner
# What a run finds stays in build/fuzz/tests/fuzz/corpus/<target> (and seeds
# the next run); a crash, leak, UB report or slow input fails its test and
# leaves the input in build/fuzz/tests/fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/../.."

bash packaging/install-deps.sh
cmake --preset fuzz
cmake --build --preset fuzz -j"$(nproc)"
ctest --preset fuzz -j"$(nproc)" "$@"
