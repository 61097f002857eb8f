// The journalnode daemon: parse flags, take the storage lock, load the journals, serve
// JournalProtocol until SIGTERM / SIGINT, then shut down in this order: stop accepting
// calls, stop background threads, persist committed txids, close files, release the lock.
#include <gflags/gflags.h>
#include <glog/logging.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <sstream>
#include <thread>

#include "common/cli.h"
#include "common/cluster_config.h"
#include "common/rpc/authz.h"
#include "common/rpc/rpc.h"
#include "journalnode/journal_node.h"
#include "journalnode/journal_service.h"
#include "journalnode/journal_web.h"

DEFINE_int32(journalnode_rpc_port, 8485, "TCP port for JournalProtocol");
DEFINE_string(journalnode_bind_host, "127.0.0.1", "Address to listen on");
DEFINE_string(journalnode_edits_dir, "", "Storage directory (one subdirectory per journal)");
DEFINE_string(journalnode_name, "", "Name used in logs and errors (default jn-<port>)");
DEFINE_string(journalnode_peers, "",
              "Other journalnodes (host:port,host:port) for background catch-up");
DEFINE_int64(journalnode_lease_max_duration_ms, 10000, "Longest lease a holder may ask for");
DEFINE_int64(journalnode_lease_grace_ms, 10000,
             "After start-up, grant no lease for this long (>= the max lease duration)");
DEFINE_int64(journalnode_catchup_interval_ms, 2000, "How often to catch up from peers");
DEFINE_int64(journalnode_committed_persist_interval_ms, 1000,
             "Persist the committed txid at most this often (and at finalize / shutdown)");
DEFINE_int64(journalnode_cache_bytes, 32 << 20, "Per-journal cache of recent durable edits");
DEFINE_int32(journalnode_http_port, 0,
             "Status page and /metrics port on --journalnode_bind_host (0 = none)");
DEFINE_int64(journalnode_slow_sync_warn_ms, 1000,
             "Count and log (WARNING) a batch whose write + fdatasync takes longer");
DEFINE_int32(journalnode_max_frame_bytes, 16 << 20, "Largest Thrift frame accepted");
DEFINE_int32(journalnode_max_journals, 64,
             "Most journals one node holds: format refuses a new journal id beyond this");
DEFINE_string(cluster_conf, "",
              "The cluster file, for TLS, authorization and connection limits (tls.*, "
              "security.*, rpc.*); empty = TLS off, default limits. With TLS on, "
              "--journalnode_name is this journalnode's identity (jn1, jn2, ...).");

namespace {

struct Options {
  qj::jn::JournalNodeOptions node;
  qj::rpc::ServerOptions server = qj::jn::JournalServerOptions();
};

// Reads the flags once; returns an error message for bad ones.
std::string ReadFlags(Options* o) {
  if (FLAGS_journalnode_edits_dir.empty()) return "--journalnode_edits_dir is required";
  if (FLAGS_journalnode_rpc_port < 1 || FLAGS_journalnode_rpc_port > 65535) {
    return "--journalnode_rpc_port must be 1..65535";
  }
  if (FLAGS_journalnode_lease_max_duration_ms < 1) {
    return "--journalnode_lease_max_duration_ms must be >= 1";
  }
  if (FLAGS_journalnode_lease_grace_ms < FLAGS_journalnode_lease_max_duration_ms) {
    return "--journalnode_lease_grace_ms must be >= --journalnode_lease_max_duration_ms";
  }
  if (FLAGS_journalnode_catchup_interval_ms < 1 ||
      FLAGS_journalnode_committed_persist_interval_ms < 1 || FLAGS_journalnode_cache_bytes < 0 ||
      FLAGS_journalnode_max_frame_bytes < (1 << 20)) {
    return "intervals must be >= 1 ms, cache bytes >= 0, max frame >= 1 MiB";
  }
  if (FLAGS_journalnode_max_journals < 1) return "--journalnode_max_journals must be >= 1";
  o->node.max_journals = static_cast<size_t>(FLAGS_journalnode_max_journals);
  o->server.bind_host = FLAGS_journalnode_bind_host;
  o->server.port = FLAGS_journalnode_rpc_port;
  o->server.max_frame_bytes = FLAGS_journalnode_max_frame_bytes;
  o->server.max_string_bytes = FLAGS_journalnode_max_frame_bytes;
  o->node.max_batch_bytes = static_cast<uint64_t>(FLAGS_journalnode_max_frame_bytes);
  o->node.name = FLAGS_journalnode_name.empty() ? "jn-" + std::to_string(FLAGS_journalnode_rpc_port)
                                                : FLAGS_journalnode_name;
  o->server.name = o->node.name;
  o->node.edits_dir = FLAGS_journalnode_edits_dir;
  o->node.self_address =
      FLAGS_journalnode_bind_host + ":" + std::to_string(FLAGS_journalnode_rpc_port);
  std::stringstream ss(FLAGS_journalnode_peers);
  std::string peer;
  while (std::getline(ss, peer, ',')) {
    if (peer.empty()) continue;
    auto hp = qj::ParseHostPort(peer);
    if (!hp.ok()) return "--journalnode_peers: " + hp.status().message();
    if (hp->ToString() != o->node.self_address) o->node.peers.push_back(hp->ToString());
  }
  o->node.catchup_interval_ms = FLAGS_journalnode_catchup_interval_ms;
  o->node.committed_persist_interval_ms = FLAGS_journalnode_committed_persist_interval_ms;
  o->node.cache_bytes = static_cast<size_t>(FLAGS_journalnode_cache_bytes);
  o->node.lease.max_duration_ms = FLAGS_journalnode_lease_max_duration_ms;
  o->node.lease.grace_ms = FLAGS_journalnode_lease_grace_ms;
  if (FLAGS_journalnode_http_port < 0 || FLAGS_journalnode_http_port > 65535) {
    return "--journalnode_http_port must be 0..65535";
  }
  if (FLAGS_journalnode_slow_sync_warn_ms < 0)
    return "--journalnode_slow_sync_warn_ms must be >= 0";
  o->node.slow_sync_warn_ms = FLAGS_journalnode_slow_sync_warn_ms;
  if (!FLAGS_cluster_conf.empty()) {
    auto conf = qj::LoadClusterConfig(FLAGS_cluster_conf);
    if (!conf.ok()) return conf.status().ToString();
    qj::Status st = o->server.ApplyCluster(*conf, o->node.name, qj::rpc::JournalPolicy(*conf));
    if (!st.ok()) return st.ToString();
    o->node.peer_tls = o->server.tls;
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  constexpr char kUsage[] = "journalnode --journalnode_edits_dir=DIR [--journalnode_rpc_port=N]";
  gflags::SetUsageMessage(kUsage);
  if (int rc = qj::cli::PreParseGflags(argc, argv, "journalnode", kUsage); rc >= 0) return rc;
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  if (!qj::cli::InitDaemonLogging(argv[0], "journalnode")) return qj::cli::kExitUsage;
  if (argc > 1) {
    std::fprintf(stderr, "journalnode: unexpected argument '%s'\n", argv[1]);
    return qj::cli::kExitUsage;
  }
  Options opts;
  std::string err = ReadFlags(&opts);
  if (!err.empty()) {
    std::fprintf(stderr, "journalnode: %s\n", err.c_str());
    return qj::cli::kExitUsage;
  }

  // Signals go to a dedicated thread; every other thread inherits the blocked mask.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto node = qj::jn::JournalNode::Open(opts.node);
  if (!node.ok()) {
    std::fprintf(stderr, "journalnode %s: %s\n", opts.node.name.c_str(),
                 node.status().ToString().c_str());
    return 2;
  }
  std::unique_ptr<qj::DaemonWeb> web;
  if (FLAGS_journalnode_http_port > 0) {
    web = qj::jn::MakeJournalNodeWeb(
        node->get(),
        {FLAGS_journalnode_bind_host, FLAGS_journalnode_http_port, 32, 10000, opts.node.name});
    if (qj::Status ws = web->Start(); !ws.ok()) {
      std::fprintf(stderr, "journalnode %s: %s\n", opts.node.name.c_str(), ws.ToString().c_str());
      return 2;
    }
  }
  qj::jn::JournalServer server(node->get(), opts.server);
  std::atomic<bool> served{false};
  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&sigs, &sig);
    LOG(INFO) << opts.node.name << ": signal " << sig << ", shutting down";
    // The server may not be listening yet: keep asking until serve() returns.
    while (!served.load()) {
      server.Stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  qj::Status s = server.Serve();
  served = true;
  if (!s.ok()) {
    std::fprintf(stderr, "journalnode %s: %s\n", opts.node.name.c_str(), s.ToString().c_str());
    if (web) web->Stop();
    (*node)->Shutdown();
    signal_thread.detach();
    _exit(2);
  }
  signal_thread.join();
  if (web) web->Stop();
  (*node)->Shutdown();
  node->reset();
  LOG(INFO) << opts.node.name << ": stopped";
  return 0;
}
