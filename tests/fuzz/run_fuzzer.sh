#!/bin/sh
# Runs one libFuzzer target as a ctest entry (tests/fuzz/CMakeLists.txt):
#   run_fuzzer.sh BINARY SECONDS CORPUS SEEDS [libFuzzer options...]
# for SECONDS (SLUICE_FUZZ_SECONDS in the environment wins) over the working
# corpus CORPUS (created if missing; new inputs are added to it) and the seed
# corpus SEEDS. Exits non-zero when the target found a crash, leak, UB or a
# slow input; the input is then in the -artifact_prefix folder.
set -eu
bin=$1
seconds=${SLUICE_FUZZ_SECONDS:-$2}
corpus=$3
seeds=$4
shift 4
mkdir -p "$corpus"
for option in "$@"; do
    case $option in
    -artifact_prefix=*) mkdir -p "${option#-artifact_prefix=}" ;;
    esac
done
# Readable stack traces in the sanitizer reports (llvm-14 comes with clang-14).
if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ] && [ -x /usr/lib/llvm-14/bin/llvm-symbolizer ]; then
    export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-14/bin/llvm-symbolizer
fi
exec "$bin" -max_total_time="$seconds" "$@" "$corpus" "$seeds"
