#!/usr/bin/env bash
# Runs the AtollClient tests (already built by `swift build --build-tests`) once more against
# Debian's redis-server, started here on a free loopback port and stopped afterwards, so the
# client is proven against Redis 7.0 as well as against the in-process Atoll.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/redis_on_free_port.sh
ATOLL_CLIENT_TEST_URL="redis://127.0.0.1:$port" timeout 300 swift test --skip-build --filter AtollClientTests
