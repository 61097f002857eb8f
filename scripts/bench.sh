#!/usr/bin/env bash
# qjournal-bench: builds what is missing, runs the benchmark against real
# journalnodes / namenodes on 127.0.0.1 (started and stopped by PID by the benchmark, in a
# temp dir), optionally runs the ZooKeeper / etcd peers, and prints the ratios and targets.
#
# Usage: scripts/bench.sh [--smoke|--quick] [--build-dir DIR] [--out FILE]
#                         [--peers FILE | --run-peers] [-- extra qjournal-bench flags]
#   --smoke      seconds of work, every figure group (CTest runs this; figures mean nothing)
#   --quick      smaller counts (100k/1M edits for start-up)
#   --peers F    a results file of scripts/peers/run.sh --out F: print qjournal/peer ratios
#   --run-peers  run scripts/peers/run.sh first (same preset) and use its results
#   --profile    profile the 256-byte commit-rate run (3 journalnodes) with perf (cpu-clock
#                sampling, DWARF call graphs; the VM has no hardware counters) and print
#                where the time goes, by process and function (needs linux-perf)
# Output: BENCH lines (one per figure), then RATIO and TARGET lines.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${QJ_BUILD_DIR:-$ROOT/build}"
MODE=full
OUT=""
PEERS=""
RUN_PEERS=0
PROFILE=0
EXTRA=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --smoke) MODE=smoke ;;
    --quick) MODE=quick ;;
    --build-dir) BUILD="$2"; shift ;;
    --out) OUT="$2"; shift ;;
    --peers) PEERS="$2"; shift ;;
    --run-peers) RUN_PEERS=1 ;;
    --profile) PROFILE=1 ;;
    --) shift; EXTRA=("$@"); break ;;
    *) echo "bench: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

BENCH_BIN="$BUILD/tests/bench/qjournal-bench"
if [[ ! -x "$BENCH_BIN" || ! -x "$BUILD/journalnode/journalnode" ]]; then
  echo "bench: building qjournal-bench, journalnode, namenode into $BUILD" >&2
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  make -C "$BUILD" -j"${QJ_JOBS:-2}" qjournal-bench journalnode >&2
  make -C "$BUILD" -j"${QJ_JOBS:-2}" namenode >&2 2>/dev/null || true
fi

BUILD="$(cd "$BUILD" && pwd)"  # absolute: the cleanup matches it against /proc/<pid>/cmdline
WORK="$(mktemp -d "${TMPDIR:-/tmp}/qj-bench.XXXXXX")"
PIDFILE="$WORK/daemons.pid"
cleanup() {
  # The benchmark stops its daemons itself; this catches what a crash left behind. Only
  # PIDs it listed, and only if they still run one of our binaries.
  local pid
  if [[ -f "$PIDFILE" ]]; then
    while read -r pid; do
      [[ -n "$pid" ]] || continue
      if grep -qaE "$BUILD/(journalnode|namenode)/" "/proc/$pid/cmdline" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
      fi
    done <"$PIDFILE"
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

FIGURES="floor,journal,startup,namenode"
if [[ ! -x "$BUILD/namenode/namenode" ]]; then
  echo "bench: no namenode binary in $BUILD: namenode figures skipped" >&2
  FIGURES="floor,journal,startup"
fi
case "$MODE" in
  smoke) ARGS=(--bench_nodes=3 --bench_payloads=256 --bench_commit_ops=2000
               --bench_latency_ops=50 --bench_tail_seconds=0.5 --bench_startup_edits=20000
               --bench_floor_ops=20 --bench_rtt_ops=200 --bench_nn_clients=1,4
               --bench_nn_ops=200) ;;
  quick) ARGS=(--bench_nodes=3,5 --bench_commit_ops=50000 --bench_latency_ops=1000
               --bench_tail_seconds=2 --bench_startup_edits=100000,1000000 --bench_nn_ops=5000) ;;
  full) ARGS=() ;;
esac

if [[ $PROFILE == 1 ]]; then
  command -v perf >/dev/null || { echo "bench: --profile needs perf (apt-get install -y linux-perf)" >&2; exit 1; }
  PERF_DATA="${OUT:-$WORK/perf}.data"
  perf record -q -e cpu-clock -F 499 --call-graph dwarf,16384 -o "$PERF_DATA" -- \
    "$BENCH_BIN" --bench_figures=journal --bench_nodes=3 --bench_payloads=256 \
    --bench_commit_ops=1000000 --bench_latency_ops=10 --bench_tail_seconds=0.1 \
    --bench_nn_clients=1 --bench_nn_ops=10 \
    --bench_work_dir="$WORK" --bench_pid_file="$PIDFILE" "${EXTRA[@]}" 2>/dev/null | grep commit_rate
  echo "== share of all samples, by process (comm) =="
  perf report -i "$PERF_DATA" --no-children --sort comm -g none --stdio 2>/dev/null | grep -E '^ +[0-9]' || true
  echo "== inclusive share by function (top 60) =="
  perf report -i "$PERF_DATA" --children --sort comm,sym -g none --stdio 2>/dev/null |
    grep -E '^ +[0-9]' | grep -vE 'clone3|start_thread|_M_run|threadMain|0x0000|_invoke|invoke_r|\(inlined\)' | head -60 || true
  echo "== self time by function (top 30) =="
  perf report -i "$PERF_DATA" --no-children --sort comm,sym -g none --stdio 2>/dev/null |
    grep -E '^ +[0-9]' | head -30 || true
  exit 0
fi

RESULTS="$WORK/results"
if [[ $RUN_PEERS == 1 ]]; then
  PEERS="$WORK/peers"
  PEER_ARGS=()
  [[ $MODE == smoke ]] && PEER_ARGS=(--smoke)
  [[ $MODE == quick ]] && PEER_ARGS=(--quick)
  "$ROOT/scripts/peers/run.sh" "${PEER_ARGS[@]}" --out "$PEERS"
fi

echo "bench: machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)," \
  "disk $(df -h "$WORK" | awk 'NR==2 {print $1}'), $(uname -r)" >&2
"$BENCH_BIN" --bench_figures="$FIGURES" --bench_work_dir="$WORK" --bench_pid_file="$PIDFILE" \
  "${ARGS[@]}" "${EXTRA[@]}" 2> >(grep -v '^I[0-9]' >&2) | tee "$RESULTS"
rc=${PIPESTATUS[0]}
[[ -n "$OUT" ]] && cp "$RESULTS" "$OUT"
if [[ $rc != 0 ]]; then
  echo "bench: qjournal-bench failed (exit $rc)" >&2
  exit "$rc"
fi

# ---- ratios and targets ------------------------------------------------------------------
cat "$RESULTS" ${PEERS:+"$PEERS"} | awk '
  function kv(line, key,   m) {
    if (match(line, " " key "=[^ ]+")) return substr(line, RSTART + length(key) + 2, RLENGTH - length(key) - 2)
    return ""
  }
  /^BENCH / {
    name = kv($0, "name"); sys = kv($0, "system"); p = kv($0, "payload"); n = kv($0, "nodes")
    if (name == "commit_rate") { rate[sys, p, n] = kv($0, "value"); cpu[sys, p, n] = kv($0, "cpu_us_per_op"); pay[p] = 1 }
    if (name == "edit_latency" && n == 3) q_p50 = kv($0, "p50_us")
    if (name == "write_latency") peer_p50[sys] = kv($0, "p50_us")
    if (name == "disk_floor" || name == "disk_floor_busy") { f = kv($0, "p50_us"); if (floor == "" || f + 0 < floor + 0) floor = f }
    if (name == "loopback_rtt") rtt = kv($0, "p50_us")
    if (name == "disk_floor_quorum") qfloor = kv($0, "p50_us")
    if (name == "tail_lag" && n == 3) tail99 = kv($0, "p99_ms")
    if (name == "standby_apply_lag") sb99 = kv($0, "p99_ms")
    if (name == "nn_mkdirs" && kv($0, "clients") == 64) mk64 = kv($0, "value")
    if (name == "jn_startup") { st[kv($0, "ops")] = kv($0, "value") }
    if (name == "jn_rss") { rss[kv($0, "ops")] = kv($0, "value") }
  }
  END {
    for (p in pay) {
      q = rate["qjournal", p, 3]; if (q == "") continue
      best = ""; bsys = ""; bcpu = ""
      for (s in peer_p50) {
        r = rate[s, p, 3]; if (r == "") continue
        printf "RATIO name=commit_rate payload=%s nodes=3 vs=%s value=%.1f qjournal=%s peer=%s\n", p, s, q / r, q, r
        printf "RATIO name=cpu_per_write payload=%s nodes=3 vs=%s value=%.1f qjournal_us=%s peer_us=%s (peer/qjournal)\n", p, s, cpu[s, p, 3] / cpu["qjournal", p, 3], cpu["qjournal", p, 3], cpu[s, p, 3]
        if (best == "" || r + 0 > best + 0) { best = r; bsys = s; bcpu = cpu[s, p, 3] }
        if (bcpu == "" || cpu[s, p, 3] + 0 < bcpu + 0) bcpu = cpu[s, p, 3]
      }
      if (p == 256 && best != "") {
        printf "TARGET name=commit_rate_256 want=>=10x_best_peer got=%.1fx (%s vs %s %s) %s\n", q / best, q, bsys, best, (q / best >= 10 ? "MET" : "MISSED")
        printf "TARGET name=cpu_per_edit_256 want=<=0.1x_best_peer got=%.2fx (%s us vs %s us) %s\n", cpu["qjournal", p, 3] / bcpu, cpu["qjournal", p, 3], bcpu, (cpu["qjournal", p, 3] / bcpu <= 0.1 ? "MET" : "MISSED")
      }
    }
    for (s in peer_p50) if (q_p50 != "") printf "RATIO name=write_latency_p50 vs=%s value=%.2f qjournal_us=%s peer_us=%s (qjournal/peer)\n", s, q_p50 / peer_p50[s], q_p50, peer_p50[s]
    if (q_p50 != "" && floor != "") {
      bound = 2 * floor + rtt
      printf "TARGET name=edit_latency_p50 want=<=%.0fus (2x disk %s [lower floor] + rtt %s) got=%sus %s (3 concurrent fsyncs, majority done: %sus)\n", bound, floor, rtt, q_p50, (q_p50 + 0 <= bound ? "MET" : "MISSED"), qfloor
    }
    if (tail99 != "") printf "TARGET name=tail_lag_p99 want=<50ms got=%sms (quorum reader) %s\n", tail99, (tail99 + 0 < 50 ? "MET" : "MISSED")
    if (sb99 != "") printf "TARGET name=standby_apply_lag_p99 want=<50ms got=%sms %s\n", sb99, (sb99 + 0 < 50 ? "MET" : "MISSED")
    if (mk64 != "") printf "TARGET name=nn_mkdirs_64_clients want=>=30000/s got=%s/s %s\n", mk64, (mk64 + 0 >= 30000 ? "MET" : "MISSED")
    base = ""; for (e in rss) if (base == "" || e + 0 < base + 0) base = e
    for (e in rss) if (e != base) printf "TARGET name=jn_rss_growth edits=%s want=flat got=%s_KiB_vs_%s_KiB_at_%s_edits (%+.1f%%)\n", e, rss[e], rss[base], base, 100 * (rss[e] - rss[base]) / rss[base]
    for (e in st) if (e + 0 >= 10000000) printf "TARGET name=jn_startup_10M want=<1000ms got=%sms %s\n", st[e], (st[e] + 0 < 1000 ? "MET" : "MISSED")
  }' | tee -a "${OUT:-/dev/null}"
