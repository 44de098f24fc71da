#!/usr/bin/env bash
# Builds the release server and runs the side-by-side benchmark (scripts/bench.py) against
# Debian's redis-server. Extra arguments go to bench.py, e.g. `--rounds 5 --markdown`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
timeout 1500 bash scripts/build_release.sh atoll-server
exec python3 scripts/bench.py "$@"
