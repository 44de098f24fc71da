#!/usr/bin/env bash
# AtollClient's GET/SET throughput against redis-benchmark's, on one redis-server started here
# on a free loopback port: 50 concurrent clients, unpipelined and in batches of 16.
# Usage: bash scripts/bench_client.sh [requests=200000]
set -euo pipefail
cd "$(dirname "$0")/.."
requests=${1:-200000}

timeout 1200 swift build -c release --product atoll-client-bench
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dir=$(mktemp -d)
redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no >"$dir/redis.log" 2>&1 &
redis_pid=$!
trap 'kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 100); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.1
done

for pipeline in 1 16; do
    echo "== batch $pipeline: redis-benchmark"
    timeout 300 redis-benchmark -p "$port" -c 50 -n "$requests" -P "$pipeline" -t set,get -q
    echo "== batch $pipeline: atoll-client-bench"
    timeout 300 .build/release/atoll-client-bench "$port" 50 "$requests" "$pipeline"
done
