// The cluster file (conf/cluster.conf): one file that every daemon and tool reads.
//
// Format: `key = value` lines; `#` starts a comment; blank lines ignored. Keys:
//   namespace.id, cluster.id, journal.uri (qjournal://h:p;h:p;h:p/<journal id>),
//   namenode.ids (comma list), namenode.<id>.host, namenode.<id>.rpc_port,
//   namenode.<id>.failoverd_port, namenode.<id>.http_port (optional),
//   namenode.<id>.failoverd_http_port (optional), journal.http_ports (optional, one per
//   journalnode in journal.uri order),
//   failover.automatic (true/false), lease.duration_ms, lease.drift, lease.margin_ms,
//   lease.renew_interval_ms, lease.acquire_interval_ms, health.interval_ms,
//   health.timeout_ms, health.journal_stall_ms; security and limits (docs/ARCHITECTURE.md,
//   "Security"): tls.enabled, tls.ca_file, tls.cert_dir, security.admins, security.superusers,
//   rpc.max_connections, rpc.idle_timeout_ms, rpc.worker_threads, rpc.io_threads. Any other key is
//   an error naming the file, line and key (a typo must not silently leave a default in place); so
//   is a key set twice.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace qj {

struct HostPort {
  std::string host;
  int port = 0;
  std::string ToString() const { return host + ":" + std::to_string(port); }
  bool operator==(const HostPort& o) const { return host == o.host && port == o.port; }
};

// Parses "host:port" (port 1..65535).
Result<HostPort> ParseHostPort(const std::string& s);

struct JournalUri {
  std::vector<HostPort> journalnodes;
  std::string journal_id;
};

// Parses qjournal://host:port;host:port;.../journalId (an odd count >= 1 of nodes).
Result<JournalUri> ParseJournalUri(const std::string& uri);

struct NamenodeInfo {
  std::string id;
  std::string host;
  int rpc_port = 0;
  int failoverd_port = 0;
  int http_port = 0;            // the namenode's status pages; 0 = none
  int failoverd_http_port = 0;  // its failoverd's status pages; 0 = none
  HostPort rpc() const { return HostPort{host, rpc_port}; }
  HostPort failoverd() const { return HostPort{host, failoverd_port}; }
};

// Who may do what, and how RPC endpoints authenticate (docs/ARCHITECTURE.md, "Security").
// Identities are certificate names (subject CN or a DNS SAN): journalnode i of journal.uri
// (from 1) is "jn<i>", namenode <id> is "<id>", its failover controller "failoverd-<id>",
// operators are listed in security.admins. Daemon and tool certificates live in
// tls.cert_dir as <identity>.crt / <identity>.key (scripts/make-certs.sh makes them).
struct SecurityConfig {
  bool tls_enabled = false;
  std::string ca_file;   // the cluster CA; peers must present a certificate it signed
  std::string cert_dir;  // <identity>.crt and <identity>.key
  std::vector<std::string> admins = {"admin"};
  // With TLS on, namenode clients with these identities are HDFS superusers.
  std::vector<std::string> superusers;
  // Per server: connections beyond this are closed at once (with a log line); a
  // connection that sends nothing for idle_timeout_ms is closed.
  int max_connections = 1024;
  int64_t idle_timeout_ms = 120000;
  // Per server: the most threads running calls at once, and the threads doing socket I/O
  // (rpc.h, ServerOptions).
  int worker_threads = 256;
  int io_threads = 1;

  std::string CertFile(const std::string& identity) const {
    return cert_dir + "/" + identity + ".crt";
  }
  std::string KeyFile(const std::string& identity) const {
    return cert_dir + "/" + identity + ".key";
  }
};

struct ClusterConfig {
  int64_t namespace_id = 0;
  std::string cluster_id;
  JournalUri journal;
  // HTTP port of each journalnode in `journal` order (0 = none); empty when not set.
  std::vector<int> journal_http_ports;
  std::vector<NamenodeInfo> namenodes;
  bool automatic_failover = true;
  int64_t lease_duration_ms = 3000;
  double lease_drift = 0.05;
  int64_t lease_margin_ms = 200;
  int64_t health_interval_ms = 200;
  int64_t health_timeout_ms = 1000;
  // The namenode reports itself unhealthy when, active, its oldest edit not yet
  // acknowledged by a journal majority is older than this, or, standby, no read from a
  // majority has succeeded for this long (failover/controller_core.h: "Hysteresis").
  int64_t health_journal_stall_ms = 1000;
  // failoverd: 0 = not set (failoverd's flag, else its default, decides).
  int64_t lease_renew_interval_ms = 0;
  int64_t lease_acquire_interval_ms = 0;

  SecurityConfig security;

  // Every key the file sets, with its value as written (after validation of the whole
  // file): what `qjournal conf get` prints, so that scripts read the cluster file through
  // this parser instead of parsing it again.
  std::map<std::string, std::string> values;

  // Identities (SecurityConfig): "jn<index+1>" for journal.journalnodes[index].
  static std::string JournalnodeIdentity(size_t index) { return "jn" + std::to_string(index + 1); }
  static std::string FailoverdIdentity(const std::string& namenode_id) {
    return "failoverd-" + namenode_id;
  }

  // The namenode with this id, or nullptr.
  const NamenodeInfo* FindNamenode(const std::string& id) const;
};

// Reads and validates a cluster file. Errors name the file and line.
Result<ClusterConfig> LoadClusterConfig(const std::string& path);
Result<ClusterConfig> ParseClusterConfig(const std::string& text, const std::string& origin);

}  // namespace qj
