// A mini HA cluster of real processes on 127.0.0.1 for failover tests and benchmarks:
// 3 journalnodes, 2 namenodes (nn1 formatted, nn2 bootstrapped from it) and, unless
// disabled, one failoverd beside each namenode. Short lease and health timings by default.
//
//   qj::testing::HaCluster c;                 // nothing runs yet
//   ASSERT_TRUE(c.Start().ok());              // everything up, conf written
//   int a = c.WaitForActive(20000);           // index 0/1 of the active namenode, or -1
//   c.namenode(a).Kill();                     // SIGKILL
//   c.Haadmin({"-failover", "nn1", "nn2"}, &out);
//
// With proxy_journal_links, each namenode reaches each journalnode through its own
// FaultProxy (fault_proxy.h; the namenode reads a cluster file of its own whose
// journal.uri names its proxies), so a test can cut one namenode from the journal while
// its failoverd, the other namenode and the journalnodes still reach each other.
//
// Each daemon logs to <dir>/<name>.log (kept when QJ_KEEP_TEST_DIRS is set). The
// destructor SIGKILLs everything. Not thread-safe: drive it from one thread (the
// workload threads talk to the namenodes over RPC, never to this object).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/cluster_config.h"
#include "common/status.h"
#include "tests/support/fault_proxy.h"
#include "tests/support/process.h"

namespace qj::testing {

struct HaClusterOptions {
  int64_t lease_duration_ms = 1500;
  double lease_drift = 0.05;
  int64_t lease_margin_ms = 100;
  int64_t renew_interval_ms = 250;
  int64_t acquire_interval_ms = 100;
  int64_t health_interval_ms = 100;
  int64_t health_timeout_ms = 500;
  int64_t health_journal_stall_ms = 1000;
  bool proxy_journal_links = false;
  bool automatic = true;
  bool start_failoverds = true;
  std::vector<std::string> jn_flags;
  std::vector<std::string> nn_flags;
  std::vector<std::string> fo_flags;
};

class HaCluster {
 public:
  explicit HaCluster(HaClusterOptions opts = {});
  ~HaCluster();
  HaCluster(const HaCluster&) = delete;
  HaCluster& operator=(const HaCluster&) = delete;

  // Starts journalnodes, formats nn1, bootstraps nn2, starts both namenodes and the
  // failoverds; waits for every port. The error names the daemon and its log.
  Status Start();

  const std::string& dir() const { return dir_.path(); }
  const std::string& conf_path() const { return conf_path_; }
  const ClusterConfig& conf() const { return conf_; }
  const HaClusterOptions& options() const { return opts_; }
  std::string nn_id(int i) const { return "nn" + std::to_string(i + 1); }
  const NamenodeInfo& nn_info(int i) const { return conf_.namenodes.at(i); }

  Process& journalnode(int i) { return *jns_.at(i); }
  Process& namenode(int i) { return *nns_.at(i); }
  Process& failoverd(int i) { return *fos_.at(i); }
  // Requires proxy_journal_links: the link from namenode `nn` to journalnode `jn`.
  FaultProxy& journal_link(int nn, int jn) { return *proxies_.at(nn * 3 + jn); }
  // Sets every journal link of namenode `nn` to `mode`.
  void SetJournalLinks(int nn, FaultProxy::Mode mode);

  // (Re)starts namenode i / failoverd i with its original arguments and waits for its port.
  Status StartNamenode(int i);
  Status StartFailoverd(int i);

  // "active" / "standby" / ... of namenode i, or "" when it does not answer within 500 ms.
  std::string ServiceState(int i) const;
  // Index of the one namenode that reports "active" (-1 if none or both), polling until
  // timeout_ms.
  int WaitForActive(int timeout_ms) const;
  // Polls until namenode i reports `state`.
  bool WaitForState(int i, const std::string& state, int timeout_ms) const;

  // Runs build/failover/haadmin --cluster_conf=<conf> args...; returns its exit code.
  int Haadmin(const std::vector<std::string>& args, std::string* output) const;

 private:
  Status WriteConf();
  std::vector<std::string> NamenodeArgv(int i) const;

  const HaClusterOptions opts_;
  TempDir dir_;
  std::string conf_path_;
  ClusterConfig conf_;
  std::vector<int> jn_ports_, nn_ports_, fo_ports_;
  std::vector<std::unique_ptr<Process>> jns_, nns_, fos_;
  std::vector<std::unique_ptr<FaultProxy>> proxies_;  // [nn * 3 + jn]
  std::vector<std::string> nn_conf_paths_;            // the file each namenode reads
};

}  // namespace qj::testing
