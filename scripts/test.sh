#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (CTest). This is what .ci/run runs.
# Long soaks are not part of it: QJ_SOAK_SEEDS=N raises the randomized-fault seed count.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
BUILD_DIR=${QJ_BUILD_DIR:-build}
cd "$BUILD_DIR"
ctest --output-on-failure --timeout 600 -j "${QJ_TEST_JOBS:-2}" "$@"
