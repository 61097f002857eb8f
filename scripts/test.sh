#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (CTest). This is what .ci/run runs.
# Long soaks are not part of it: QJ_SOAK_SEEDS=N raises the randomized-fault seed count;
# a long fuzz run is scripts/fuzz.sh --seconds=600.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# The C++ layout first: it takes seconds and names the files to run scripts/format.sh on.
scripts/format.sh --check
scripts/build.sh
# Every fuzz target, bounded: each runs its CI_RUNS executions from scripts/fuzz.sh
# (115300 in all; QJ_FUZZ_SCALE=N multiplies them, QJ_FUZZ_SCALE=0 skips the step). Any
# crash, leak or undefined behaviour fails the run here. Before ctest, so that ctest's
# summary stays the closing lines.
if [ "${QJ_FUZZ_SCALE:-1}" != 0 ]; then
  scripts/fuzz.sh --scale="${QJ_FUZZ_SCALE:-1}"
fi
# The clang build with ASan + UBSan and the lock annotations checked, and every test that
# starts no daemon under it (scripts/sanitize.sh, which lists them and says why only those;
# its --all runs the whole suite, and is not run here). QJ_SANITIZE_TESTS=0 skips. Before
# the plain suite, for the same reason as the fuzz targets.
if [ "${QJ_SANITIZE_TESTS:-1}" != 0 ]; then
  scripts/sanitize.sh
fi
BUILD_DIR=${QJ_BUILD_DIR:-build}
cd "$BUILD_DIR"
ctest --output-on-failure --timeout 600 -j "${QJ_TEST_JOBS:-2}" "$@"
