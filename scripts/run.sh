#!/usr/bin/env bash
# The README's first command: installs what building the server needs and is missing (Debian's
# Lua 5.1 headers with cjson and bit; Swift itself must be installed), builds the release
# server, and runs it with the given arguments (redis-server's style: a config file and/or
# --name value flags). Idempotent and quick when everything is already there.
#
# Usage: bash scripts/run.sh [config-file] [--port 6379 ...]
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(liblua5.1-0-dev lua-cjson-dev lua-bitop-dev pkg-config)
missing=()
for pkg in "${PACKAGES[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "[run] installing missing packages: ${missing[*]}" >&2
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2
fi

timeout 1500 bash scripts/build_release.sh atoll-server >&2
exec .build/release/atoll-server "$@"
