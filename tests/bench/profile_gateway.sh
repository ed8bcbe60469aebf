#!/bin/sh
# Instructions per request of `sluice --server` (embedded zero-latency
# GeminiSimulator, pack mode) under valgrind --tool=callgrind, counted only
# while a bounded wrk load runs (counters zeroed after a warm-up, dumped after
# the load), so start-up and shutdown are excluded. Instruction counts are
# reproducible on a shared machine where wall-clock figures are not.
# Prints Ir, requests answered, Ir/request and the callgrind file to read with
# callgrind_annotate. Not run by ctest.
# Usage: [PACKING=auto|pack|fanout] profile_gateway.sh BUILD_DIR [OUT_FILE] [MAX_BATCH] [MAX_WAIT_MS]
set -eu
BUILD=${1:?usage: profile_gateway.sh BUILD_DIR [OUT_FILE] [MAX_BATCH] [MAX_WAIT_MS]}
OUT=${2:-callgrind.sluice.out}
MAX_BATCH=${3:-16}
MAX_WAIT=${4:-2}
SECONDS_LOAD=${SECONDS_LOAD:-6}
CONNECTIONS=${CONNECTIONS:-64}
PACKING=${PACKING:-auto}   # auto's choice depends on timing, which valgrind changes: pack or fanout compare builds
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d)
PID=
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

cat >"$TMP/zero.json" <<'JSON'
{"simulator": {"baseLatencyMs": 0, "tokensPerSecond": 0, "jitterSigma": 0, "embedLatencyMs": 0}}
JSON
env -u GEMINI_API_KEY valgrind --tool=callgrind --separate-threads=no --callgrind-out-file="$OUT" \
    "$BUILD/app/sluice" --server --port 0 --config "$TMP/zero.json" --log-level warning \
    --max-batch-size "$MAX_BATCH" --max-wait-ms "$MAX_WAIT" --max-queue 8192 --packing "$PACKING" \
    >"$TMP/gateway.out" 2>"$TMP/vg.err" &
PID=$!
i=0
until grep -q "listening on" "$TMP/gateway.out"; do
    i=$((i + 1)); [ $i -gt 600 ] && { cat "$TMP/gateway.out" "$TMP/vg.err"; exit 1; }; sleep 0.1
done
GW=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$TMP/gateway.out")
wrk -t1 -c"$CONNECTIONS" -d3s -s "$HERE/generate.lua" "$GW" >/dev/null 2>&1 || true
callgrind_control -z "$PID" >/dev/null
wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_LOAD}s" --timeout 30s -s "$HERE/generate.lua" "$GW" >"$TMP/wrk.txt" 2>&1
# wrk stops counting at the deadline; let answers still in flight finish before the dump.
sleep 2
callgrind_control -d "$PID" >/dev/null
sleep 1
kill "$PID"; wait "$PID" 2>/dev/null || true; PID=
DUMP=$(ls -t "$OUT".* 2>/dev/null | head -1)
[ -n "$DUMP" ] || DUMP=$OUT
REQ=$(sed -n 's/.*RESULT .*requests=\([0-9]*\).*/\1/p' "$TMP/wrk.txt")
IR=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$DUMP" | head -1)
[ -n "$IR" ] || IR=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$DUMP" | head -1)
echo "wrk: $(grep RESULT "$TMP/wrk.txt")"
echo "Ir=$IR requests=$REQ Ir_per_request=$((IR / REQ))  dump=$DUMP"
