#!/bin/sh
# Two builds of `sluice --server` under the same wrk load, in interleaved
# rounds (A, B, A, B, ...), to measure a change on a machine whose speed
# drifts with its host: both see the same conditions, round by round. Same
# load as bench_gateway.sh (64 connections, pack mode, zero-latency embedded
# GeminiSimulator). Prints every round (req/s, p99, CPU per request of the
# whole process) and the medians per build. Prints figures; not run by ctest.
# PACKING=auto|pack|fanout (default pack: the load every earlier figure
# was taken with; the engine's default is auto since the quota scheduler).
# TLS_B=1: B serves HTTPS (a throwaway certificate made with openssl), so
# `ab_gateway.sh build/release build/release` measures TLS against plain.
# B_ARGS="...": extra options for B only, e.g. B_ARGS="--cache-max-bytes
# 268435456" measures the answer cache on a load that only misses (every
# prompt is distinct), against the same build with it off.
# Usage: ab_gateway.sh BUILD_A BUILD_B [ROUNDS] [DURATION_S]
set -eu
PACKING=${PACKING:-pack}
TLS_B=${TLS_B:-0}
B_ARGS=${B_ARGS:-}
A=${1:?usage: ab_gateway.sh BUILD_A BUILD_B [ROUNDS] [DURATION_S]}
B=${2:?usage: ab_gateway.sh BUILD_A BUILD_B [ROUNDS] [DURATION_S]}
ROUNDS=${3:-4}
DURATION=${4:-8}
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d)
PID_A=
PID_B=
cleanup() {
    [ -n "$PID_A" ] && kill "$PID_A" 2>/dev/null || true
    [ -n "$PID_B" ] && kill "$PID_B" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

cat >"$TMP/zero.json" <<'JSON'
{"simulator": {"baseLatencyMs": 0, "tokensPerSecond": 0, "jitterSigma": 0, "embedLatencyMs": 0}}
JSON
tls_args=
if [ "$TLS_B" = 1 ]; then
    (cd "$TMP" && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem -out cert.pem \
        -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1) >/dev/null 2>&1
    tls_args="--tls-cert $TMP/cert.pem --tls-key $TMP/key.pem"
fi
start() {
    extra=
    [ "$2" = b ] && extra="$tls_args $B_ARGS"
    # shellcheck disable=SC2086 # $extra: several arguments
    env -u GEMINI_API_KEY "$1/app/sluice" --server --port 0 --config "$TMP/zero.json" --log-level warning \
        --max-batch-size 16 --max-wait-ms 2 --max-queue 8192 --packing "$PACKING" $extra >"$TMP/$2.out" 2>&1 &
    echo $!
}
url() {
    i=0
    until grep -q "listening on" "$TMP/$1.out"; do
        i=$((i + 1)); [ $i -gt 100 ] && { cat "$TMP/$1.out" >&2; exit 1; }; sleep 0.1
    done
    sed -n 's/.*listening on \(https*:[^ ]*\).*/\1/p' "$TMP/$1.out"
}
PID_A=$(start "$A" a)
PID_B=$(start "$B" b)
URL_A=$(url a)
URL_B=$(url b)
run_wrk() { wrk -t2 -c64 -d"$2" -s "$HERE/generate.lua" "$1" 2>&1 | grep RESULT; }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

run_wrk "$URL_A" 2s >/dev/null || true
run_wrk "$URL_B" 2s >/dev/null || true
echo "A: $A"
echo "B: $B$([ "$TLS_B" = 1 ] && echo ' (HTTPS)') $B_ARGS"
echo "$ROUNDS interleaved rounds of ${DURATION}s each, 64 connections, packing $PACKING, maxBatchSize 16, maxWaitMs 2"
r=1
while [ $r -le "$ROUNDS" ]; do
    for x in A B; do
        if [ $x = A ]; then pid=$PID_A; u=$URL_A; else pid=$PID_B; u=$URL_B; fi
        t0=$(ticks "$pid")
        res=$(run_wrk "$u" "${DURATION}s")
        t1=$(ticks "$pid")
        cpu=$(awk -v t=$((t1 - t0)) -v n="$(echo "$res" | field requests)" -v hz="$(getconf CLK_TCK)" \
            'BEGIN {printf "%.1f", t * 1e6 / hz / n}')
        echo "$x $(echo "$res" | field req_per_s) $(echo "$res" | field p99_ms) $cpu" >>"$TMP/rounds"
        printf 'round %d %s: %s req/s  p99 %s ms  %s us CPU per request\n' "$r" $x \
            "$(echo "$res" | field req_per_s)" "$(echo "$res" | field p99_ms)" "$cpu"
    done
    r=$((r + 1))
done
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
for x in A B; do
    printf '%s median: %s req/s  p99 %s ms  %s us CPU per request\n' $x \
        "$(awk -v x=$x '$1 == x {print $2}' "$TMP/rounds" | median)" \
        "$(awk -v x=$x '$1 == x {print $3}' "$TMP/rounds" | median)" \
        "$(awk -v x=$x '$1 == x {print $4}' "$TMP/rounds" | median)"
done
