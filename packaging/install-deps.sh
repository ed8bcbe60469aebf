#!/usr/bin/env bash
# Installs every Debian 12 package Sluice needs to build, run and test.
# Idempotent: installs only what is missing, and does nothing (no apt-get
# update, no network) when everything is present. Must run as root, or with
# sudo available.
set -euo pipefail

packages=(
    # build
    build-essential cmake ninja-build pkg-config
    qt6-base-dev qt6-base-dev-tools qt6-httpserver-dev qt6-websockets-dev qt6-charts-dev libqt6opengl6-dev libgl-dev
    # run and test: Locust (Debian's, run as /usr/bin/locust), a virtual display,
    # promtool for /metrics, docker-compose to validate the compose file,
    # wrk and nginx for the gateway benchmark, chromium for the dashboard's
    # browser test (tests/dashboard/e2e.test.mjs)
    python3-locust xvfb xauth prometheus docker-compose wrk nginx-light chromium
    # a throwaway CA for the HTTPS tests (tests/server/tst_tlsfront.cpp)
    openssl
    # the shared upstream budget of several replicas (--budget-store redis://):
    # hiredis to build against, redis-server for the tests that start one
    libhiredis-dev redis-server
    # the offline schema check of packaging/k8s (tests/packaging)
    python3-yaml python3-jsonschema
    # the libFuzzer set (tests/fuzz): clang 14 with libFuzzer and the
    # sanitizer runtimes, llvm-14 for symbolized reports
    clang-14 libclang-rt-14-dev llvm-14
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if ((${#missing[@]} == 0)); then
    echo "install-deps: all ${#packages[@]} packages present"
    exit 0
fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null; then
        SUDO=(sudo)
    else
        echo "install-deps: missing packages: ${missing[*]}" >&2
        echo "install-deps: run this script as root (or install sudo) to install them" >&2
        exit 1
    fi
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
# Debian starts nginx on install; Sluice's benchmark starts its own instance.
if [[ " ${missing[*]} " == *" nginx-light "* ]] && command -v systemctl >/dev/null; then
    "${SUDO[@]}" systemctl disable --now nginx >/dev/null 2>&1 || true
fi
# Likewise redis-server: the tests start their own on a free port.
if [[ " ${missing[*]} " == *" redis-server "* ]] && command -v systemctl >/dev/null; then
    "${SUDO[@]}" systemctl disable --now redis-server >/dev/null 2>&1 || true
fi
echo "install-deps: done"
