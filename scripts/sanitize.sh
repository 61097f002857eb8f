#!/usr/bin/env bash
# The sanitizer build: clang with AddressSanitizer and UndefinedBehaviorSanitizer (CMake
# option QJ_SANITIZE; any UB aborts) and the lock annotations checked (-Wthread-safety as
# an error; every clang build does that), in build-asan/ (or $QJ_ASAN_BUILD_DIR); then
# tests under it. In its CI form it first checks the lock annotations of every file of the
# tree (scripts/thread-safety-check.py), since it builds only some targets.
#
#   scripts/sanitize.sh          what .ci/run runs (scripts/test.sh): the CI part below.
#   scripts/sanitize.sh --all    every target and the whole CTest suite, except the tests
#                                listed below.
# Extra arguments go to ctest.
#
# The CI part: every test that starts no daemon process and is quick sanitized: the lock
# and clock tests (and the periodic worker), cluster file and edit record, FileOps, the
# RPC server in-process, the RPC error tables and the wire field tables; the journal's storage, wire, recovery and lease-table tests; the
# journal client's writer and reader cores, recovery choice, lease client and clocks; the
# failover controller core, threaded controller, health monitor, process probe and the HA
# workload's overlap check; the namenode's namespace, edit ops, images, HA state and
# checkpointer; the metrics/HTTP server and a journal's pages in-process; qjview on real
# files (a short-lived tool process, no daemon).
# What only --all runs:
#   - every test that starts daemons (journalnodes, namenodes, failoverds: the journal
#     client's cluster tests, the namenode, failover, security and CLI tests, tailer_test,
#     reload_test, retry_cache_test): together far more than the CI part (2026-12-02, 2
#     cores shared at load 8-37: --all's ctest ran over 30 min, the CI part's ctest under
#     2 min), and on a loaded machine some of them miss their fixed RPC timeouts (format's
#     2 s) while the sanitized daemons start;
#   - the crash sweep and the simulators (in-process, but CPU-bound: under ASan they exceed
#     their CTest timeouts), and the fuzz corpus replays, which scripts/fuzz.sh covers
#     sanitized.
#
# Tests that --all does not run, each with its reason (the plain build runs them):
#   web_browser_test     (label browser)  drives headless Chromium through selenium: it
#                                         checks the pages' JavaScript, not our C++, and
#                                         Chromium is the slow part.
#   qjournal_bench_smoke (label bench)    prints throughput figures, which mean nothing
#                                         under ASan; its code paths run in the other tests.
#
# -O1 -g1: ASan's usual level, and a third quicker to compile than -O2 -g on this tree;
# -g1 still gives file:line in every report.
# QJ_WERROR=OFF: a lock-annotation violation stays an error (CMakeLists.txt), clang's other
# warnings are shown but not fatal here; the gcc build (scripts/build.sh) is the -Werror one.
set -euo pipefail
cd "$(dirname "$0")/.."
# Reports must name functions and files: tests/fuzz/ubsan.supp matches by both.
command -v llvm-symbolizer >/dev/null ||
  { echo "sanitize.sh: llvm-symbolizer is missing (package llvm: scripts/install-deps.sh)" >&2; exit 1; }
ROOT=$PWD
BUILD_DIR=${QJ_ASAN_BUILD_DIR:-build-asan}
CI_TESTS_LIST="mutex_test clock_test common_test file_ops_test rpc_server_test rpc_errors_test
  journalnode_lease_test journalnode_storage_test journalnode_wire_test journalnode_recovery_test
  jn_writer_core_test jn_reader_core_test jn_recovery_choice_test jn_lease_client_test
  jn_client_clock_test controller_core_test controller_test health_monitor_test
  process_probe_test ha_workload_test namespace_test edit_ops_test image_test ha_state_test
  checkpointer_test web_metrics_test web_journalnode_test offline_view_test field_map_test
  periodic_worker_test"
CI_TARGETS=$CI_TESTS_LIST
# CTest names are <binary>.<Suite>.<Case> (tests/CMakeLists.txt, qj_add_test).
CI_TESTS="^(($(echo $CI_TESTS_LIST | tr ' ' '|'))[.]|thread_safety_)"
all=0
if [ "${1:-}" = "--all" ]; then
  all=1
  shift
fi
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DQJ_WERROR=OFF -DQJ_SANITIZE=ON \
  -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang >/dev/null
if [ "$all" = 1 ]; then
  cmake --build "$BUILD_DIR" -j "${QJ_JOBS:-$(nproc)}"
else
  # The lock annotations of the whole tree, not only of the targets built below: every
  # translation unit through clang's front end (scripts/thread-safety-check.py). It needs
  # the generated Thrift headers, which the targets below need anyway.
  cmake --build "$BUILD_DIR" -j "${QJ_JOBS:-$(nproc)}" --target qj_thrift
  scripts/thread-safety-check.py "$BUILD_DIR" -j "${QJ_JOBS:-$(nproc)}"
  # shellcheck disable=SC2086  # a list of target names
  cmake --build "$BUILD_DIR" -j "${QJ_JOBS:-$(nproc)}" --target $CI_TARGETS
fi
# Every test process, and every daemon a test starts, inherits these: any report fails it.
# Thrift's own headers trip two recoverable UBSan checks; tests/fuzz/ubsan.supp names them
# (and explains why they are harmless), everything else halts.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:suppressions=$ROOT/tests/fuzz/ubsan.supp}
cd "$BUILD_DIR"
if [ "$all" = 1 ]; then
  ctest --output-on-failure --timeout 900 -j "${QJ_TEST_JOBS:-2}" -LE 'browser|bench' "$@"
else
  ctest --output-on-failure --no-tests=error --timeout 900 -j "${QJ_TEST_JOBS:-2}" -R "$CI_TESTS" "$@"
fi
