#include "tests/support/ha_cluster.h"

#include <glog/logging.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "failover/namenode_target.h"

namespace qj::testing {

namespace {
int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

HaCluster::HaCluster(HaClusterOptions opts) : opts_(std::move(opts)), dir_("qjha") {
  std::vector<int> ports = PickFreePorts(7);
  jn_ports_ = {ports[0], ports[1], ports[2]};
  nn_ports_ = {ports[3], ports[4]};
  fo_ports_ = {ports[5], ports[6]};
  for (int i = 0; i < 3; ++i) jns_.push_back(std::make_unique<Process>());
  for (int i = 0; i < 2; ++i) {
    nns_.push_back(std::make_unique<Process>());
    fos_.push_back(std::make_unique<Process>());
  }
}

void HaCluster::SetJournalLinks(int nn, FaultProxy::Mode mode) {
  for (int j = 0; j < 3; ++j) journal_link(nn, j).SetMode(mode);
}

HaCluster::~HaCluster() {
  // Failoverds first (they would otherwise react to the namenodes going away).
  for (auto& p : fos_) p->Kill();
  for (auto& p : nns_) p->Kill();
  for (auto& p : jns_) p->Kill();
}

Status HaCluster::WriteConf() {
  auto uri = [](const std::vector<int>& p) {
    return "journal.uri = qjournal://127.0.0.1:" + std::to_string(p[0]) +
           ";127.0.0.1:" + std::to_string(p[1]) + ";127.0.0.1:" + std::to_string(p[2]) + "/ns1\n";
  };
  std::ostringstream c;
  c << "namespace.id = 42\ncluster.id = ha-test\n";
  c << "namenode.ids = nn1,nn2\n";
  for (int i = 0; i < 2; ++i) {
    c << "namenode.nn" << i + 1 << ".host = 127.0.0.1\n";
    c << "namenode.nn" << i + 1 << ".rpc_port = " << nn_ports_[i] << "\n";
    c << "namenode.nn" << i + 1 << ".failoverd_port = " << fo_ports_[i] << "\n";
  }
  c << "failover.automatic = " << (opts_.automatic ? "true" : "false") << "\n";
  c << "lease.duration_ms = " << opts_.lease_duration_ms << "\n";
  c << "lease.drift = " << opts_.lease_drift << "\n";
  c << "lease.margin_ms = " << opts_.lease_margin_ms << "\n";
  c << "lease.renew_interval_ms = " << opts_.renew_interval_ms << "\n";
  c << "lease.acquire_interval_ms = " << opts_.acquire_interval_ms << "\n";
  c << "health.interval_ms = " << opts_.health_interval_ms << "\n";
  c << "health.timeout_ms = " << opts_.health_timeout_ms << "\n";
  c << "health.journal_stall_ms = " << opts_.health_journal_stall_ms << "\n";
  auto write = [](const std::string& path, const std::string& text) {
    std::ofstream f(path);
    f << text;
    f.close();
    return f ? Status::OK() : Status::IOError("cannot write " + path);
  };
  conf_path_ = dir_.path() + "/cluster.conf";
  QJ_RETURN_IF_ERROR(write(conf_path_, c.str() + uri(jn_ports_)));
  nn_conf_paths_.assign(2, conf_path_);
  if (opts_.proxy_journal_links && proxies_.empty()) {
    for (int nn = 0; nn < 2; ++nn) {
      std::vector<int> via;
      for (int j = 0; j < 3; ++j) {
        proxies_.push_back(std::make_unique<FaultProxy>(jn_ports_[j]));
        QJ_RETURN_IF_ERROR(proxies_.back()->Start());
        via.push_back(proxies_.back()->port());
      }
      nn_conf_paths_[nn] = dir_.path() + "/cluster-" + nn_id(nn) + ".conf";
      QJ_RETURN_IF_ERROR(write(nn_conf_paths_[nn], c.str() + uri(via)));
    }
  }
  auto conf = LoadClusterConfig(conf_path_);
  if (!conf.ok()) return conf.status();
  conf_ = *conf;
  return Status::OK();
}

std::vector<std::string> HaCluster::NamenodeArgv(int i) const {
  std::vector<std::string> argv = {
      BinaryPath("namenode/namenode"), "--cluster_conf=" + nn_conf_paths_.at(i),
      "--namenode_id=" + nn_id(i), "--namenode_name_dir=" + dir_.path() + "/" + nn_id(i)};
  for (const auto& f : opts_.nn_flags) argv.push_back(f);
  return argv;
}

Status HaCluster::Start() {
  QJ_RETURN_IF_ERROR(WriteConf());
  // 1. Journalnodes, with a grace period as short as the lease allows.
  const std::string lease_ms = std::to_string(opts_.lease_duration_ms);
  std::string peers;
  for (int p : jn_ports_) peers += (peers.empty() ? "" : ",") + ("127.0.0.1:" + std::to_string(p));
  for (int i = 0; i < 3; ++i) {
    const std::string name = "jn" + std::to_string(i + 1);
    std::vector<std::string> argv = {BinaryPath("journalnode/journalnode"),
                                     "--journalnode_name=" + name,
                                     "--journalnode_rpc_port=" + std::to_string(jn_ports_[i]),
                                     "--journalnode_edits_dir=" + dir_.path() + "/" + name,
                                     "--journalnode_peers=" + peers,
                                     "--journalnode_lease_max_duration_ms=" + lease_ms,
                                     "--journalnode_lease_grace_ms=" + lease_ms};
    for (const auto& f : opts_.jn_flags) argv.push_back(f);
    jns_[i]->Start(argv, dir_.path() + "/" + name + ".log");
  }
  for (int i = 0; i < 3; ++i) {
    if (!WaitForPort(jn_ports_[i], 20000)) {
      return Status::Unavailable("jn" + std::to_string(i + 1) + " did not start: see " +
                                 dir_.path() + "/jn" + std::to_string(i + 1) + ".log");
    }
  }
  // 2. Format nn1, start it, bootstrap nn2 from it, start nn2.
  std::string out;
  std::vector<std::string> fmt = NamenodeArgv(0);
  fmt.push_back("--format");
  if (RunCommand(fmt, &out, 60000) != 0) return Status::IOError("nn1 --format failed: " + out);
  QJ_RETURN_IF_ERROR(StartNamenode(0));
  std::vector<std::string> boot = NamenodeArgv(1);
  boot.push_back("--bootstrap_standby");
  if (RunCommand(boot, &out, 60000) != 0) {
    return Status::IOError("nn2 --bootstrap_standby failed: " + out);
  }
  QJ_RETURN_IF_ERROR(StartNamenode(1));
  // 3. Failoverds.
  if (opts_.start_failoverds) {
    for (int i = 0; i < 2; ++i) QJ_RETURN_IF_ERROR(StartFailoverd(i));
  }
  return Status::OK();
}

Status HaCluster::StartNamenode(int i) {
  nns_[i]->Start(NamenodeArgv(i), dir_.path() + "/" + nn_id(i) + ".log");
  if (!WaitForPort(nn_ports_[i], 30000)) {
    return Status::Unavailable(nn_id(i) + " did not start: see " + dir_.path() + "/" + nn_id(i) +
                               ".log");
  }
  return Status::OK();
}

Status HaCluster::StartFailoverd(int i) {
  std::vector<std::string> argv = {BinaryPath("failover/failoverd"), "--cluster_conf=" + conf_path_,
                                   "--namenode_id=" + nn_id(i)};
  for (const auto& f : opts_.fo_flags) argv.push_back(f);
  fos_[i]->Start(argv, dir_.path() + "/failoverd-" + nn_id(i) + ".log");
  if (!WaitForPort(fo_ports_[i], 20000)) {
    return Status::Unavailable("failoverd-" + nn_id(i) + " did not start: see " + dir_.path() +
                               "/failoverd-" + nn_id(i) + ".log");
  }
  return Status::OK();
}

std::string HaCluster::ServiceState(int i) const {
  fo::RpcNamenodeTarget t(conf_.namenodes.at(i), 500);
  auto s = t.GetServiceStatus();
  return s.ok() ? s->state : "";
}

int HaCluster::WaitForActive(int timeout_ms) const {
  const int64_t give_up = NowMs() + timeout_ms;
  while (true) {
    const bool a0 = ServiceState(0) == "active";
    const bool a1 = ServiceState(1) == "active";
    if (a0 != a1) return a0 ? 0 : 1;
    if (NowMs() > give_up) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

bool HaCluster::WaitForState(int i, const std::string& state, int timeout_ms) const {
  const int64_t give_up = NowMs() + timeout_ms;
  while (ServiceState(i) != state) {
    if (NowMs() > give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

int HaCluster::Haadmin(const std::vector<std::string>& args, std::string* output) const {
  std::vector<std::string> argv = {BinaryPath("failover/haadmin"), "--cluster_conf=" + conf_path_};
  for (const auto& a : args) argv.push_back(a);
  return RunCommand(argv, output, 120000);
}

}  // namespace qj::testing
