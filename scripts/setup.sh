#!/usr/bin/env bash
# Atoll development/test environment setup.
#
# Idempotent and fast when everything is already in place:
#   * installs the Debian packages the tests need (reference redis-server,
#     redis-cli, redis-sentinel, Lua headers for the scripting milestone,
#     python3-venv, strace) only when `dpkg -s` reports one of them missing;
#   * makes sure the packaged redis-server and redis-sentinel are not left
#     running as services (the test suite starts its own instances on free
#     loopback ports);
#   * creates the Python virtualenv at .venv (repo root) if absent and installs
#     IntegrationTests/requirements.txt only when its hash changed (stamp file
#     .venv/.requirements.sha256).
#
# Usage: bash scripts/setup.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# openssl makes the TLS tests' certificates (IntegrationTests/tls_certs.py); redis-sentinel
# watches Atoll in the failover test (IntegrationTests/test_sentinel_failover.py); strace
# shows the order of syncs and socket writes (IntegrationTests/test_aof_sync_order.py).
PACKAGES=(redis-server redis-tools redis-sentinel liblua5.1-0-dev lua-cjson-dev lua-bitop-dev pkg-config python3-venv openssl strace)

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

# --- Make sure the packaged services are not running -------------------------
# The suite starts its own redis-server and redis-sentinel instances; services on 6379 and
# 26379 are not needed and would only waste memory. We never start them.
for service in redis-server redis-sentinel; do
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$service" 2>/dev/null; then
        log "stopping $service service"
        $SUDO systemctl stop "$service" || true
        $SUDO systemctl disable "$service" >/dev/null 2>&1 || true
    elif [ -x "/etc/init.d/$service" ] && "/etc/init.d/$service" status >/dev/null 2>&1; then
        log "stopping $service service (init.d)"
        $SUDO "/etc/init.d/$service" stop || true
    fi
done

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
