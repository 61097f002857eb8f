#!/usr/bin/env bash
# A soak of every seeded simulator (tests/sim): journal_sim, journal_net_sim and lease_sim
# (3 and 5 journalnodes) over N seeds each, from --first_seed. Prints, per simulator:
# seeds, simulated events, events/s, acknowledged edits checked, violations; then every
# violation with the one command that replays it with a trace. Exit status 1 if anything
# was found.
#
#   scripts/sim-soak.sh [--seeds=N] [--first_seed=S]     (default: 10000 seeds from 1)
#
# Builds the three simulators into ./build (or $QJ_BUILD_DIR) first. The simulators run
# one after another, each single-threaded.
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=10000
FIRST=1
for arg in "$@"; do
  case "$arg" in
    --seeds=*) SEEDS=${arg#--seeds=} ;;
    --first_seed=*) FIRST=${arg#--first_seed=} ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "sim-soak.sh: unknown argument '$arg' (--seeds=N, --first_seed=S)" >&2; exit 2 ;;
  esac
done
for v in "$SEEDS" "$FIRST"; do
  if ! [[ "$v" =~ ^[1-9][0-9]*$ ]]; then
    echo "sim-soak.sh: seeds and first seed must be positive integers, got '$v'" >&2
    exit 2
  fi
done
BUILD_DIR=${QJ_BUILD_DIR:-build}
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$BUILD_DIR" -j "${QJ_JOBS:-$(nproc)}" --target journal_sim journal_net_sim lease_sim \
  >/dev/null
SIM="$BUILD_DIR/tests/sim"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

run() {  # name, command...
  local name=$1; shift
  echo "running $name: $*" >&2
  "$@" >"$OUT/$name.log" 2>&1 || true
}
run journal_sim "$SIM/journal_sim" --seeds="$SEEDS" --first_seed="$FIRST"
run journal_net_sim "$SIM/journal_net_sim" --seeds="$SEEDS" --first_seed="$FIRST"
run lease_sim "$SIM/lease_sim" --seeds="$SEEDS" --first_seed="$FIRST"
run lease_sim_5jn "$SIM/lease_sim" --seeds="$SEEDS" --first_seed="$FIRST" --journalnodes=5

# Summary lines: tests/sim/sim_runner.h (journal_*), tests/sim/lease_sim.cc (lease_sim).
printf '%-16s %8s %14s %10s %16s %10s\n' simulator seeds events events/s acked-checked violations
found=0
for name in journal_sim journal_net_sim lease_sim lease_sim_5jn; do
  log="$OUT/$name.log"
  line=$(grep -E '^(journal_sim|journal_net_sim|lease_sim): seeds ' "$log" | tail -1 || true)
  if [ -z "$line" ]; then
    printf '%-16s  did not finish; its output:\n' "$name"
    tail -5 "$log"
    found=1
    continue
  fi
  seeds=$(sed -E 's/.*: seeds ([0-9]+).*/\1/' <<<"$line")
  events=$(sed -E 's/.*[ ,]events ([0-9]+).*/\1/' <<<"$line")
  rate=$(sed -E 's/.* ([0-9]+) events\/s.*/\1/' <<<"$line")
  acked=$(grep -oE 'acknowledged edits checked [0-9]+' <<<"$line" | grep -oE '[0-9]+$' || echo -)
  viol=$(sed -E 's/.*violations ([0-9]+).*/\1/' <<<"$line")
  printf '%-16s %8s %14s %10s %16s %10s\n' "$name" "$seeds" "$events" "$rate" "$acked" "$viol"
  [ "$viol" = 0 ] || found=1
done
for name in journal_sim journal_net_sim lease_sim lease_sim_5jn; do
  if grep -q 'VIOLATION' "$OUT/$name.log"; then
    echo
    echo "$name violations (replay each with the command below it):"
    grep -A1 'VIOLATION' "$OUT/$name.log" | grep -v '^--$'
  fi
done
exit "$found"
