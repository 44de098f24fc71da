#!/usr/bin/env bash
# Builds one release product of this package: `bash scripts/build_release.sh atoll-server`.
#
# Every module is compiled without Swift's run-time exclusivity checks, SwiftNIO's included:
# in release builds they stay on by default and cost a call per access to a class's stored
# property (NIO's channel reads its lifecycle state a dozen times per request). Measured with
# callgrind, an unpipelined GET went from 15,551 to 12,129 instructions (docs/BENCHMARKS.md).
# The flag is given here, on the command line, and not as `unsafeFlags` in Package.swift, so a
# package that depends on Atoll by version still builds it as it chooses; the unit tests run in
# a debug build, where the checks stay on and report any overlapping access.
# Every script that builds into .build/release goes through here: one set of flags, so that
# switching between products does not rebuild every module.
set -euo pipefail
cd "$(dirname "$0")/.."
exec swift build -c release --product "$1" -Xswiftc -enforce-exclusivity=unchecked
