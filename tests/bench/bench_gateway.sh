#!/bin/sh
# Gateway throughput benchmark (prints figures; not run by ctest).
#   wrk, 64 connections, POSTing generateContent (generate.lua) to
#   `sluice --server` (GatewayServer + engine in pack mode + GeminiClient + a
#   zero-latency embedded GeminiSimulator, one process), and the same against
#   a private nginx returning a fixed Gemini JSON on loopback: the machine's
#   ceiling for one HTTP exchange.
#
#   The two are measured in ROUNDS interleaved pairs (gateway, then nginx, each
#   DURATION s): on a shared virtual machine a single run swings by +-15 %
#   with the host, a pair measured back to back much less. Prints every round,
#   the medians, the ratio gateway/nginx, the gateway's CPU per request by
#   thread and its peak RSS.
# Usage: bench_gateway.sh BUILD_DIR [MAX_BATCH] [MAX_WAIT_MS]
#   env: DURATION (s per run, default 8), ROUNDS (default 3), PACKING (default pack)
set -eu
BUILD=${1:?usage: bench_gateway.sh BUILD_DIR [MAX_BATCH] [MAX_WAIT_MS]}
PACKING=${PACKING:-pack} # the engine default is auto; every figure in the README is pack
MAX_BATCH=${2:-16}
MAX_WAIT=${3:-2}
DURATION=${DURATION:-8}
ROUNDS=${ROUNDS:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d)
GATEWAY_PID=
NGINX_PID=
cleanup() {
    [ -n "$GATEWAY_PID" ] && kill "$GATEWAY_PID" 2>/dev/null || true
    [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
load=$(cut -d' ' -f1-3 /proc/loadavg)

# --- gateway -------------------------------------------------------------
cat >"$TMP/zero.json" <<'JSON'
{"simulator": {"baseLatencyMs": 0, "tokensPerSecond": 0, "jitterSigma": 0, "embedLatencyMs": 0}}
JSON
env -u GEMINI_API_KEY "$BUILD/app/sluice" --server --port 0 --config "$TMP/zero.json" --log-level warning \
    --max-batch-size "$MAX_BATCH" --max-wait-ms "$MAX_WAIT" --max-queue 8192 --packing "$PACKING" >"$TMP/gateway.out" 2>&1 &
GATEWAY_PID=$!
i=0
until grep -q "listening on" "$TMP/gateway.out"; do
    i=$((i + 1)); [ $i -gt 100 ] && { cat "$TMP/gateway.out"; exit 1; }; sleep 0.1
done
GW=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$TMP/gateway.out")

# --- nginx ceiling -------------------------------------------------------
NPORT=$(free_port)
mkdir -p "$TMP/nginx/logs"
BODY='{"candidates":[{"content":{"parts":[{"text":"Sluice light value measure every measure northern river bright clearly. Detail shape."}],"role":"model"},"finishReason":"STOP","index":0}],"modelVersion":"gemini-2.0-flash","usageMetadata":{"promptTokenCount":6,"candidatesTokenCount":22,"totalTokenCount":28}}'
cat >"$TMP/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $TMP/nginx/body;
    server {
        listen 127.0.0.1:$NPORT backlog=4096;
        location / { default_type application/json; return 200 '$BODY'; }
    }
}
CONF
nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" &
NGINX_PID=$!
i=0
until python3 -c "import socket; socket.create_connection(('127.0.0.1',$NPORT))" 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 50 ] && { cat "$TMP/nginx/logs/error.log"; exit 1; }; sleep 0.1
done
NG="http://127.0.0.1:$NPORT"

# CPU per request, per thread kind (utime + stime ticks of each thread,
# "sluice-upstream-3" counted as "sluice-upstream").
thread_ticks() {
    for t in /proc/$GATEWAY_PID/task/*; do
        printf '%s %s\n' "$(tr ' ' _ <"$t/comm")" "$(awk '{print $14 + $15}' "$t/stat")"
    done
}
run_wrk() { wrk -t2 -c64 -d"$2" -s "$HERE/generate.lua" "$1" 2>&1 | grep RESULT; }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }

# warm up connections and allocators
run_wrk "$GW" 2s >/dev/null || true
run_wrk "$NG" 2s >/dev/null || true

echo "cpus: $(nproc)  load before: $load  maxBatchSize=$MAX_BATCH maxWaitMs=$MAX_WAIT packing $PACKING, 64 connections, $ROUNDS rounds of ${DURATION}s"
: >"$TMP/rounds"
thread_ticks >"$TMP/ticks.before"
GW_REQUESTS=0
r=1
while [ $r -le "$ROUNDS" ]; do
    g=$(run_wrk "$GW" "${DURATION}s")
    n=$(run_wrk "$NG" "${DURATION}s")
    GW_REQUESTS=$((GW_REQUESTS + $(echo "$g" | field requests)))
    g_rps=$(echo "$g" | field req_per_s)
    n_rps=$(echo "$n" | field req_per_s)
    echo "$g_rps $(echo "$g" | field p50_ms) $(echo "$g" | field p99_ms) $(echo "$g" | field non2xx) $n_rps $(echo "$n" | field p99_ms)" >>"$TMP/rounds"
    printf 'round %d: gateway %s req/s p50 %s ms p99 %s ms non2xx %s | nginx %s req/s p99 %s ms | ratio %s\n' "$r" \
        "$g_rps" "$(echo "$g" | field p50_ms)" "$(echo "$g" | field p99_ms)" "$(echo "$g" | field non2xx)" \
        "$n_rps" "$(echo "$n" | field p99_ms)" "$(awk -v a="$g_rps" -v b="$n_rps" 'BEGIN {printf "%.3f", a / b}')"
    r=$((r + 1))
done
thread_ticks >"$TMP/ticks.after"
RSS_KB=$(awk '/VmHWM/ {print $2}' /proc/$GATEWAY_PID/status)

median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
M_GW=$(awk '{print $1}' "$TMP/rounds" | median)
M_P99=$(awk '{print $3}' "$TMP/rounds" | median)
M_NG=$(awk '{print $5}' "$TMP/rounds" | median)
M_RATIO=$(awk '{printf "%.4f\n", $1 / $5}' "$TMP/rounds" | median)
echo "median gateway: $M_GW req/s, p99 $M_P99 ms | median nginx: $M_NG req/s | median ratio gateway/nginx: $M_RATIO"
echo "gateway CPU per request (all threads; by thread kind):"
paste "$TMP/ticks.before" "$TMP/ticks.after" | awk -v n="$GW_REQUESTS" -v hz="$(getconf CLK_TCK)" '
    { k = $1; sub(/-[0-9]+$/, "", k); d[k] += $4 - $2; t += $4 - $2 }
    END {
        printf "  total %.1f us\n", t * 1e6 / hz / n
        for (k in d) if (d[k] > 0) printf "  %-18s %6.1f us\n", k, d[k] * 1e6 / hz / n
    }'
echo "gateway peak RSS: $((RSS_KB / 1024)) MB (simulator, client, engine and gateway in one process)"
