#!/usr/bin/env bash
# The whole test suite: installs what it needs (scripts/setup.sh), builds the release server,
# runs the Swift unit tests, then the differential and client tests against Debian's
# redis-server. Every step is bounded in time so a hang fails instead of waiting forever.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

echo "== building atoll-server (release)"
timeout 1500 bash scripts/build_release.sh atoll-server

echo "== Swift unit tests"
timeout 1500 swift build --build-tests
timeout 600 swift test --skip-build

echo "== AtollClient tests against Debian's redis-server"
bash scripts/test_client_against_redis.sh

echo "== differential and client tests (IntegrationTests/)"
ATOLL_SERVER_BIN="$PWD/.build/release/atoll-server" timeout 1200 .venv/bin/python -m pytest IntegrationTests -q
