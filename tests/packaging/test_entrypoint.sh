#!/usr/bin/env bash
# Tests packaging/entrypoint.sh directly (no Docker engine here), and that
# packaging/docker-compose.yml is a valid Compose file.
# Usage: test_entrypoint.sh PATH_TO_SLUICE
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
entry="$root/packaging/entrypoint.sh"
sluice_bin=${1:?usage: test_entrypoint.sh PATH_TO_SLUICE}
tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT

passed=0
failed=0
check() { # description, condition...
    local what=$1; shift
    if "$@"; then passed=$((passed + 1)); echo "ok - $what"; else failed=$((failed + 1)); echo "not ok - $what"; fi
}

# A stand-in binary that records how it was started.
fake="$tmp/fake-sluice"
cat > "$fake" <<'FAKE'
#!/bin/sh
{
  echo "pid=$$"
  echo "args=$*"
  echo "host=$SLUICE_HOST"
  echo "port=$SLUICE_PORT"
  echo "token=${SLUICE_ADMIN_TOKEN:-}"
  echo "key=${GEMINI_API_KEY:-}"
} > "$OUT"
FAKE
chmod +x "$fake"

# 1. exec: the binary replaces the shell (same PID), gets --server and extra args, defaults applied.
env -i PATH="$PATH" OUT="$tmp/out1" SLUICE_BIN="$fake" SLUICE_ADMIN_TOKEN=t0ken \
    sh -c 'echo "shell=$$" > "$OUT.pid"; exec "$0" --log-level debug' "$entry" 2>"$tmp/err1"
rc=$?
check "entrypoint exits with the binary's status" test "$rc" -eq 0
check "exec keeps the PID (signals reach sluice)" test "$(sed -n 's/^pid=//p' "$tmp/out1")" = "$(sed -n 's/^shell=//p' "$tmp/out1.pid")"
check "--server and extra arguments are passed" grep -qx 'args=--server --log-level debug' "$tmp/out1"
check "SLUICE_HOST defaults to 0.0.0.0" grep -qx 'host=0.0.0.0' "$tmp/out1"
check "SLUICE_PORT defaults to 8080" grep -qx 'port=8080' "$tmp/out1"
check "offline mode is announced without an API key" grep -q 'GeminiSimulator' "$tmp/err1"

# 2. no token on a public address: refused with a clear message, status 2.
env -i PATH="$PATH" OUT="$tmp/out2" SLUICE_BIN="$fake" sh "$entry" 2>"$tmp/err2"
rc=$?
check "missing admin token on 0.0.0.0 exits 2" test "$rc" -eq 2
check "the message names SLUICE_ADMIN_TOKEN" grep -q 'SLUICE_ADMIN_TOKEN' "$tmp/err2"
check "the binary was not started" test ! -e "$tmp/out2"

# 3. loopback needs no token.
env -i PATH="$PATH" OUT="$tmp/out3" SLUICE_BIN="$fake" SLUICE_HOST=127.0.0.1 sh "$entry" 2>/dev/null
check "loopback without a token starts" grep -qx 'host=127.0.0.1' "$tmp/out3"

# 4. secrets from files.
printf 's3cret' > "$tmp/token"
printf 'AIza-test-key' > "$tmp/key"
env -i PATH="$PATH" OUT="$tmp/out4" SLUICE_BIN="$fake" SLUICE_ADMIN_TOKEN_FILE="$tmp/token" GEMINI_API_KEY_FILE="$tmp/key" \
    sh "$entry" 2>/dev/null
check "SLUICE_ADMIN_TOKEN_FILE is read" grep -qx 'token=s3cret' "$tmp/out4"
check "GEMINI_API_KEY_FILE is read" grep -qx 'key=AIza-test-key' "$tmp/out4"
env -i PATH="$PATH" OUT="$tmp/out5" SLUICE_BIN="$fake" SLUICE_ADMIN_TOKEN_FILE="$tmp/missing" sh "$entry" 2>"$tmp/err5"
rc=$?
check "an unreadable secret file exits 2 and names the file" sh -c "test $rc -eq 2 && grep -q '$tmp/missing' '$tmp/err5'"

# 5. the real binary through the entrypoint: serves /health, drains on SIGTERM, exits 0.
log="$tmp/real.log"
env -i PATH="$PATH" HOME="$tmp" SLUICE_BIN="$sluice_bin" SLUICE_HOST=127.0.0.1 SLUICE_PORT=0 \
    sh "$entry" >"$log" 2>"$tmp/real.err" &
pid=$!
pids+=("$pid")
url=""
for _ in $(seq 1 100); do
    url=$(sed -n 's/^listening on //p' "$log" | head -1)
    [ -n "$url" ] && break
    sleep 0.1
done
check "the real sluice prints its URL" test -n "$url"
if [ -n "$url" ]; then
    port=${url##*:}
    health=$(exec 3<>"/dev/tcp/127.0.0.1/$port" && printf 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3 && timeout 5 cat <&3)
    check "/health answers 200 through the entrypoint" grep -q '^HTTP/1.1 200' <<<"$health"
fi
kill -TERM "$pid"
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
wait "$pid"
rc=$?
check "SIGTERM drains and exits 0" test "$rc" -eq 0

# 6. the Compose file is valid (docker-compose config needs no engine).
if command -v docker-compose >/dev/null; then
    SLUICE_ADMIN_TOKEN=x docker-compose -f "$root/packaging/docker-compose.yml" config >"$tmp/compose.out" 2>&1
    rc=$?
    check "docker-compose config accepts packaging/docker-compose.yml" test "$rc" -eq 0
    check "compose runs sluice --server image and a locust service" sh -c "grep -q 'locustio/locust' '$tmp/compose.out' && grep -q 'packaging/Dockerfile' '$tmp/compose.out'"
else
    echo "not ok - docker-compose is not installed (packaging/install-deps.sh installs it)"
    failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
