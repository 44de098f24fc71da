#!/usr/bin/env bash
# AtollClient's GET/SET throughput against redis-benchmark's, on one redis-server started here
# on a free loopback port: 50 concurrent clients, unpipelined and in batches of 16. Each round
# runs both tools once per batch size, one after the other, so that on a shared machine the
# rounds can be compared pairwise; each run also prints the CPU time the tool itself used
# (user + system), which the machine's load disturbs far less than its ops/s.
# Usage: bash scripts/bench_client.sh [requests=200000] [rounds=1]
set -euo pipefail
cd "$(dirname "$0")/.."
requests=${1:-200000}
rounds=${2:-1}

timeout 1200 bash scripts/build_release.sh atoll-client-bench
source scripts/redis_on_free_port.sh

TIMEFORMAT="   cpu: %U s user, %S s system, %R s wall"
for round in $(seq "$rounds"); do
    for pipeline in 1 16; do
        echo "== round $round, batch $pipeline: redis-benchmark ($((2 * requests)) requests)"
        time timeout 300 redis-benchmark -p "$port" -c 50 -n "$requests" -P "$pipeline" -t set,get -q
        echo "== round $round, batch $pipeline: atoll-client-bench ($((2 * requests)) requests, after one PING per connection)"
        time timeout 300 .build/release/atoll-client-bench "$port" 50 "$requests" "$pipeline"
    done
done
uptime
