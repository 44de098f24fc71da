#!/usr/bin/env bash
# Atoll development/test environment setup.
#
# Idempotent and fast when everything is already in place:
#   * installs the Debian packages the tests need (reference redis-server,
#     redis-cli, Lua headers for the scripting milestone, python3-venv, strace) only
#     when `dpkg -s` reports one of them missing;
#   * makes sure the packaged redis-server is not left running as a service
#     (the test suite starts its own instances on free loopback ports);
#   * creates the Python virtualenv at .venv (repo root) if absent and installs
#     IntegrationTests/requirements.txt only when its hash changed (stamp file
#     .venv/.requirements.sha256).
#
# Usage: bash scripts/setup.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# openssl makes the TLS tests' certificates (IntegrationTests/tls_certs.py).
PACKAGES=(redis-server redis-tools liblua5.1-0-dev lua-cjson-dev lua-bitop-dev pkg-config python3-venv openssl strace)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

log() { printf '[setup] %s\n' "$*"; }

# --- Debian packages -------------------------------------------------------
missing=()
for pkg in "${PACKAGES[@]}"; do
    if ! dpkg -s "$pkg" >/dev/null 2>&1; then
        missing+=("$pkg")
    fi
done

if [ "${#missing[@]}" -gt 0 ]; then
    log "installing missing packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${PACKAGES[@]}"
else
    log "apt packages present"
fi

# --- Make sure the packaged redis-server service is not running -------------
# The suite starts its own redis-server instances; a service on 6379 is not
# needed and would only waste memory. We never start it.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet redis-server 2>/dev/null; then
    log "stopping redis-server service"
    $SUDO systemctl stop redis-server || true
    $SUDO systemctl disable redis-server >/dev/null 2>&1 || true
elif [ -x /etc/init.d/redis-server ] && /etc/init.d/redis-server status >/dev/null 2>&1; then
    log "stopping redis-server service (init.d)"
    $SUDO /etc/init.d/redis-server stop || true
fi

# --- Python virtualenv -------------------------------------------------------
VENV="$ROOT/.venv"
REQ="$ROOT/IntegrationTests/requirements.txt"
STAMP="$VENV/.requirements.sha256"

if [ ! -x "$VENV/bin/python" ]; then
    log "creating virtualenv at .venv"
    python3 -m venv "$VENV"
fi

if [ -f "$REQ" ]; then
    want="$(sha256sum "$REQ" | cut -d' ' -f1)"
    have="$(cat "$STAMP" 2>/dev/null || true)"
    if [ "$want" != "$have" ]; then
        log "installing Python requirements"
        "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQ"
        printf '%s\n' "$want" >"$STAMP"
    else
        log "Python requirements up to date"
    fi
fi

log "done (activate with: source .venv/bin/activate)"
