#!/usr/bin/env bash
# Configures and builds qjournal into ./build (or $QJ_BUILD_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${QJ_BUILD_DIR:-build}
JOBS=${QJ_JOBS:-$(nproc)}
WERROR=OFF
if [ "${CI:-}" = "true" ]; then WERROR=ON; fi
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQJ_WERROR="$WERROR" >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS"
