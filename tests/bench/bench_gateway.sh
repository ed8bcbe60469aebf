#!/bin/sh
# Gateway throughput benchmark (prints figures; not run by ctest).
#   wrk, 64 connections, DURATION s (default 10), POSTing generateContent
#   (generate.lua) to `sluice --server` (GatewayServer + engine in pack mode
#   + GeminiClient + a zero-latency embedded GeminiSimulator, one process);
#   then the same against a private nginx returning a fixed Gemini JSON on
#   loopback: the machine's ceiling. Prints req/s, p50/p99, the ratio to
#   nginx and the gateway's peak RSS.
# Usage: bench_gateway.sh BUILD_DIR [MAX_BATCH] [MAX_WAIT_MS]
set -eu
BUILD=${1:?usage: bench_gateway.sh BUILD_DIR [MAX_BATCH] [MAX_WAIT_MS]}
MAX_BATCH=${2:-16}
MAX_WAIT=${3:-2}
DURATION=${DURATION:-10}
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

# --- gateway -------------------------------------------------------------
cat >"$TMP/zero.json" <<'JSON'
{"simulator": {"baseLatencyMs": 0, "tokensPerSecond": 0, "jitterSigma": 0, "embedLatencyMs": 0}}
JSON
env -u GEMINI_API_KEY "$BUILD/app/sluice" --server --port 0 --config "$TMP/zero.json" --log-level warning \
    --max-batch-size "$MAX_BATCH" --max-wait-ms "$MAX_WAIT" --max-queue 8192 >"$TMP/gateway.out" 2>&1 &
GATEWAY_PID=$!
i=0
until grep -q "listening on" "$TMP/gateway.out"; do
    i=$((i + 1)); [ $i -gt 100 ] && { cat "$TMP/gateway.out"; exit 1; }; sleep 0.1
done
GW=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$TMP/gateway.out")
# warm up connections and the allocator
wrk -t2 -c64 -d2s -s "$HERE/generate.lua" "$GW" >/dev/null 2>&1 || true
# CPU per request, per thread kind (utime + stime ticks of each thread,
# "sluice-upstream-3" counted as "sluice-upstream"): a figure that, unlike
# req/s, barely moves when something else shares the cores.
thread_ticks() {
    for t in /proc/$GATEWAY_PID/task/*; do
        printf '%s %s\n' "$(tr ' ' _ <"$t/comm")" "$(awk '{print $14 + $15}' "$t/stat")"
    done
}
thread_ticks >"$TMP/ticks.before"
wrk -t2 -c64 -d"${DURATION}s" -s "$HERE/generate.lua" "$GW" >"$TMP/gw.txt" 2>&1
thread_ticks >"$TMP/ticks.after"
GW_REQUESTS=$(sed -n 's/.*RESULT.*requests=\([0-9]*\).*/\1/p' "$TMP/gw.txt")
HZ=$(getconf CLK_TCK)
RSS_KB=$(awk '/VmHWM/ {print $2}' /proc/$GATEWAY_PID/status)
kill "$GATEWAY_PID"; wait "$GATEWAY_PID" 2>/dev/null || true; GATEWAY_PID=

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
wrk -t2 -c64 -d2s -s "$HERE/generate.lua" "http://127.0.0.1:$NPORT" >/dev/null 2>&1 || true
wrk -t2 -c64 -d"${DURATION}s" -s "$HERE/generate.lua" "http://127.0.0.1:$NPORT" >"$TMP/nginx.txt" 2>&1
kill "$NGINX_PID"; wait "$NGINX_PID" 2>/dev/null || true; NGINX_PID=

GW_RPS=$(sed -n 's/.*RESULT req_per_s=\([0-9]*\).*/\1/p' "$TMP/gw.txt")
NG_RPS=$(sed -n 's/.*RESULT req_per_s=\([0-9]*\).*/\1/p' "$TMP/nginx.txt")
echo "cpus: $(nproc)  load before: $(cut -d' ' -f1-3 /proc/loadavg)  maxBatchSize=$MAX_BATCH maxWaitMs=$MAX_WAIT pack mode, ${DURATION}s, 64 connections"
echo "gateway: $(grep RESULT "$TMP/gw.txt")"
echo "nginx:   $(grep RESULT "$TMP/nginx.txt")"
echo "ratio gateway/nginx: $(python3 -c "print(f'{$GW_RPS/$NG_RPS:.3f}')")"
echo "gateway CPU per request (all threads; by thread kind):"
paste "$TMP/ticks.before" "$TMP/ticks.after" | awk -v n="$GW_REQUESTS" -v hz="$HZ" '
    { k = $1; sub(/-[0-9]+$/, "", k); d[k] += $4 - $2; t += $4 - $2 }
    END {
        printf "  total %.1f us\n", t * 1e6 / hz / n
        for (k in d) if (d[k] > 0) printf "  %-18s %6.1f us\n", k, d[k] * 1e6 / hz / n
    }'
echo "gateway peak RSS: $((RSS_KB / 1024)) MB (simulator, client, engine and gateway in one process)"
