#!/usr/bin/env bash
# Server instructions per request, counted by callgrind: repeatable where the machine's load
# makes timings noisy and where the VM has no hardware counters for `perf stat`.
#
#   bash scripts/bench_instructions.sh [TEST] [PIPELINE] [REQUESTS] [SERVER...]
#
# Each server (default: the release atoll-server and Debian's redis-server) runs twice under
# callgrind: a 20,000-SET fill alone, then the fill and REQUESTS redis-benchmark requests of
# TEST (default get) with 50 clients, random keys over 100,000; the difference of the two
# totals, divided by REQUESTS, is what one request costs (start-up and shutdown cancel out).
# TEST may also be a whole command line, which redis-benchmark sends as it is (its
# `__rand_int__` replaced), e.g. "PFADD hll __rand_int__". SETUP, when set, holds lines of
# redis-cli arguments run after the fill, e.g. SETUP="SETBIT bits 100000 1" for GETBIT.
# SUBSCRIBER, when set, is a redis-cli command kept running (reading) beside the requests, e.g.
# SUBSCRIBER="SUBSCRIBE ch" with TEST "PUBLISH ch hello": instructions per message delivered.
# Swift's DWARF 5 debug information stops valgrind, so Atoll's binary is first copied without
# it (the symbol table stays, so `callgrind_annotate` still names functions).
set -euo pipefail
cd "$(dirname "$0")/.."
test_name=${1:-get}
pipeline=${2:-16}
requests=${3:-200000}
shift $(( $# < 3 ? $# : 3 ))
servers=("$@")
[ ${#servers[@]} -gt 0 ] || servers=(.build/release/atoll-server /usr/bin/redis-server)
# A name is one of redis-benchmark's tests (-t); a line with spaces is a command of its own.
if [[ "$test_name" == *" "* ]]; then read -ra test_args <<< "$test_name"; else test_args=(-t "$test_name"); fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Total instructions of one server run: the fill, then `count` requests.
instructions() {
    local binary=$1 count=$2 port log
    port=$(free_port)
    log="$work/run.log"
    valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" "$binary" --port "$port" --save "" > "$log" 2>&1 &
    local pid=$!
    for _ in $(seq 1 300); do timeout 2 redis-cli -p "$port" ping > /dev/null 2>&1 && break; sleep 0.3; done
    timeout 600 redis-benchmark -p "$port" -c 50 -n 20000 -t set -r 100000 -q > /dev/null 2>&1
    local line words
    while IFS= read -r line; do
        read -ra words <<< "$line"
        if [ ${#words[@]} -gt 0 ]; then timeout 60 redis-cli -p "$port" "${words[@]}" > /dev/null; fi
    done <<< "${SETUP:-}"
    local subscriber=""
    if [ -n "${SUBSCRIBER:-}" ]; then
        read -ra words <<< "$SUBSCRIBER"
        redis-cli -p "$port" "${words[@]}" > /dev/null 2>&1 &
        subscriber=$!
        sleep 1
    fi
    if [ "$count" -gt 0 ]; then
        timeout 1800 redis-benchmark -p "$port" -c 50 -n "$count" -P "$pipeline" -r 100000 -q "${test_args[@]}" > /dev/null 2>&1
    fi
    if [ -n "$subscriber" ]; then kill "$subscriber"; wait "$subscriber" 2>/dev/null || true; fi
    timeout 120 redis-cli -p "$port" shutdown nosave > /dev/null 2>&1 || kill "$pid"
    wait "$pid" || true
    grep "I   refs" "$log" | awk '{print $4}' | tr -d ,
}

for server in "${servers[@]}"; do
    binary=$server
    if [[ "$(basename "$server")" == atoll-server* ]]; then
        binary="$work/atoll-server"
        objcopy --strip-debug "$server" "$binary"
    fi
    base=$(instructions "$binary" 0)
    total=$(instructions "$binary" "$requests")
    echo "$(basename "$server") $test_name -P $pipeline: $(( (total - base) / requests )) instructions per request"
done
