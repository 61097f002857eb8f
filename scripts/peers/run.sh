#!/usr/bin/env bash
# Side-by-side peers for the qjournal benchmark: Apache ZooKeeper and etcd, each
# installed from Debian's packages, run as a 3-member cluster on 127.0.0.1 with their
# default durability (fsync on), in a temp dir, driven by an efficient client:
#   ZooKeeper: tests/bench/peers/zk_driver.c  (libzookeeper_mt, async zoo_aset, many outstanding)
#   etcd:      tests/bench/peers/etcd_driver.cc (gRPC async KV.Put, many outstanding)
# Prints BENCH lines (committed writes/s for 64/256/1024-byte values; single-write p50/p99;
# CPU time per committed write of all the peer's processes, and of the client).
#
# Usage: scripts/peers/run.sh [--quick|--smoke] [--only zookeeper|etcd] [--out FILE]
#                             [--ops N] [--outstanding N] [--no-install]
# Every process it starts is stopped by PID on exit (trap EXIT).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SRC="$ROOT/tests/bench/peers"
OPS=100000
OUTSTANDING=1000
LATENCY_OPS=2000
ONLY=""
OUT=""
INSTALL=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) OPS=30000; LATENCY_OPS=1000 ;;
    --smoke) OPS=2000; LATENCY_OPS=100; OUTSTANDING=100 ;;
    --only) ONLY="$2"; shift ;;
    --out) OUT="$2"; shift ;;
    --ops) OPS="$2"; shift ;;
    --outstanding) OUTSTANDING="$2"; shift ;;
    --no-install) INSTALL=0 ;;
    *) echo "peers: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

log() { echo "peers: $*" >&2; }

# ---- install -------------------------------------------------------------------------
need_install() {
  [[ -f /usr/share/java/zookeeper.jar ]] || return 0
  [[ -f /usr/include/zookeeper/zookeeper.h ]] || return 0
  command -v etcd >/dev/null || return 0
  command -v etcdctl >/dev/null || return 0
  command -v grpc_cpp_plugin >/dev/null || return 0
  pkg-config --exists grpc++ protobuf 2>/dev/null || return 0
  return 1
}
if need_install; then
  if [[ $INSTALL == 0 ]]; then log "ZooKeeper/etcd/grpc++ missing and --no-install given"; exit 1; fi
  log "installing zookeeper, etcd and the client libraries from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update >/dev/null
  apt-get -o DPkg::Lock::Timeout=600 install -y zookeeper libzookeeper-mt-dev etcd-server \
    etcd-client libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler >/dev/null
fi

# ---- state and cleanup -----------------------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/qj-peers.XXXXXX")"
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
  if [[ -n "${KEEP_WORK:-}" ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stop_pids() {  # stop_pids pid... : TERM, wait up to 10 s, KILL; drop them from PIDS
  local pid rest=()
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "$@"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do [[ " $* " == *" $pid "* ]] || rest+=("$pid"); done
  PIDS=("${rest[@]}")
}

# Free TCP ports on 127.0.0.1: random in 20000-59999, not listening, not already handed out.
USED_PORTS=" "
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    [[ "$USED_PORTS" == *" $p "* ]] && continue
    ss -Htan "( sport = :$p )" 2>/dev/null | grep -q . && continue
    USED_PORTS+="$p "
    echo "$p"
    return
  done
}

emit() {  # BENCH lines to stdout and the results file
  local line
  while IFS= read -r line; do
    echo "$line"
    [[ -n "$OUT" && "$line" == BENCH* ]] && echo "$line" >>"$OUT"
  done
}

wait_until() {  # wait_until seconds command... : polls every 0.2 s
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# ---- drivers ---------------------------------------------------------------------------
BIN="$WORK/bin"
mkdir -p "$BIN"
build_zk_driver() {
  cc -O2 -Wall -Wextra -Werror -o "$BIN/zk_driver" "$SRC/zk_driver.c" -lzookeeper_mt -lpthread
}
build_etcd_driver() {
  mkdir -p "$BIN/gen"
  protoc -I "$SRC" --cpp_out="$BIN/gen" --grpc_out="$BIN/gen" \
    --plugin=protoc-gen-grpc="$(command -v grpc_cpp_plugin)" "$SRC/etcd_kv.proto"
  # shellcheck disable=SC2046
  c++ -std=c++17 -O2 -Wall -Wextra -I "$BIN/gen" -I "$SRC" -o "$BIN/etcd_driver" \
    "$SRC/etcd_driver.cc" "$BIN/gen/etcd_kv.pb.cc" "$BIN/gen/etcd_kv.grpc.pb.cc" \
    $(pkg-config --cflags --libs grpc++ protobuf) -lpthread
}

# ---- ZooKeeper -------------------------------------------------------------------------
zk_mode() {  # prints "leader"/"follower" for a client port
  local out
  exec 9<>"/dev/tcp/127.0.0.1/$1" || return 1
  printf 'srvr' >&9
  out="$(cat <&9)"
  exec 9<&-
  sed -n 's/^Mode: //p' <<<"$out"
}
zk_has_leader() {  # a leader and two followers, all serving
  local p leaders=0 followers=0 mode
  for p in "${ZK_CLIENT[@]}"; do
    mode="$(zk_mode "$p" 2>/dev/null)"
    [[ "$mode" == leader ]] && leaders=$((leaders + 1))
    [[ "$mode" == follower ]] && followers=$((followers + 1))
  done
  [[ $leaders == 1 && $followers == 2 ]]
}

run_zookeeper() {
  log "building zk_driver"
  build_zk_driver
  ZK_CLIENT=()
  local servers="" i pids=()
  declare -a quorum election
  for i in 1 2 3; do
    ZK_CLIENT[$i]=$(free_port); quorum[$i]=$(free_port); election[$i]=$(free_port)
    servers+="server.$i=127.0.0.1:${quorum[$i]}:${election[$i]}"$'\n'
  done
  for i in 1 2 3; do
    local d="$WORK/zk$i"
    mkdir -p "$d/data"
    echo "$i" >"$d/data/myid"
    # Defaults kept: forceSync=yes (fsync before ack), globalOutstandingLimit=1000.
    cat >"$d/zoo.cfg" <<CFG
tickTime=2000
initLimit=10
syncLimit=5
dataDir=$d/data
clientPort=${ZK_CLIENT[$i]}
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=srvr
$servers
CFG
    # The heap zkServer.sh uses by default (ZK_SERVER_HEAP=1000 MB).
    java -Xmx1000m -Dzookeeper.log.dir="$d" -cp /etc/zookeeper/conf:/usr/share/java/zookeeper.jar \
      org.apache.zookeeper.server.quorum.QuorumPeerMain "$d/zoo.cfg" >"$d/log" 2>&1 &
    PIDS+=($!); pids+=($!)
  done
  log "zookeeper: pids ${pids[*]}, client ports ${ZK_CLIENT[*]}"
  if ! wait_until 90 zk_has_leader; then
    log "zookeeper: no leader within 90 s"; tail -20 "$WORK/zk1/log" >&2; return 1
  fi
  local leader
  for i in 1 2 3; do [[ "$(zk_mode "${ZK_CLIENT[$i]}")" == leader ]] && leader=${ZK_CLIENT[$i]}; done
  log "zookeeper: leader serves 127.0.0.1:$leader; driving it"
  "$BIN/zk_driver" --server "127.0.0.1:$leader" --pids "$(IFS=,; echo "${pids[*]}")" \
    --ops "$OPS" --outstanding "$OUTSTANDING" --latency_ops "$LATENCY_OPS" --nodes 3 | emit
  local drc=${PIPESTATUS[0]}
  stop_pids "${pids[@]}"
  [[ $drc == 0 ]] || log "driver failed (exit $drc)"
  return "$drc"
}

# ---- etcd ------------------------------------------------------------------------------
etcd_leader_endpoint() {
  local ep
  for ep in "${ETCD_EPS[@]}"; do
    # simple format: endpoint, id, version, db size, is leader, is learner, ...
    if ETCDCTL_API=3 etcdctl --endpoints="$ep" --command-timeout=2s endpoint status -w simple \
        2>/dev/null | awk -F', ' '{print $5}' | grep -qx true; then
      echo "$ep"; return 0
    fi
  done
  return 1
}

run_etcd() {
  log "building etcd_driver (gRPC)"
  build_etcd_driver
  ETCD_EPS=()
  local cluster="" i pids=() client peer
  declare -a client peer
  for i in 1 2 3; do
    client[$i]=$(free_port); peer[$i]=$(free_port)
    cluster+="${cluster:+,}e$i=http://127.0.0.1:${peer[$i]}"
    ETCD_EPS+=("127.0.0.1:${client[$i]}")
  done
  for i in 1 2 3; do
    local d="$WORK/etcd$i"
    mkdir -p "$d"
    # Defaults kept: fsync of the WAL before commit (no --unsafe-no-fsync), snapshot-count.
    etcd --name "e$i" --data-dir "$d/data" \
      --listen-client-urls "http://127.0.0.1:${client[$i]}" \
      --advertise-client-urls "http://127.0.0.1:${client[$i]}" \
      --listen-peer-urls "http://127.0.0.1:${peer[$i]}" \
      --initial-advertise-peer-urls "http://127.0.0.1:${peer[$i]}" \
      --initial-cluster "$cluster" --initial-cluster-state new \
      --initial-cluster-token qjbench --logger zap --log-level warn >"$d/log" 2>&1 &
    PIDS+=($!); pids+=($!)
  done
  log "etcd: pids ${pids[*]}, client endpoints ${ETCD_EPS[*]}"
  if ! wait_until 60 etcd_leader_endpoint; then
    log "etcd: no leader within 60 s"; tail -20 "$WORK/etcd1/log" >&2; return 1
  fi
  local leader
  leader="$(etcd_leader_endpoint)"
  log "etcd: leader serves $leader; driving it"
  "$BIN/etcd_driver" --server "$leader" --pids "$(IFS=,; echo "${pids[*]}")" \
    --ops "$OPS" --outstanding "$OUTSTANDING" --latency_ops "$LATENCY_OPS" --nodes 3 | emit
  local drc=${PIPESTATUS[0]}
  stop_pids "${pids[@]}"
  [[ $drc == 0 ]] || log "driver failed (exit $drc)"
  return "$drc"
}

[[ -n "$OUT" ]] && : >"$OUT"
rc=0
if [[ -z "$ONLY" || "$ONLY" == zookeeper ]]; then run_zookeeper || rc=1; fi
if [[ -z "$ONLY" || "$ONLY" == etcd ]]; then run_etcd || rc=1; fi
exit $rc
