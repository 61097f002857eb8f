#!/usr/bin/env bash
# Makes a cluster CA and one certificate per identity, for tls.enabled = true
# (docs/ARCHITECTURE.md, "Security"):
#   scripts/make-certs.sh DIR [CLUSTER_FILE] [EXTRA_IDENTITY...]
# writes DIR/ca.crt (+ ca.key) and DIR/<identity>.crt / .key for every identity the
# cluster file implies (jn1..jnN, each namenode id, failoverd-<id>, the admins in
# security.admins, default admin) plus the extra ones given (e.g. users of qjfs).
# Each certificate's subject CN and DNS subjectAltName are the identity. Existing files
# are kept (re-running adds what is missing). Environment:
#   QJ_CERT_DAYS=N      validity of new certificates (default 825)
#   QJ_CERT_EXPIRED=1   make the extra identities' certificates already expired (tests)
#   QJ_BUILD_DIR=DIR    the build tree whose qjournal reads the cluster file (default build/)
set -euo pipefail
if [ $# -lt 1 ]; then
  echo "usage: $0 DIR [CLUSTER_FILE] [EXTRA_IDENTITY...]" >&2
  exit 2
fi
DIR=$1
CONF=${2:-$(dirname "$0")/../conf/cluster.conf}
shift $(( $# >= 2 ? 2 : 1 ))
DAYS=${QJ_CERT_DAYS:-825}
command -v openssl >/dev/null || { echo "make-certs: openssl is not installed (scripts/install-deps.sh)" >&2; exit 1; }
[ -f "$CONF" ] || { echo "make-certs: no cluster file $CONF" >&2; exit 1; }
mkdir -p "$DIR"
umask 077

# The cluster file, read through the daemons' own parser (needs a build: scripts/build.sh).
QJ="${QJ_BUILD_DIR:-$(dirname "$0")/../build}/journalnode/client/qjournal"
[ -x "$QJ" ] || { echo "make-certs: no $QJ: build first (scripts/build.sh)" >&2; exit 1; }
"$QJ" --cluster_conf="$CONF" conf list >/dev/null
conf() { "$QJ" --cluster_conf="$CONF" conf get "$1"; }

if [ ! -f "$DIR/ca.crt" ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=qjournal cluster CA" \
    -keyout "$DIR/ca.key" -out "$DIR/ca.crt" 2>/dev/null
fi

cert() {  # identity, expired(0/1)
  local id=$1 expired=$2
  [ -f "$DIR/$id.crt" ] && return 0
  local ext; ext=$(mktemp)
  printf 'subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n' "$id" >"$ext"
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$id" -keyout "$DIR/$id.key" \
    -out "$DIR/$id.csr" 2>/dev/null
  if [ "$expired" = 1 ]; then
    # Valid for one day, two days ago: `openssl ca` takes explicit dates.
    local db; db=$(mktemp -d)
    touch "$db/index.txt"; echo 1000 >"$db/serial"
    cat >"$db/ca.cnf" <<CNF
[ca]
default_ca = c
[c]
database = $db/index.txt
serial = $db/serial
new_certs_dir = $db
default_md = sha256
policy = p
copy_extensions = none
[p]
commonName = supplied
CNF
    openssl ca -batch -config "$db/ca.cnf" -cert "$DIR/ca.crt" -keyfile "$DIR/ca.key" \
      -in "$DIR/$id.csr" -out "$DIR/$id.crt" -extfile "$ext" -notext \
      -startdate "$(date -u -d '3 days ago' +%Y%m%d%H%M%SZ)" \
      -enddate "$(date -u -d '2 days ago' +%Y%m%d%H%M%SZ)" 2>/dev/null
    rm -rf "$db"
  else
    openssl x509 -req -in "$DIR/$id.csr" -CA "$DIR/ca.crt" -CAkey "$DIR/ca.key" \
      -CAcreateserial -days "$DAYS" -sha256 -extfile "$ext" -out "$DIR/$id.crt" 2>/dev/null
  fi
  rm -f "$DIR/$id.csr" "$ext"
}

URI=$(conf journal.uri)
HOSTS=${URI#qjournal://}; HOSTS=${HOSTS%/*}
IFS=';' read -r -a JNS <<<"$HOSTS"
ids=()
for i in $(seq 1 ${#JNS[@]}); do ids+=("jn$i"); done
for nn in $(conf namenode.ids | tr ',' ' '); do ids+=("$nn" "failoverd-$nn"); done
admins=$(conf security.admins); [ -n "$admins" ] || admins=admin
for a in $(echo "$admins" | tr ',' ' '); do ids+=("$a"); done
for id in "${ids[@]}"; do cert "$id" 0; done
for id in "$@"; do cert "$id" "${QJ_CERT_EXPIRED:-0}"; done
chmod 644 "$DIR"/*.crt
echo "make-certs: CA and certificates for ${ids[*]} $* in $DIR"
