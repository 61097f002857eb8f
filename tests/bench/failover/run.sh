#!/usr/bin/env bash
# Failover benchmark: starts its own cluster (3 journalnodes, 2 namenodes, 2 failoverds on
# 127.0.0.1, in a temp dir), runs >= 20 trials per scenario and prints p50/p99/max of the
# time from the fault to the first operation acknowledged by the new active, with the
# settings beside the figures.
#   tests/bench/failover/run.sh [--build-dir DIR] [failover_bench flags, e.g. --trials=30]
set -euo pipefail
cd "$(dirname "$0")/../../.."
BUILD=${QJ_BUILD_DIR:-build}
if [ "${1:-}" = "--build-dir" ]; then BUILD=$2; shift 2; fi
if [ "${QJ_SKIP_BUILD:-}" != 1 ]; then
  cmake -S . -B "$BUILD" >/dev/null
  make -C "$BUILD" -j2 journalnode namenode failoverd haadmin failover_bench >/dev/null
fi
exec "$BUILD/tests/bench/failover/failover_bench" "$@"
