#!/usr/bin/env bash
# Demonstrates the journal's promise on the cluster scripts/start-cluster.sh runs: on a
# scratch journal of the same 3 journalnodes, append edits with the qjournal CLI while
# journalnodes are killed with SIGKILL at random moments and restarted, then check with
# `qjournal dump` that every acknowledged edit is there, in order, with no gaps.
#
# usage: scripts/journal-chaos.sh [ROUNDS] [EDITS_PER_ROUND]     (defaults 10, 100000)
# The namenodes' journal (ns1) is not touched: this uses journal id "chaos" (formatted
# with --force on every run).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${QJ_BUILD_DIR:-$ROOT/build}
RUN=${QJ_RUN_DIR:-$ROOT/run}
ROUNDS=${1:-10}
N=${2:-100000}
Q="$BUILD/journalnode/client/qjournal"
URI=$("$Q" --cluster_conf="${QJ_CLUSTER_CONF:-${QJ_CONF_DIR:-conf}/cluster.conf}" conf get journal.uri)
URI="${URI%/*}/chaos"
for i in 1 2 3; do
  [ -f "$RUN/pids/jn$i.pid" ] || { echo "jn$i is not running: start the cluster with scripts/start-cluster.sh"; exit 1; }
done

"$Q" --journal_uri="$URI" format --force --namespace_id=99 --cluster_id=chaos
acked_last=0
for round in $(seq 1 "$ROUNDS"); do
  victim=$((RANDOM % 3 + 1))
  delay_ms=$((RANDOM % 400))
  ( sleep "$(printf '0.%03d' "$delay_ms")"
    pid=$(cat "$RUN/pids/jn$victim.pid")
    if kill -KILL "$pid" 2>/dev/null; then
      echo "  SIGKILL jn$victim after ${delay_ms} ms"
      # SIGKILL lands once an fdatasync in progress returns: wait until it is gone.
      for _ in $(seq 1 500); do kill -0 "$pid" 2>/dev/null || break; sleep 0.01; done
    fi ) &
  if out=$("$Q" --journal_uri="$URI" append --count="$N" --size=64 2>&1); then
    echo "round $round: ${out##*$'\n'}"
    last=$(sed -n 's/.*appended txids [0-9]*\.\.\([0-9]*\), committed.*/\1/p' <<<"$out")
    [ -n "$last" ] && acked_last=$last
  else
    echo "round $round: append failed (nothing in it counts as acknowledged): ${out##*$'\n'}"
  fi
  wait
  QJ_SKIP_BUILD=1 scripts/start-cluster.sh >/dev/null   # restarts the killed journalnode
done

echo "last acknowledged txid: $acked_last; dumping..."
summary=$("$Q" --journal_uri="$URI" dump --from=1 | tail -n 1)
echo "$summary"
if [[ "$summary" =~ ^([0-9]+)\ edits,\ txids\ 1\.\.([0-9]+),\ no\ gaps ]] && [ "${BASH_REMATCH[2]}" -ge "$acked_last" ]; then
  echo "OK: every acknowledged edit (1..$acked_last) is present, in order, without gaps"
else
  echo "FAILED: dump does not cover 1..$acked_last without gaps"; exit 1
fi
