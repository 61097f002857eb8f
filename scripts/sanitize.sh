#!/usr/bin/env bash
# The sanitizer build (.ci/run runs it from scripts/test.sh): everything built with clang,
# AddressSanitizer and UndefinedBehaviorSanitizer (CMake option QJ_SANITIZE; any UB
# aborts), with the lock annotations checked (-Wthread-safety as an error; every clang
# build does that), in build-asan/ (or $QJ_ASAN_BUILD_DIR); then the CTest suite under it.
# -O1 -g1: ASan's usual level, and a third quicker to compile than -O2 -g on this tree;
# -g1 still gives file:line in every report.
# QJ_WERROR=OFF: a lock-annotation violation stays an error (CMakeLists.txt), clang's other
# warnings are shown but not fatal here; the gcc build (scripts/build.sh) is the -Werror one.
#
# Tests not run here, each with its reason (the plain build in scripts/test.sh runs them):
#   web_browser_test     (label browser)  drives headless Chromium through selenium: it
#                                         checks the pages' JavaScript, not our C++, and
#                                         Chromium is the slow part.
#   qjournal_bench_smoke (label bench)    prints throughput figures, which mean nothing
#                                         under ASan; its code paths run in the other tests.
# Extra arguments go to ctest (e.g. -R journalnode to run a part).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD_DIR=${QJ_ASAN_BUILD_DIR:-build-asan}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DQJ_WERROR=OFF -DQJ_SANITIZE=ON \
  -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang >/dev/null
if [ -n "${QJ_ASAN_TARGETS:-}" ]; then
  # shellcheck disable=SC2086  # a list of target names
  cmake --build "$BUILD_DIR" -j "${QJ_JOBS:-$(nproc)}" --target $QJ_ASAN_TARGETS
else
  cmake --build "$BUILD_DIR" -j "${QJ_JOBS:-$(nproc)}"
fi
# Every test process, and every daemon a test starts, inherits these: any report fails it.
# Thrift's own headers trip two recoverable UBSan checks; tests/fuzz/ubsan.supp names them
# (and explains why they are harmless), everything else halts.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:suppressions=$ROOT/tests/fuzz/ubsan.supp}
cd "$BUILD_DIR"
ctest --output-on-failure --timeout 900 -j "${QJ_TEST_JOBS:-2}" -LE 'browser|bench' "$@"
