// haadmin: manual failover and status, with HDFS's verbs.
//
//   haadmin [--cluster_conf=FILE] -getServiceState NN
//   haadmin [--cluster_conf=FILE] -getAllServiceState
//   haadmin [--cluster_conf=FILE] -checkHealth NN
//   haadmin [--cluster_conf=FILE] -transitionToActive NN [--forcemanual]
//   haadmin [--cluster_conf=FILE] -transitionToStandby NN [--forcemanual]
//   haadmin [--cluster_conf=FILE] -failover FROM TO
//
// Exit 0 on success (and --help, --version); 2 on a usage error (unknown flag or verb,
// unknown namenode id); 1 on a failure (unreadable cluster file, unreachable namenode,
// refused transition) with a one-line reason on stderr.
// With automatic failover on, -transitionToActive/-transitionToStandby are refused unless
// --forcemanual (the failoverds would fight the change), and -failover asks TO's failoverd
// for a graceful failover (FROM's failoverd cedes: demote, release, stay out; TO's takes
// the lease at once). In manual mode -failover does FROM -> standby, TO -> active itself.
#include <gflags/gflags.h>
#include <glog/logging.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "FailoverController.h"
#include "common/cli.h"
#include "common/cluster_config.h"
#include "common/rpc/rpc.h"
#include "failover/namenode_target.h"
#include "failover_types.h"

DEFINE_string(cluster_conf, "conf/cluster.conf", "The cluster file.");
DEFINE_string(tls_identity, "admin",
              "With TLS on: the certificate to present (tls.cert_dir/<id>.crt).");
DEFINE_bool(forcemanual, false,
            "Allow -transitionToActive / -transitionToStandby while automatic failover is on.");
DEFINE_int64(haadmin_rpc_timeout_ms, 5000, "Timeout of state and health calls.");
DEFINE_int64(haadmin_failover_timeout_ms, 60000, "Timeout of transitions and -failover.");

namespace {

namespace th = qjournal::thrift;
using qj::ClusterConfig;
using qj::NamenodeInfo;
using qj::Status;

constexpr int kUsageError = qj::cli::kExitUsage;
constexpr int kFailed = qj::cli::kExitFailure;

int Fail(const std::string& reason) {
  std::cerr << "haadmin: " << reason << "\n";
  return kFailed;
}

int Usage(std::ostream& out = std::cerr, int rc = kUsageError) {
  out << "Usage: haadmin [--cluster_conf=FILE] [--forcemanual]\n"
         "    [-getServiceState <id>]\n"
         "    [-getAllServiceState]\n"
         "    [-checkHealth <id>]\n"
         "    [-transitionToActive <id>]\n"
         "    [-transitionToStandby <id>]\n"
         "    [-failover <from id> <to id>]\n";
  return rc;
}

const NamenodeInfo* Find(const ClusterConfig& conf, const std::string& id) {
  const NamenodeInfo* nn = conf.FindNamenode(id);
  if (nn == nullptr) std::cerr << "haadmin: unknown namenode '" << id << "'\n";
  return nn;
}

int GetServiceState(const NamenodeInfo& nn) {
  qj::fo::RpcNamenodeTarget t(nn, FLAGS_haadmin_rpc_timeout_ms);
  auto s = t.GetServiceStatus();
  if (!s.ok()) return Fail(s.status().ToString());
  std::cout << s->state << "\n";
  return 0;
}

int GetAllServiceState(const ClusterConfig& conf) {
  int rc = 0;
  for (const auto& nn : conf.namenodes) {
    qj::fo::RpcNamenodeTarget t(nn, FLAGS_haadmin_rpc_timeout_ms);
    auto s = t.GetServiceStatus();
    std::string state = s.ok() ? s->state : "unreachable (" + s.status().message() + ")";
    if (!s.ok()) rc = kFailed;
    std::printf("%-32s %s\n", (nn.rpc().ToString() + " (" + nn.id + ")").c_str(), state.c_str());
  }
  return rc;
}

int CheckHealth(const NamenodeInfo& nn) {
  qj::fo::RpcNamenodeTarget t(nn, FLAGS_haadmin_rpc_timeout_ms);
  Status s = t.MonitorHealth();
  if (!s.ok()) return Fail("health check failed: " + s.ToString());
  return 0;
}

// Manual transitions. `forced` marks the request as overriding automatic failover.
int Transition(const ClusterConfig& conf, const NamenodeInfo& nn, bool to_active) {
  th::RequestSource::type source = th::RequestSource::REQUEST_BY_USER;
  if (conf.automatic_failover) {
    if (!FLAGS_forcemanual) {
      return Fail(
          "automatic failover is enabled: refusing to change the HA state by hand (the "
          "failoverds decide); use -failover, or --forcemanual if you really must");
    }
    std::cerr << "haadmin: WARNING: --forcemanual: changing " << nn.id
              << "'s state behind the failoverds' back; they may undo it. "
              << (to_active ? "A namenode made active by hand has no lease and serves until told "
                              "otherwise: a second active is stopped only by the journal epoch."
                            : "")
              << "\n";
    source = th::RequestSource::REQUEST_BY_USER_FORCED;
  }
  qj::fo::RpcNamenodeTarget t(nn, FLAGS_haadmin_failover_timeout_ms);
  Status s = to_active ? t.TransitionToActive(source, /*lease_deadline_nanos=*/0)
                       : t.TransitionToStandby(source);
  if (!s.ok()) return Fail(s.ToString());
  std::cout << nn.id << " is now " << (to_active ? "active" : "standby") << "\n";
  return 0;
}

int Failover(const ClusterConfig& conf, const NamenodeInfo& from, const NamenodeInfo& to) {
  if (from.id == to.id) return Fail("-failover needs two different namenodes");
  if (!conf.automatic_failover) {
    // Manual mode: FROM -> standby (if reachable), TO -> active.
    qj::fo::RpcNamenodeTarget f(from, FLAGS_haadmin_failover_timeout_ms);
    Status s = f.TransitionToStandby(th::RequestSource::REQUEST_BY_USER);
    if (!s.ok()) {
      return Fail("could not make " + from.id + " standby (" + s.ToString() + "); not promoting " +
                  to.id);
    }
    qj::fo::RpcNamenodeTarget t(to, FLAGS_haadmin_failover_timeout_ms);
    s = t.TransitionToActive(th::RequestSource::REQUEST_BY_USER, 0);
    if (!s.ok()) return Fail(s.ToString());
    std::cout << "Failover from " << from.id << " to " << to.id << " successful\n";
    return 0;
  }
  // Automatic mode: TO's failoverd does the graceful failover.
  qj::rpc::Client<th::FailoverControllerClient> conn(
      to.failoverd(), qj::rpc::ClientOptions::WithTimeout(FLAGS_haadmin_failover_timeout_ms));
  auto c = conn.Get();
  if (!c.ok()) {
    return Fail("failoverd of " + to.id + ": " +
                qj::Status::NetworkError(c.status().message()).ToString());
  }
  try {
    (*c)->gracefulFailover();
  } catch (const th::FailoverException& e) {
    return Fail("failover to " + to.id + " failed: " + e.message);
  } catch (const apache::thrift::TException& e) {
    return Fail("failoverd of " + to.id + ": " + e.what());
  }
  std::cout << "Failover to " << to.id << " successful\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  qj::cli::SetClusterConfDefault();
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (qj::cli::IsHelpArg(a)) return Usage(std::cout, 0);
    if (qj::cli::IsVersionArg(a)) {
      qj::cli::PrintVersion("haadmin");
      return 0;
    }
  }
  std::vector<std::string> cmd;
  if (int rc = qj::cli::ParseToolArgs(argc, argv, "haadmin", &cmd); rc >= 0) return rc;

  if (cmd.empty()) return Usage();
  // A missing or bad cluster file is a failure (1) with a one-line reason, as in HDFS where
  // a missing hdfs-site.xml is an error of the environment, not of the command line.
  auto conf = qj::LoadClusterConfig(FLAGS_cluster_conf);
  if (!conf.ok()) return Fail(conf.status().ToString());
  if (qj::Status t = qj::rpc::InitProcessTls(*conf, FLAGS_tls_identity); !t.ok()) {
    return Fail(t.ToString());
  }

  const std::string& verb = cmd[0];
  auto nn_arg = [&](size_t i) -> const NamenodeInfo* {
    if (cmd.size() <= i) return nullptr;
    return Find(*conf, cmd[i]);
  };
  if (verb == "-getAllServiceState" && cmd.size() == 1) return GetAllServiceState(*conf);
  if (verb == "-failover" && cmd.size() == 3) {
    const NamenodeInfo* from = nn_arg(1);
    const NamenodeInfo* to = nn_arg(2);
    if (from == nullptr || to == nullptr) return kUsageError;
    return Failover(*conf, *from, *to);
  }
  if (cmd.size() != 2) return Usage();
  const NamenodeInfo* nn = nn_arg(1);
  if (nn == nullptr) return kUsageError;
  if (verb == "-getServiceState") return GetServiceState(*nn);
  if (verb == "-checkHealth") return CheckHealth(*nn);
  if (verb == "-transitionToActive") return Transition(*conf, *nn, true);
  if (verb == "-transitionToStandby") return Transition(*conf, *nn, false);
  return Usage();
}
