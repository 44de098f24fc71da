#!/usr/bin/env bash
# AtollClient's GET/SET throughput against redis-benchmark's, on one redis-server started here
# on a free loopback port: 50 concurrent clients, unpipelined and in batches of 16. Each round
# runs both tools once per batch size, one after the other, so that on a shared machine the
# rounds can be compared pairwise; each run also prints the CPU time the tool itself used
# (user + system), which the machine's load disturbs far less than its ops/s.
# MODES says how the client's 50 tasks run: `tasks` (default), plain tasks on the global
# executor; `loops`, tasks that prefer the client's event loops (`EventLoopTaskExecutor`, as
# handlers of a SwiftNIO server would call the client); `tasks,loops`, both in each round.
# redis-benchmark's progress lines are left out; its summary lines are kept.
# Usage: bash scripts/bench_client.sh [requests=200000] [rounds=1] [modes=tasks]
set -euo pipefail
cd "$(dirname "$0")/.."
requests=${1:-200000}
rounds=${2:-1}
modes=${3:-tasks}

timeout 1200 bash scripts/build_release.sh atoll-client-bench
source scripts/redis_on_free_port.sh

TIMEFORMAT="   cpu: %U s user, %S s system, %R s wall"
for round in $(seq "$rounds"); do
    for pipeline in 1 16; do
        echo "== round $round, batch $pipeline: redis-benchmark ($((2 * requests)) requests)"
        time timeout 300 redis-benchmark -p "$port" -c 50 -n "$requests" -P "$pipeline" -t set,get -q \
            | tr '\r' '\n' | grep "requests per second"
        for mode in ${modes//,/ }; do
            echo "== round $round, batch $pipeline: atoll-client-bench, $mode ($((2 * requests)) requests, after one PING per connection)"
            loops=0
            [ "$mode" = loops ] && loops=1
            time ATOLL_BENCH_ON_EVENT_LOOPS=$loops timeout 300 .build/release/atoll-client-bench "$port" 50 "$requests" "$pipeline"
        done
    done
done
uptime
