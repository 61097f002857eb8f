// A mini cluster of real processes on 127.0.0.1 for namenode tests: 3 journalnodes
// (JnCluster) and 2 namenodes in manual HA mode (no failoverd). nn1 is formatted, nn2 is
// bootstrapped from it; both start as standby.
//
//   qj::testing::NnCluster c;
//   ASSERT_TRUE(c.Start().ok());
//   ASSERT_TRUE(c.TransitionToActive(0).ok());      // nn1 active
//   auto proxy = c.NewProxy();                      // HA client over both namenodes
//   c.namenode(0).Kill(); c.TransitionToActive(1);  // failover by hand
//   c.RestartNamenode(0);                           // same name dir and flags
//
// Each namenode logs to <dir>/nnN.log (kept with QJ_KEEP_TEST_DIRS). The destructor
// SIGKILLs everything. Not thread-safe: drive it from the test's thread (workload threads
// use their own FailoverProxy).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "HAServiceProtocol.h"
#include "common/cluster_config.h"
#include "common/status.h"
#include "namenode/client/failover_proxy.h"
#include "tests/support/jn_cluster.h"
#include "tests/support/process.h"

namespace qj::testing {

using nn::FailoverProxy;

struct NnClusterOptions {
  // Extra flags for both namenodes (e.g. "--namenode_checkpoint_txns=100").
  std::vector<std::string> nn_flags;
  std::vector<std::string> jn_flags;
};

class NnCluster {
 public:
  explicit NnCluster(NnClusterOptions opts = {});
  ~NnCluster();
  NnCluster(const NnCluster&) = delete;
  NnCluster& operator=(const NnCluster&) = delete;

  // Starts the journalnodes, writes the cluster file, formats nn1, starts it, bootstraps
  // nn2 from it, starts nn2; waits for every port. The error names the step and the log.
  Status Start();

  JnCluster& journalnodes() { return *jns_; }
  const std::string& dir() const { return jns_->dir(); }
  const std::string& conf_path() const { return conf_path_; }
  const ClusterConfig& conf() const { return conf_; }
  std::string nn_id(int i) const { return "nn" + std::to_string(i + 1); }
  std::string name_dir(int i) const { return dir() + "/" + nn_id(i); }
  std::string log_path(int i) const { return dir() + "/" + nn_id(i) + ".log"; }
  Process& namenode(int i) { return *nns_.at(i); }

  // Starts namenode i again (after Kill/Terminate) and waits for its port.
  Status RestartNamenode(int i);

  // HA calls over RPC (timeouts: 30 s for transitions, 2 s otherwise).
  Status TransitionToActive(int i, int64_t lease_deadline_mono_ns = 0);
  Status TransitionToStandby(int i);
  Result<qjournal::thrift::HAServiceStatus> GetStatus(int i, int timeout_ms = 2000) const;
  // Polls until namenode i has applied at least `txid` (or timeout).
  bool WaitForAppliedTxId(int i, int64_t txid, int timeout_ms) const;

  // An HA client over both namenodes with the given failover budget.
  std::unique_ptr<FailoverProxy> NewProxy(int64_t budget_ms = 15000) const;
  // A client pinned to namenode i only (no failover), for probing one namenode; every
  // call waits up to rpc_timeout_ms for its answer.
  std::unique_ptr<FailoverProxy> NewDirectClient(int i, int64_t rpc_timeout_ms = 5000) const;

  // Runs build/namenode/qjfs --cluster_conf=<conf> args...; returns its exit code.
  int Qjfs(const std::vector<std::string>& args, std::string* output) const;

  // The command line namenode i runs with (binary first).
  std::vector<std::string> NamenodeArgv(int i) const;

 private:
  const NnClusterOptions opts_;
  std::unique_ptr<JnCluster> jns_;
  std::string conf_path_;
  ClusterConfig conf_;
  std::vector<std::unique_ptr<Process>> nns_;
};

// Every path under `root` with its attributes, one line each, in tree order, read through
// `client` (which must reach an active namenode). For comparing namespaces in tests.
Result<std::string> DumpTree(FailoverProxy* client, const std::string& root = "/");

// The HDFS superuser the cluster's namenodes are started with (--namenode_superuser).
qjournal::thrift::UserInfo SuperUser();

}  // namespace qj::testing
