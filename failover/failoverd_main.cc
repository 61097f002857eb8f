// failoverd: the automatic failover daemon, one beside each namenode (DESIGN §6).
//
//   failoverd --cluster_conf=conf/cluster.conf --namenode_id=nn1 [--flagfile=conf/failoverd.flags]
//
// Lease and health timings come from the cluster file (lease.*, health.*); the flags
// below cover what is local to this daemon. Stops on SIGTERM / SIGINT without demoting
// its namenode: a restarted failoverd re-acquires the same lease (same holder id), and
// otherwise the namenode stops serving at its lease deadline.
#include <gflags/gflags.h>
#include <glog/logging.h>
#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <thread>

#include "common/cli.h"
#include "common/clock.h"
#include "common/cluster_config.h"
#include "common/rpc/authz.h"
#include "common/rpc/rpc.h"
#include "failover/controller.h"
#include "failover/failover_service.h"
#include "failover/failoverd_web.h"

DEFINE_string(cluster_conf, "conf/cluster.conf", "The cluster file.");
DEFINE_string(namenode_id, "", "Id of the namenode this failoverd watches (required).");
DEFINE_int32(failoverd_port, 0, "RPC port; 0 = namenode.<id>.failoverd_port of the cluster file.");
DEFINE_int64(failoverd_renew_interval_ms, 0,
             "Lease renewal interval; 0 = lease.renew_interval_ms of the cluster file, else "
             "duration/6.");
DEFINE_int64(failoverd_acquire_interval_ms, 0,
             "How often a standby's failoverd tries to take the lease; 0 = "
             "lease.acquire_interval_ms of the cluster file, else 100.");
DEFINE_int64(failoverd_cede_ms, 10000,
             "How long a namenode that handed over gracefully stays out of the contest.");
DEFINE_int64(failoverd_rpc_timeout_ms, 1000,
             "Timeout of renewLease / transitionToStandby / peer calls and of one journalnode "
             "lease call.");
DEFINE_int64(failoverd_transition_timeout_ms, 30000, "Timeout of transitionToActive.");
DEFINE_int64(failoverd_test_graceful_delay_ms, 0,
             "Test only: gracefulFailover waits this long before asking the peer to cede. "
             "Never set in production.");

namespace {

// A positive flag wins, else the cluster file's value (already validated, 0 = unset),
// else the fallback.
int64_t Setting(int64_t flag_value, int64_t conf_value, int64_t fallback) {
  if (flag_value > 0) return flag_value;
  return conf_value > 0 ? conf_value : fallback;
}

constexpr char kUsage[] =
    "failoverd --cluster_conf=FILE --namenode_id=ID [--flagfile=conf/failoverd.flags]";

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage(kUsage);
  qj::cli::SetClusterConfDefault();
  if (int rc = qj::cli::PreParseGflags(argc, argv, "failoverd", kUsage); rc >= 0) return rc;
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  if (!qj::cli::InitDaemonLogging(argv[0], "failoverd")) return qj::cli::kExitUsage;
  if (argc > 1) {
    std::cerr << "failoverd: unexpected argument '" << argv[1] << "'\n";
    return qj::cli::kExitUsage;
  }

  // 1. Configuration (a bad cluster file or id: exit 2, the daemons' configuration error).
  auto conf = qj::LoadClusterConfig(FLAGS_cluster_conf);
  if (!conf.ok()) {
    std::cerr << "failoverd: " << conf.status() << "\n";
    return qj::cli::kExitUsage;
  }
  const qj::NamenodeInfo* self = conf->FindNamenode(FLAGS_namenode_id);
  if (self == nullptr) {
    std::cerr << "failoverd: --namenode_id='" << FLAGS_namenode_id << "' is not in "
              << FLAGS_cluster_conf << "\n";
    return qj::cli::kExitUsage;
  }
  // Every outgoing call (journalnode leases, the namenodes, the peer failoverd) is made
  // as failoverd-<id> when TLS is on.
  if (qj::Status t = qj::rpc::InitProcessTls(*conf, qj::ClusterConfig::FailoverdIdentity(self->id));
      !t.ok()) {
    std::cerr << "failoverd: " << t << "\n";
    return qj::cli::kExitUsage;
  }
  const int port = FLAGS_failoverd_port > 0 ? FLAGS_failoverd_port : self->failoverd_port;
  if (port <= 0) {
    std::cerr << "failoverd: no port: set namenode." << self->id << ".failoverd_port\n";
    return qj::cli::kExitUsage;
  }

  qj::jn::LeaseClientOptions lease;
  lease.journal_id = conf->journal.journal_id;
  lease.holder_id = self->id;
  lease.duration_ms = conf->lease_duration_ms;
  lease.drift = conf->lease_drift;
  lease.margin_ms = conf->lease_margin_ms;
  lease.round_timeout_ms = FLAGS_failoverd_rpc_timeout_ms;

  qj::fo::ControllerOptions opts;
  opts.namenode_id = self->id;
  opts.automatic = conf->automatic_failover;
  opts.health.interval_ms = conf->health_interval_ms;
  opts.health.timeout_ms = conf->health_timeout_ms;
  opts.renew_interval_ms = Setting(FLAGS_failoverd_renew_interval_ms, conf->lease_renew_interval_ms,
                                   lease.duration_ms / 6);
  opts.acquire_interval_ms =
      Setting(FLAGS_failoverd_acquire_interval_ms, conf->lease_acquire_interval_ms, 100);
  opts.demote_guard_ms = opts.renew_interval_ms;
  // A namenode just demoted for a journal stall looks healthy as a standby until its
  // tailer has failed for health.journal_stall_ms; one more health interval (and one
  // acquire interval of slack) lets its failoverd see that before contending again,
  // while the healthy pair takes the lease within an acquire interval.
  opts.unhealthy_backoff_ms =
      conf->health_journal_stall_ms + conf->health_interval_ms + opts.acquire_interval_ms;
  if (FLAGS_failoverd_cede_ms < 1 || FLAGS_failoverd_cede_ms > qj::fo::kMaxCedeMillis) {
    // The peer's failoverd would refuse our cedeActive.
    std::cerr << "failoverd: --failoverd_cede_ms must be 1.." << qj::fo::kMaxCedeMillis << "\n";
    return qj::cli::kExitUsage;
  }
  opts.cede_ms = FLAGS_failoverd_cede_ms;
  opts.rpc_timeout_ms = FLAGS_failoverd_rpc_timeout_ms;
  opts.transition_timeout_ms = FLAGS_failoverd_transition_timeout_ms;
  opts.graceful_acquire_timeout_ms = lease.duration_ms + 1000;
  opts.test_graceful_delay_ms = FLAGS_failoverd_test_graceful_delay_ms;

  // 2. Block the stop signals in every thread; one thread waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  // 3. Controller and server.
  auto lease_client = qj::jn::NewLeaseClient(lease, conf->journal.journalnodes,
                                             FLAGS_failoverd_rpc_timeout_ms, qj::RealClock::Get());
  qj::fo::Controller controller(opts, *conf, std::move(lease_client), qj::RealClock::Get());
  auto rpc_opts = qj::rpc::ServerOptions::FromCluster(
      *conf, qj::ClusterConfig::FailoverdIdentity(self->id), qj::rpc::FailoverPolicy(*conf));
  if (!rpc_opts.ok()) {
    std::cerr << "failoverd: " << rpc_opts.status() << "\n";
    return qj::cli::kExitUsage;
  }
  rpc_opts->bind_host = self->host;
  rpc_opts->port = port;
  qj::fo::FailoverServer server(&controller, *rpc_opts);
  std::thread signal_waiter([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    LOG(INFO) << self->id << " failoverd: signal " << sig << ", stopping";
    server.Shutdown();
  });
  controller.Start();
  std::unique_ptr<qj::DaemonWeb> web;
  if (self->failoverd_http_port > 0) {
    web = qj::fo::MakeFailoverdWeb(
        &controller, lease,
        {self->host, self->failoverd_http_port, 32, 10000, self->id + " failoverd"});
    if (qj::Status ws = web->Start(); !ws.ok()) {
      LOG(ERROR) << ws;
      controller.Stop();
      std::_Exit(1);  // the signal waiter is still blocked in sigwait
    }
  }
  LOG(INFO) << self->id << " failoverd: serving on " << self->host << ":" << port;
  qj::Status st = server.Serve();

  // 4. Shutdown order: server (done), controller loop, then (as the controller goes) the
  // lease client and its journalnode channels.
  if (!st.ok()) {
    LOG(ERROR) << st;
    if (web) web->Stop();
    controller.Stop();
    std::_Exit(1);  // the signal waiter is still blocked in sigwait
  }
  signal_waiter.join();
  if (web) web->Stop();
  controller.Stop();
  LOG(INFO) << self->id << " failoverd: stopped";
  return 0;
}
