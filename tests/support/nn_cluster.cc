#include "tests/support/nn_cluster.h"

#include <glog/logging.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "common/thrift_transport.h"

namespace qj::testing {

using nn::FailoverProxy;
using nn::FailoverProxyOptions;
using nn::FailoverProxyOptionsFromConfig;

namespace th = qjournal::thrift;

namespace {

// Calls fn on a fresh HAServiceProtocol connection to hp.
Status WithHaClient(const HostPort& hp, int timeout_ms,
                    const std::function<void(th::HAServiceProtocolClient&)>& fn) {
  auto socket = std::make_shared<apache::thrift::transport::TSocket>(hp.host, hp.port);
  socket->setConnTimeout(timeout_ms);
  socket->setRecvTimeout(timeout_ms);
  socket->setSendTimeout(timeout_ms);
  auto transport = NewFramedTransport(socket, kDefaultMaxFrameBytes);
  th::HAServiceProtocolClient client(
      std::make_shared<apache::thrift::protocol::TBinaryProtocol>(transport));
  try {
    transport->open();
    fn(client);
    transport->close();
  } catch (const th::ServiceFailedException& e) {
    return Status::IllegalState(hp.ToString() + ": " + e.message);
  } catch (const apache::thrift::TException& e) {
    return Status::NetworkError(hp.ToString() + ": " + e.what());
  }
  return Status::OK();
}

}  // namespace

NnCluster::NnCluster(NnClusterOptions opts) : opts_(std::move(opts)) {
  JnCluster::Config jc;
  jc.extra_flags = opts_.jn_flags;
  jns_ = std::make_unique<JnCluster>(jc);
}

NnCluster::~NnCluster() {
  for (auto& p : nns_) {
    if (p->running()) p->Kill();
  }
}

std::vector<std::string> NnCluster::NamenodeArgv(int i) const {
  std::vector<std::string> argv = {BinaryPath("namenode/namenode"),
                                   "--cluster_conf=" + conf_path_,
                                   "--namenode_id=" + nn_id(i),
                                   "--namenode_name_dir=" + name_dir(i),
                                   "--namenode_superuser=nnsuper",
                                   "--namenode_journal_write_timeout_ms=5000",
                                   "--namenode_journal_recovery_timeout_ms=10000",
                                   "--namenode_commit_timeout_ms=10000"};
  argv.insert(argv.end(), opts_.nn_flags.begin(), opts_.nn_flags.end());
  return argv;
}

Status NnCluster::Start() {
  // 1. Cluster file: the journal quorum plus two namenodes on free ports.
  std::vector<int> ports = PickFreePorts(4);
  conf_path_ = jns_->WriteClusterConf();
  {
    std::ofstream f(conf_path_, std::ios::app);
    f << "namenode.ids = nn1,nn2\n";
    for (int i = 0; i < 2; ++i) {
      f << "namenode." << nn_id(i) << ".host = 127.0.0.1\n"
        << "namenode." << nn_id(i) << ".rpc_port = " << ports[2 * i] << "\n"
        << "namenode." << nn_id(i) << ".failoverd_port = " << ports[2 * i + 1] << "\n";
    }
    f << "failover.automatic = false\n";
    if (!f.good()) return Status::IOError("writing " + conf_path_);
  }
  QJ_ASSIGN_OR_RETURN(conf_, LoadClusterConfig(conf_path_));
  // 2. Format nn1 (journal + image at txid 0) and start it.
  std::string out;
  std::vector<std::string> fmt = NamenodeArgv(0);
  fmt.push_back("--format");
  if (RunCommand(fmt, &out, 60000) != 0) return Status::IOError("nn1 --format failed: " + out);
  nns_.clear();
  for (int i = 0; i < 2; ++i) nns_.push_back(std::make_unique<Process>());
  QJ_RETURN_IF_ERROR(RestartNamenode(0));
  // 3. Bootstrap nn2 from nn1, start it.
  std::vector<std::string> boot = NamenodeArgv(1);
  boot.push_back("--bootstrap_standby");
  if (RunCommand(boot, &out, 60000) != 0) {
    return Status::IOError("nn2 --bootstrap_standby failed: " + out);
  }
  return RestartNamenode(1);
}

Status NnCluster::RestartNamenode(int i) {
  Process& p = *nns_.at(i);
  if (p.running()) p.Kill();
  p.Start(NamenodeArgv(i), log_path(i));
  if (!WaitForPort(conf_.namenodes.at(i).rpc_port, 30000)) {
    return Status::IOError(nn_id(i) + " did not open its port; see " + log_path(i));
  }
  return Status::OK();
}

Status NnCluster::TransitionToActive(int i, int64_t lease_deadline_mono_ns) {
  th::HAStateChangeRequest req;
  req.source = th::RequestSource::REQUEST_BY_USER;
  if (lease_deadline_mono_ns != 0) req.__set_leaseDeadlineMonoNs(lease_deadline_mono_ns);
  return WithHaClient(conf_.namenodes.at(i).rpc(), 30000,
                      [&](th::HAServiceProtocolClient& c) { c.transitionToActive(req); });
}

Status NnCluster::TransitionToStandby(int i) {
  th::HAStateChangeRequest req;
  req.source = th::RequestSource::REQUEST_BY_USER;
  return WithHaClient(conf_.namenodes.at(i).rpc(), 30000,
                      [&](th::HAServiceProtocolClient& c) { c.transitionToStandby(req); });
}

Result<th::HAServiceStatus> NnCluster::GetStatus(int i, int timeout_ms) const {
  th::HAServiceStatus s;
  QJ_RETURN_IF_ERROR(WithHaClient(conf_.namenodes.at(i).rpc(), timeout_ms,
                                  [&](th::HAServiceProtocolClient& c) { c.getServiceStatus(s); }));
  return s;
}

bool NnCluster::WaitForAppliedTxId(int i, int64_t txid, int timeout_ms) const {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    auto s = GetStatus(i);
    if (s.ok() && s->lastAppliedTxId >= txid) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

std::unique_ptr<FailoverProxy> NnCluster::NewProxy(int64_t budget_ms) const {
  FailoverProxyOptions o = FailoverProxyOptionsFromConfig(conf_);
  o.name = "test";
  o.total_budget_ms = budget_ms;
  o.rpc_timeout_ms = 20000;
  return std::make_unique<FailoverProxy>(o);
}

std::unique_ptr<FailoverProxy> NnCluster::NewDirectClient(int i, int64_t rpc_timeout_ms) const {
  FailoverProxyOptions o;
  o.namenodes = {conf_.namenodes.at(i)};
  o.name = "test-" + nn_id(i);
  o.total_budget_ms = 0;
  o.rpc_timeout_ms = rpc_timeout_ms;
  // No other namenode to try: every call waits its answer for rpc_timeout_ms.
  o.attempt_timeout_ms = rpc_timeout_ms;
  return std::make_unique<FailoverProxy>(o);
}

int NnCluster::Qjfs(const std::vector<std::string>& args, std::string* output) const {
  std::vector<std::string> argv = {BinaryPath("namenode/qjfs"), "--cluster_conf=" + conf_path_};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, output, 60000);
}

namespace {

Status DumpInto(FailoverProxy* client, const th::UserInfo& ugi, const std::string& path,
                std::ostringstream* out) {
  std::vector<th::FileStatus> entries;
  QJ_RETURN_IF_ERROR(client->ListAll(ugi, path, &entries));
  for (const auto& e : entries) {
    *out << e.path << " " << (e.isDir ? "d" : "f") << " perm=" << std::oct << e.permission
         << std::dec << " " << e.owner << ":" << e.group << " len=" << e.length
         << " repl=" << e.replication << " mtime=" << e.modificationTime << " id=" << e.fileId
         << " blocks=" << (e.__isset.blocks ? e.blocks.size() : 0) << "\n";
    if (e.isDir) QJ_RETURN_IF_ERROR(DumpInto(client, ugi, e.path, out));
  }
  return Status::OK();
}

}  // namespace

th::UserInfo SuperUser() {
  th::UserInfo ugi;
  ugi.user = "nnsuper";
  ugi.groups = {"supergroup"};
  return ugi;
}

Result<std::string> DumpTree(FailoverProxy* client, const std::string& root) {
  std::ostringstream out;
  QJ_RETURN_IF_ERROR(DumpInto(client, SuperUser(), root, &out));
  return out.str();
}

}  // namespace qj::testing
