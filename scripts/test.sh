#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (CTest). This is what .ci/run runs.
# Long soaks are not part of it: QJ_SOAK_SEEDS=N raises the randomized-fault seed count;
# a long fuzz run is scripts/fuzz.sh --seconds=600.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
# The fuzz targets, bounded: 5000 x each target's weight executions (120000 in all, see
# scripts/fuzz.sh; QJ_FUZZ_RUNS=0 skips). Before ctest, so that ctest's summary stays the
# closing lines.
if [ "${QJ_FUZZ_RUNS:-5000}" != 0 ]; then
  scripts/fuzz.sh --runs="${QJ_FUZZ_RUNS:-5000}"
fi
BUILD_DIR=${QJ_BUILD_DIR:-build}
cd "$BUILD_DIR"
ctest --output-on-failure --timeout 600 -j "${QJ_TEST_JOBS:-2}" "$@"
