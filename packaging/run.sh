#!/usr/bin/env bash
# Builds Sluice (Release) and runs it: the desktop console when a display is
# available, otherwise the headless gateway (`sluice --server`).
# Installs missing Debian packages first (packaging/install-deps.sh).
# Usage: bash packaging/run.sh [sluice options]
set -euo pipefail
cd "$(dirname "$0")/.."

bash packaging/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)"

if [[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]]; then
    exec ./build/release/app/sluice "$@"
else
    echo "run: no display found; starting the headless gateway (sluice --server)"
    exec ./build/release/app/sluice --server "$@"
fi
