#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (CTest). This is what .ci/run runs.
# Long soaks are not part of it: QJ_SOAK_SEEDS=N raises the randomized-fault seed count;
# a long fuzz run is scripts/fuzz.sh --seconds=600.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
# The fuzz targets, bounded: 8000 x each target's weight executions (see scripts/fuzz.sh;
# QJ_FUZZ_RUNS=0 skips). Before ctest, so that ctest's summary stays the closing lines.
# QJ_FUZZ_ONLY lists the targets CI runs (all are built): the decoder targets; the two
# RPC targets run with `scripts/fuzz.sh` (no --only) until a clean run of theirs is in CI.
if [ "${QJ_FUZZ_RUNS:-8000}" != 0 ]; then
  only=()
  for t in ${QJ_FUZZ_ONLY:-edit_record cluster_config segment jn_metadata}; do
    only+=("--only=$t")
  done
  scripts/fuzz.sh --runs="${QJ_FUZZ_RUNS:-8000}" "${only[@]}"
fi
# The clang build with ASan + UBSan and the lock annotations checked, and the storage,
# lock and clock tests under it (scripts/sanitize.sh, which says why only those; its --all
# runs the whole suite). QJ_SANITIZE_TESTS=0 skips. Before the plain suite, for the same
# reason as the fuzz targets.
if [ "${QJ_SANITIZE_TESTS:-1}" != 0 ]; then
  scripts/sanitize.sh
fi
BUILD_DIR=${QJ_BUILD_DIR:-build}
cd "$BUILD_DIR"
ctest --output-on-failure --timeout 600 -j "${QJ_TEST_JOBS:-2}" "$@"
