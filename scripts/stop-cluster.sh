#!/usr/bin/env bash
# Stops the processes scripts/start-cluster.sh started (by their recorded PIDs):
# failoverds first, then namenodes, then journalnodes. Data in run/ is kept;
# `scripts/stop-cluster.sh --wipe` also deletes it.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${QJ_RUN_DIR:-$(pwd)/run}
# Groups by the names start-cluster.sh gives: failoverd-<id>, jn<N>; the rest are
# namenodes, whatever their ids.
stop_group() {
  local pids=()
  for f in "$RUN"/pids/*.pid; do
    [ -f "$f" ] || continue
    case "$(basename "$f" .pid)" in
      failoverd-*) [ "$1" = failoverd ] || continue ;;
      jn[0-9]*) [ "$1" = journalnode ] || continue ;;
      *) [ "$1" = namenode ] || continue ;;
    esac
    pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then kill -CONT "$pid" 2>/dev/null || true; kill -TERM "$pid"; pids+=("$pid"); echo "stopping $(basename "$f" .pid) (pid $pid)"; fi
    rm -f "$f"
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  done
}
stop_group failoverd
stop_group namenode
stop_group journalnode
if [ "${1:-}" = "--wipe" ]; then rm -rf "$RUN"; echo "removed $RUN"; fi
