#!/usr/bin/env bash
# Installs what is missing, builds, and starts a local qjournal HA cluster on loopback
# with the defaults in conf/ (or $QJ_CONF_DIR: cluster.conf and the *.flags files):
# 3 journalnodes, 2 namenodes, 2 failoverds (one namenode
# becomes active by itself). State lives in ./run (or $QJ_RUN_DIR); logs in run/logs,
# PIDs in run/pids. Re-running it starts whatever is not running. Stop it with
# scripts/stop-cluster.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
CONF_DIR=${QJ_CONF_DIR:-$ROOT/conf}
CONF=${QJ_CLUSTER_CONF:-$CONF_DIR/cluster.conf}
RUN=${QJ_RUN_DIR:-$ROOT/run}
BUILD=${QJ_BUILD_DIR:-$ROOT/build}

if [ "${QJ_SKIP_BUILD:-}" != 1 ]; then
  scripts/install-deps.sh
  scripts/build.sh
fi
mkdir -p "$RUN/logs" "$RUN/pids"

# The cluster file, read through the daemons' own parser (`qjournal conf`): a file they
# would refuse stops this script here, naming file, line and key.
QJ="$BUILD/journalnode/client/qjournal"
[ -x "$QJ" ] || { echo "no $QJ: build first (scripts/build.sh)" >&2; exit 1; }
"$QJ" --cluster_conf="$CONF" conf list >/dev/null
conf() { "$QJ" --cluster_conf="$CONF" conf get "$1"; }

alive() { [ -f "$RUN/pids/$1.pid" ] && kill -0 "$(cat "$RUN/pids/$1.pid")" 2>/dev/null; }

start() {  # name, then argv
  local name=$1; shift
  if alive "$name"; then echo "  $name already running (pid $(cat "$RUN/pids/$name.pid"))"; return; fi
  nohup "$@" >>"$RUN/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/pids/$name.pid"
}

wait_port() {  # port, name
  for _ in $(seq 1 200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    if ! alive "$2"; then echo "$2 exited: see $RUN/logs/$2.log" >&2; tail -n 20 "$RUN/logs/$2.log" >&2; exit 1; fi
    sleep 0.05
  done
  echo "$2 did not open port $1: see $RUN/logs/$2.log" >&2; exit 1
}

URI=$(conf journal.uri)
JID=${URI##*/}
HOSTS=${URI#qjournal://}; HOSTS=${HOSTS%/*}
IFS=';' read -r -a JNS <<<"$HOSTS"
PEERS=$(IFS=,; echo "${JNS[*]}")
# Status page / metrics ports, one per journalnode (journal.http_ports; empty: none).
IFS=',' read -r -a JN_HTTP <<<"$(conf journal.http_ports)"

echo "journalnodes (journal $JID):"
i=0
for hp in "${JNS[@]}"; do
  i=$((i + 1)); port=${hp##*:}
  mkdir -p "$RUN/jn$i"
  start "jn$i" "$BUILD/journalnode/journalnode" --flagfile="$CONF_DIR/journalnode.flags" \
    --journalnode_name="jn$i" --journalnode_rpc_port="$port" \
    --journalnode_edits_dir="$RUN/jn$i" --journalnode_peers="$PEERS" --cluster_conf="$CONF" \
    --journalnode_http_port="${JN_HTTP[$((i - 1))]:-0}"
done
i=0
for hp in "${JNS[@]}"; do i=$((i + 1)); wait_port "${hp##*:}" "jn$i"; done

NN_IDS=$(conf namenode.ids | tr ',' ' ')
if [ -x "$BUILD/namenode/namenode" ] && [ -n "$NN_IDS" ]; then
  first=""
  echo "namenodes:"
  for id in $NN_IDS; do
    port=$(conf "namenode.$id.rpc_port")
    args=(--cluster_conf="$CONF" --namenode_id="$id" --namenode_name_dir="$RUN/$id")
    [ -f "$CONF_DIR/namenode.flags" ] && args=(--flagfile="$CONF_DIR/namenode.flags" "${args[@]}")
    if [ ! -d "$RUN/$id" ]; then
      if [ -z "$first" ]; then
        "$BUILD/namenode/namenode" "${args[@]}" --format --tls_identity=admin >>"$RUN/logs/$id.log" 2>&1 ||
          { echo "formatting $id failed: see $RUN/logs/$id.log" >&2; exit 1; }
      else
        "$BUILD/namenode/namenode" "${args[@]}" --bootstrap_standby >>"$RUN/logs/$id.log" 2>&1 ||
          { echo "bootstrapping $id failed: see $RUN/logs/$id.log" >&2; exit 1; }
      fi
    fi
    start "$id" "$BUILD/namenode/namenode" "${args[@]}"
    wait_port "$port" "$id"
    [ -z "$first" ] && first=$id
  done
  if [ -x "$BUILD/failover/failoverd" ] && [ "$(conf failover.automatic)" != "false" ]; then
    echo "failoverds:"
    for id in $NN_IDS; do
      args=(--cluster_conf="$CONF" --namenode_id="$id")
      [ -f "$CONF_DIR/failoverd.flags" ] && args=(--flagfile="$CONF_DIR/failoverd.flags" "${args[@]}")
      start "failoverd-$id" "$BUILD/failover/failoverd" "${args[@]}"
    done
    for id in $NN_IDS; do wait_port "$(conf "namenode.$id.failoverd_port")" "failoverd-$id"; done
  fi
  # Wait for an active namenode.
  if [ -x "$BUILD/failover/haadmin" ]; then
    for _ in $(seq 1 200); do
      "$BUILD/failover/haadmin" --cluster_conf="$CONF" -getAllServiceState 2>/dev/null | grep -q active && break
      sleep 0.1
    done
  fi
fi

echo
echo "qjournal cluster on 127.0.0.1 (state in $RUN, logs in $RUN/logs):"
for f in "$RUN"/pids/*.pid; do
  n=$(basename "$f" .pid)
  if alive "$n"; then printf '  %-14s pid %-8s running\n' "$n" "$(cat "$f")"; else printf '  %-14s stopped\n' "$n"; fi
done
for hp in "${JNS[@]}"; do echo "  journalnode   $hp"; done
echo "Status pages (also /status JSON and /metrics):"
i=0
for hp in "${JNS[@]}"; do
  p=${JN_HTTP[$i]:-0}; i=$((i + 1))
  [ "$p" != 0 ] && echo "  jn$i           http://${hp%:*}:$p/"
done
for id in $(conf namenode.ids | tr ',' ' '); do
  h=$(conf "namenode.$id.host")
  p=$(conf "namenode.$id.http_port"); [ -n "$p" ] && [ "$p" != 0 ] && echo "  $id           http://$h:$p/"
  p=$(conf "namenode.$id.failoverd_http_port"); [ -n "$p" ] && [ "$p" != 0 ] && echo "  failoverd-$id http://$h:$p/"
done
if [ -x "$BUILD/failover/haadmin" ]; then "$BUILD/failover/haadmin" --cluster_conf="$CONF" -getAllServiceState || true; fi
cat <<EOM

Try:
  $BUILD/journalnode/client/qjournal --cluster_conf=$CONF status
  $BUILD/namenode/qjfs --cluster_conf=$CONF -mkdir -p /user/demo && $BUILD/namenode/qjfs --cluster_conf=$CONF -ls -R /
  $BUILD/failover/haadmin --cluster_conf=$CONF -failover nn1 nn2
Stop: scripts/stop-cluster.sh
EOM
