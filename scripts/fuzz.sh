#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, clang with ASan+UBSan, in build-fuzz/ or
# $QJ_FUZZ_BUILD_DIR) and runs every one of them from the checked-in seed corpus.
#
#   scripts/fuzz.sh                 # the CI step: each target's CI_RUNS executions (115300)
#   scripts/fuzz.sh --scale=N       # N x each target's CI_RUNS executions
#   scripts/fuzz.sh --runs=N        # N executions of every target
#   scripts/fuzz.sh --seconds=S     # S seconds per target (a long run: --seconds=600)
#   scripts/fuzz.sh --only=NAME ... # just these targets (repeatable; only they are built)
#   QJ_FUZZ_SEED=N scripts/fuzz.sh  # libFuzzer's -seed (0: a random one). The bounded runs
#                                   # (the CI step, --scale, --runs) default to 1, so CI tries
#                                   # the same mutations on every commit; --seconds to random.
#
# The seed corpus (tests/fuzz/corpus/<target>) and the inputs of past findings
# (tests/fuzz/regressions/<target>) are only read; what the fuzzers find is kept
# in build-fuzz/fuzz-work/<target>/ (corpus/ grows there across runs, crash-* files land
# in artifacts/). Prints the executions and the rate per target; exits non-zero if any
# target found a crash, a leak or undefined behaviour (its input and stack are printed).
set -euo pipefail
cd "$(dirname "$0")/.."
# Reports must name functions and files: tests/fuzz/ubsan.supp matches by both.
command -v llvm-symbolizer >/dev/null ||
  { echo "fuzz.sh: llvm-symbolizer is missing (package llvm: scripts/install-deps.sh)" >&2; exit 1; }
ROOT=$(pwd)
BUILD_DIR=${QJ_FUZZ_BUILD_DIR:-build-fuzz}
SCALE=1
RUNS=""
SECONDS_PER_TARGET=""
ONLY=()
for arg in "$@"; do
  case "$arg" in
    --scale=*) SCALE=${arg#--scale=}; RUNS=""; SECONDS_PER_TARGET="" ;;
    --runs=*) RUNS=${arg#--runs=}; SECONDS_PER_TARGET="" ;;
    --seconds=*) SECONDS_PER_TARGET=${arg#--seconds=} ;;
    --only=*) ONLY+=("${arg#--only=}") ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "fuzz.sh: unknown argument '$arg' (see --help)" >&2; exit 2 ;;
  esac
done
for n in "$SCALE" "${RUNS:-1}" "${SECONDS_PER_TARGET:-1}"; do
  case "$n" in
    ''|*[!0-9]*) echo "fuzz.sh: --scale / --runs / --seconds take a positive integer" >&2; exit 2 ;;
  esac
done
case "${QJ_FUZZ_SEED:-1}" in
  ''|*[!0-9]*) echo "fuzz.sh: QJ_FUZZ_SEED takes a non-negative integer" >&2; exit 2 ;;
esac

TARGETS=(edit_record cluster_config segment jn_metadata edit_ops image journal_service namenode_service
         failover_service)
# The CI step's executions per target (--scale multiplies them): the pure decoders run
# thousands of inputs a second, the targets that build a journal directory or drive a live
# quorum (the *_service ones) tens to hundreds. Sized so that the whole run stays near
# two minutes on two cores.
declare -A CI_RUNS=([edit_record]=60000 [cluster_config]=24000 [segment]=8000 [jn_metadata]=8000
                    [edit_ops]=8000 [image]=6000 [journal_service]=800 [namenode_service]=300
                    [failover_service]=200)
if [ ${#ONLY[@]} -gt 0 ]; then TARGETS=("${ONLY[@]}"); fi

build_start=$(date +%s)
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQJ_FUZZ=ON \
  -DQJ_SIM_PLANTED=OFF -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang >/dev/null
# Only what the chosen targets need (--only: their libraries, not every one).
build_targets=()
for t in "${TARGETS[@]}"; do build_targets+=("fuzz_$t"); done
cmake --build "$BUILD_DIR" -j "${QJ_JOBS:-$(nproc)}" --target "${build_targets[@]}"
build_secs=$(( $(date +%s) - build_start ))
echo "fuzz.sh: build took ${build_secs}s"

# Leaks are findings; a failed UBSan check aborts with its stack.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:suppressions=$ROOT/tests/fuzz/ubsan.supp}
WORK="$ROOT/$BUILD_DIR/fuzz-work"
failed=()
total_runs=0
summary=""
run_start=$(date +%s)
for t in "${TARGETS[@]}"; do
  exe="$ROOT/$BUILD_DIR/tests/fuzz/fuzz_$t"
  seeds="$ROOT/tests/fuzz/corpus/$t"
  # The inputs of past findings run first with the seeds, under ASan and UBSan.
  regressions=()
  if [ -d "$ROOT/tests/fuzz/regressions/$t" ]; then regressions=("$ROOT/tests/fuzz/regressions/$t"); fi
  [ -x "$exe" ] || { echo "fuzz.sh: no target '$t'" >&2; exit 2; }
  mkdir -p "$WORK/$t/corpus" "$WORK/$t/artifacts"
  limit=(-runs="${RUNS:-$(( SCALE * ${CI_RUNS[$t]:-1000} ))}")
  seed=${QJ_FUZZ_SEED:-1}
  if [ -n "$SECONDS_PER_TARGET" ]; then
    limit=(-max_total_time="$SECONDS_PER_TARGET")
    seed=${QJ_FUZZ_SEED:-0}
  fi
  # One allocation above 32 MiB is a finding: a decoder must check a declared length
  # against the bytes it has before allocating. The namenode's RPC frames are bounded at
  # 64 MiB by configuration (RpcServerOptions), and Thrift's framed transport allocates
  # a frame's declared size up to that bound.
  malloc_mb=32
  if [ "$t" = namenode_service ]; then malloc_mb=80; fi
  log="$WORK/$t/last.log"
  t0=$(date +%s)
  rc=0
  "$exe" "${limit[@]}" -seed="$seed" -max_len=16384 -timeout=30 -rss_limit_mb=2048 -malloc_limit_mb="$malloc_mb" -print_final_stats=1 \
    -artifact_prefix="$WORK/$t/artifacts/" "$WORK/$t/corpus" "$seeds" "${regressions[@]}" \
    >"$log" 2>&1 || rc=$?
  secs=$(( $(date +%s) - t0 ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  execs=${execs:-0}
  total_runs=$((total_runs + execs))
  line=$(printf '%-16s %9s execs %5ss %7s/s' "$t" "$execs" "$secs" "$(( execs / (secs > 0 ? secs : 1) ))")
  if [ "$rc" != 0 ]; then
    failed+=("$t")
    line="$line  FAILED (exit $rc)"
    echo "---- fuzz_$t found a problem; the end of its log ($log):"
    grep -v '^#[0-9]' "$log" | tail -60
    echo "(libFuzzer's $(grep -m1 -o 'Seed: [0-9]*' "$log" || echo 'seed: unknown'): QJ_FUZZ_SEED repeats it)"
  fi
  echo "fuzz.sh: $line"
  summary+="$line"$'\n'
done
echo "fuzz.sh: executions per target:"
printf '%s' "$summary"
echo "fuzz.sh: ${total_runs} executions in $(( $(date +%s) - run_start ))s (build ${build_secs}s)"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: FAILED: ${failed[*]} (inputs in $WORK/<target>/artifacts/)"
  exit 1
fi
