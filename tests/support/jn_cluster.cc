#include "tests/support/jn_cluster.h"

#include <glog/logging.h>

#include <fstream>

namespace qj::testing {

JnNode::JnNode(int index, int port, std::string dir, std::vector<std::string> argv)
    : index_(index), port_(port), dir_(std::move(dir)), argv_(std::move(argv)) {}

void JnNode::Start() {
  CHECK(!proc_.running()) << "jn" << index_ << " already running";
  proc_.Start(argv_, log_path());
  CHECK(WaitForPort(port_, 20000))
      << "jn" << index_ << " did not listen on port " << port_ << "; see " << log_path();
}

void JnNode::Restart() {
  if (proc_.running()) proc_.Kill();
  Start();
}

void JnNode::Kill() { proc_.Kill(); }
void JnNode::Terminate() { proc_.Terminate(); }
void JnNode::Stop() { proc_.Stop(); }
void JnNode::Continue() { proc_.Continue(); }

JnCluster::JnCluster(int num_nodes)
    : JnCluster([num_nodes] {
        Config o;
        o.num_nodes = num_nodes;
        return o;
      }()) {}

JnCluster::JnCluster(const Config& config) : opts_(config), dir_("qj_jncluster") {
  const std::vector<int> ports = PickFreePorts(opts_.num_nodes);
  for (int i = 0; i < opts_.num_nodes; ++i) {
    std::string peers;
    for (int j = 0; j < opts_.num_nodes; ++j) {
      if (j == i) continue;
      if (!peers.empty()) peers += ",";
      peers += "127.0.0.1:" + std::to_string(ports[j]);
    }
    const std::string node_dir = dir_.path() + "/jn" + std::to_string(i);
    std::vector<std::string> argv = {
        BinaryPath("journalnode/journalnode"), "--journalnode_rpc_port=" + std::to_string(ports[i]),
        "--journalnode_edits_dir=" + node_dir, "--journalnode_name=jn" + std::to_string(i),
        "--journalnode_peers=" + peers,        "--logtostderr=1",
    };
    for (const auto& f : opts_.extra_flags) argv.push_back(f);
    nodes_.push_back(std::make_unique<JnNode>(i, ports[i], node_dir, std::move(argv)));
  }
  for (auto& n : nodes_) n->Start();
}

JnCluster::~JnCluster() {
  for (auto& n : nodes_) {
    n->Continue();
    n->Kill();
  }
}

std::vector<HostPort> JnCluster::addresses() const {
  std::vector<HostPort> out;
  for (const auto& n : nodes_) out.push_back(n->address());
  return out;
}

std::string JnCluster::uri() const {
  std::string s = "qjournal://";
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (i > 0) s += ";";
    s += nodes_[i]->address().ToString();
  }
  return s + "/" + opts_.journal_id;
}

jn::NamespaceInfo JnCluster::ns() const {
  jn::NamespaceInfo ns;
  ns.namespace_id = opts_.namespace_id;
  ns.cluster_id = opts_.cluster_id;
  return ns;
}

jn::QuorumOptions JnCluster::Options(const std::string& name) const {
  jn::QuorumOptions o;
  o.journalnodes = addresses();
  o.journal_id = opts_.journal_id;
  o.name = name;
  o.rpc_timeout_ms = 1000;
  o.write_timeout_ms = 10000;
  o.recovery_timeout_ms = 10000;
  o.heartbeat_interval_ms = 20;
  return o;
}

std::string JnCluster::WriteClusterConf() const {
  const std::string path = dir_.path() + "/cluster.conf";
  std::ofstream f(path);
  f << "# written by JnCluster\n"
    << "namespace.id = " << opts_.namespace_id << "\n"
    << "cluster.id = " << opts_.cluster_id << "\n"
    << "journal.uri = " << uri() << "\n";
  CHECK(f.good()) << path;
  return path;
}

Status JnCluster::Format() const { return jn::FormatJournal(Options("format"), ns(), false); }

}  // namespace qj::testing
