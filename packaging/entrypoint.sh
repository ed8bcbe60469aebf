#!/bin/sh
# ContainerEntrypoint: runs `sluice --server` as PID 1's replacement (exec), so
# SIGTERM from `docker stop` reaches sluice, which drains and exits 0.
#
# Environment (all optional except the admin token):
#   SLUICE_HOST             listen address (default 0.0.0.0 in the container)
#   SLUICE_PORT             listen port (default 8080)
#   SLUICE_ADMIN_TOKEN      bearer token for control routes; required, since
#                           the container listens on a non-loopback address
#   SLUICE_ADMIN_TOKEN_FILE file holding the token (Docker/Compose secrets)
#   GEMINI_API_KEY          Google's API key; without it the embedded
#                           GeminiSimulator answers (offline mode)
#   GEMINI_API_KEY_FILE     file holding the key
#   SLUICE_TLS_CERT, SLUICE_TLS_KEY
#                           PEM certificate chain and key: serve HTTPS (kill -HUP
#                           reloads them). Without them the entrypoint sets
#                           SLUICE_INSECURE_PLAINTEXT=1 (plain HTTP, TLS in front)
#   SLUICE_ALLOWED_HOSTS    host names clients reach the gateway by (besides
#                           localhost and the container's addresses), e.g.
#                           sluice,gateway.example.com; other Host headers
#                           get 421 (DNS-rebinding protection)
#   SLUICE_BIN              the binary (default: sluice on PATH)
#   Every other SLUICE_* variable (engine knobs such as SLUICE_MAX_BATCH_SIZE)
#   is read by sluice itself; see `sluice --help`.
# Extra arguments are passed to sluice after --server.
set -eu

read_secret() { # $1 = variable name, $2 = file variable name
    eval "file=\${$2:-}"
    if [ -n "$file" ]; then
        if [ ! -r "$file" ]; then
            echo "entrypoint: $2 names '$file', which cannot be read" >&2
            exit 2
        fi
        value=$(cat "$file")
        export "$1=$value"
    fi
}

read_secret SLUICE_ADMIN_TOKEN SLUICE_ADMIN_TOKEN_FILE
read_secret GEMINI_API_KEY GEMINI_API_KEY_FILE

export SLUICE_HOST="${SLUICE_HOST:-0.0.0.0}"
export SLUICE_PORT="${SLUICE_PORT:-8080}"

case "$SLUICE_HOST" in
    127.*|::1|localhost) ;;
    *)
        if [ -z "${SLUICE_ADMIN_TOKEN:-}" ]; then
            echo "entrypoint: SLUICE_HOST=$SLUICE_HOST is reachable from outside the container, so an admin token is required:" >&2
            echo "entrypoint: set SLUICE_ADMIN_TOKEN (or SLUICE_ADMIN_TOKEN_FILE) to a secret string" >&2
            exit 2
        fi
        # Plain HTTP beyond loopback must be asked for (sluice refuses it
        # otherwise): in a container TLS usually ends at the ingress or proxy
        # in front. Give SLUICE_TLS_CERT and SLUICE_TLS_KEY to serve HTTPS here.
        if [ -z "${SLUICE_TLS_CERT:-}" ] && [ -z "${SLUICE_INSECURE_PLAINTEXT:-}" ]; then
            export SLUICE_INSECURE_PLAINTEXT=1
            echo "entrypoint: serving plain HTTP on $SLUICE_HOST (TLS is expected in front; set SLUICE_TLS_CERT and SLUICE_TLS_KEY for HTTPS here)" >&2
        fi
        ;;
esac

if [ -z "${GEMINI_API_KEY:-}" ] && [ -z "${SLUICE_UPSTREAM:-}" ]; then
    echo "entrypoint: no GEMINI_API_KEY: the embedded GeminiSimulator will answer (offline mode)" >&2
fi

exec "${SLUICE_BIN:-sluice}" --server "$@"
