// A mini cluster of real journalnode processes on 127.0.0.1 for tests.
//
//   qj::testing::JnCluster cluster(3);          // starts 3 journalnodes, waits for ports
//   ASSERT_OK(cluster.Format());                // formats journal "ns1" on all of them
//   auto w = jn::QuorumWriter::Open(cluster.Options("nn1"), cluster.ns());
//   cluster.node(1).Kill(); cluster.node(1).Restart();   // SIGKILL, start again (same dir)
//   cluster.node(2).Stop(); cluster.node(2).Continue();  // SIGSTOP / SIGCONT
//   cluster.uri();                              // "qjournal://127.0.0.1:p1;.../ns1"
//
// Each node has its own edits dir and log file under one TempDir (kept when
// QJ_KEEP_TEST_DIRS is set). Nodes know each other as peers (background catch-up and
// recovery copies). The destructor SIGKILLs every node. Not thread-safe: drive it from the
// test's thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/cluster_config.h"
#include "common/status.h"
#include "journalnode/client/quorum_writer.h"
#include "tests/support/process.h"

namespace qj::testing {

class JnNode {
 public:
  JnNode(int index, int port, std::string dir, std::vector<std::string> argv);
  int index() const { return index_; }
  int port() const { return port_; }
  HostPort address() const { return HostPort{"127.0.0.1", port_}; }
  const std::string& edits_dir() const { return dir_; }
  std::string log_path() const { return dir_ + ".log"; }
  bool running() const { return proc_.running(); }

  // Starts (or restarts after Kill/Terminate) the daemon and waits until it listens.
  void Start();
  void Restart();
  void Kill();       // SIGKILL, no clean shutdown
  void Terminate();  // SIGTERM, clean shutdown
  void Stop();       // SIGSTOP: alive but silent
  void Continue();   // SIGCONT

 private:
  const int index_;
  const int port_;
  const std::string dir_;
  const std::vector<std::string> argv_;
  Process proc_;
};

class JnCluster {
 public:
  struct Config {
    int num_nodes = 3;
    std::string journal_id = "ns1";
    int64_t namespace_id = 42;
    std::string cluster_id = "test-cluster";
    // Extra daemon flags for every node, e.g. "--v=1".
    std::vector<std::string> extra_flags;
  };
  explicit JnCluster(int num_nodes);
  explicit JnCluster(const Config& config);
  ~JnCluster();
  JnCluster(const JnCluster&) = delete;
  JnCluster& operator=(const JnCluster&) = delete;

  int size() const { return static_cast<int>(nodes_.size()); }
  JnNode& node(int i) { return *nodes_.at(i); }
  const std::string& journal_id() const { return opts_.journal_id; }
  const std::string& dir() const { return dir_.path(); }
  std::vector<HostPort> addresses() const;
  // qjournal://127.0.0.1:p1;127.0.0.1:p2;.../<journal id>
  std::string uri() const;
  jn::NamespaceInfo ns() const;
  // Writer/reader options for this cluster with short, test-friendly timeouts.
  jn::QuorumOptions Options(const std::string& name = "test") const;
  // Writes a cluster.conf for this quorum into dir() and returns its path.
  std::string WriteClusterConf() const;
  // Formats the journal on every node.
  Status Format() const;

 private:
  const Config opts_;
  TempDir dir_;
  std::vector<std::unique_ptr<JnNode>> nodes_;
};

}  // namespace qj::testing
