#!/usr/bin/env bash
# Client instructions per request, counted by callgrind: AtollClient's (atoll-client-bench) and
# redis-benchmark's, doing the same requests against one Debian redis-server started here (the
# server runs natively; only the client is counted). Repeatable where timings are not.
#
#   bash scripts/bench_client_instructions.sh [TEST] [BATCH] [REQUESTS] [BENCH]
#
# TEST is set or get (default get), BATCH 1 or more (default 16), REQUESTS the count (default
# 50,000), 50 clients; BENCH the atoll-client-bench binary (default the release build, which
# this script does not build: `bash scripts/build_release.sh atoll-client-bench`). Each client
# runs twice under callgrind, with (almost) no requests, connecting only, and with REQUESTS; the
# difference, divided by REQUESTS, is what one request costs. Swift's DWARF 5 debug
# information stops valgrind, so the Swift binary is first copied without it. The bench's own
# switches pass through the environment: `ATOLL_BENCH_ON_EVENT_LOOPS=1 bash
# scripts/bench_client_instructions.sh get 1 20000` counts tasks that run on the event loops.
# Counts move by a few percent between runs (how the threads interleave under valgrind decides
# how many requests share a write and how often a thread sleeps): compare medians of a few runs.
set -euo pipefail
cd "$(dirname "$0")/.."
test_name=${1:-get}
batch=${2:-16}
requests=${3:-50000}
bench=${4:-.build/release/atoll-client-bench}
source scripts/redis_on_free_port.sh
work=$(mktemp -d)
trap 'rm -rf "$work"; kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; rm -rf "$redis_dir"' EXIT
objcopy --strip-debug "$bench" "$work/atoll-client-bench"
redis-cli -p "$port" set key:__rand_int__ xxx > /dev/null

# Total instructions of one client run.
instructions() {
    timeout 1800 valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" "$@" > "$work/run.log" 2>&1
    grep "I   refs" "$work/run.log" | awk '{print $4}' | tr -d ,
}

ours() { instructions "$work/atoll-client-bench" "$port" 50 "$1" "$batch" "$test_name"; }
theirs() { instructions redis-benchmark -p "$port" -c 50 -n "$1" -P "$batch" -t "$test_name" -q; }
base=$(ours 0); total=$(ours "$requests")
echo "atoll-client-bench $test_name batch $batch: $(( (total - base) / requests )) instructions per request"
# redis-benchmark's smallest run is one request per client.
base=$(theirs 50); total=$(theirs "$requests")
echo "redis-benchmark $test_name -P $batch: $(( (total - base) / (requests - 50) )) instructions per request"
