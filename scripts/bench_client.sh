#!/usr/bin/env bash
# AtollClient's GET/SET throughput against redis-benchmark's, on one redis-server started here
# on a free loopback port: 50 concurrent clients, unpipelined and in batches of 16.
# Usage: bash scripts/bench_client.sh [requests=200000]
set -euo pipefail
cd "$(dirname "$0")/.."
requests=${1:-200000}

timeout 1200 swift build -c release --product atoll-client-bench
source scripts/redis_on_free_port.sh

for pipeline in 1 16; do
    echo "== batch $pipeline: redis-benchmark"
    timeout 300 redis-benchmark -p "$port" -c 50 -n "$requests" -P "$pipeline" -t set,get -q
    echo "== batch $pipeline: atoll-client-bench"
    timeout 300 .build/release/atoll-client-bench "$port" 50 "$requests" "$pipeline"
done
