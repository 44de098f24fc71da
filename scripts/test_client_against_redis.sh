#!/usr/bin/env bash
# Runs the AtollClient tests (already built by `swift build --build-tests`) once more against
# Debian's redis-server, started here on a free loopback port and stopped afterwards, so the
# client is proven against Redis 7.0 as well as against the in-process Atoll.
set -euo pipefail
cd "$(dirname "$0")/.."

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dir=$(mktemp -d)
redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no >"$dir/redis.log" 2>&1 &
redis_pid=$!
trap 'kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 100); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.1
done
redis-cli -p "$port" ping >/dev/null
ATOLL_CLIENT_TEST_URL="redis://127.0.0.1:$port" timeout 300 swift test --skip-build --filter AtollClientTests
