// Namenode figures: mkdirs and creates per second with 1, 16, 64, 256 concurrent RPC clients
// (with the per-call latency p50/p99 the clients saw)
// against a real active namenode whose edits go to real journalnodes (each operation is
// durable on the quorum before it is answered), and the standby's apply lag.
//
// Setup: 3 journalnodes, a cluster file for nn1 + nn2 in manual failover mode,
// `namenode --format` for nn1, `--bootstrap_standby` for nn2, both started, nn1 made active
// with transitionToActive (REQUEST_BY_USER_FORCED, no lease deadline).
#include <dirent.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <mutex>
#include <thread>

#include "ClientProtocol.h"
#include "tests/bench/bench_phases.h"
#include "tests/bench/bench_util.h"
#include "tests/support/process.h"

namespace qj::bench {
namespace {

namespace th = qjournal::thrift;
using apache::thrift::protocol::TBinaryProtocol;
using apache::thrift::transport::TFramedTransport;
using apache::thrift::transport::TSocket;

// One connection to one namenode; thread-compatible.
struct NnConn {
  std::shared_ptr<TFramedTransport> tr;
  std::unique_ptr<th::ClientProtocolClient> c;
  explicit NnConn(int port) {
    auto sock = std::make_shared<TSocket>("127.0.0.1", port);
    sock->setConnTimeout(2000);
    sock->setRecvTimeout(60000);
    sock->setNoDelay(true);
    tr = std::make_shared<TFramedTransport>(sock);
    c = std::make_unique<th::ClientProtocolClient>(std::make_shared<TBinaryProtocol>(tr));
    tr->open();
  }
};

struct Namenode {
  std::string id;
  int port = 0;
  std::string dir;
  qj::testing::Process proc;
};

// Context switches of every thread of a process so far (voluntary + involuntary), summed
// over /proc/<pid>/task/*/status (threads that have exited are not counted). A voluntary
// switch is a thread going to sleep: each hand-off between threads costs about one.
struct Switches {
  int64_t voluntary = 0;
  int64_t involuntary = 0;
};
Switches ProcSwitches(pid_t pid) {
  Switches s;
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return s;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream in(dir + "/" + e->d_name + "/status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("voluntary_ctxt_switches:", 0) == 0) {
        s.voluntary += std::stoll(line.substr(line.find(':') + 1));
      } else if (line.rfind("nonvoluntary_ctxt_switches:", 0) == 0) {
        s.involuntary += std::stoll(line.substr(line.find(':') + 1));
      }
    }
  }
  ::closedir(d);
  return s;
}
Switches AllSwitches(const std::vector<pid_t>& pids) {
  Switches s;
  for (pid_t p : pids) {
    const Switches one = ProcSwitches(p);
    s.voluntary += one.voluntary;
    s.involuntary += one.involuntary;
  }
  return s;
}

std::string Describe(const std::exception& e) {
  if (auto* fe = dynamic_cast<const th::FsException*>(&e)) {
    return "FsException " + std::to_string(static_cast<int>(fe->code)) + ": " + fe->message;
  }
  return e.what();
}

Status RunCmd(const std::vector<std::string>& argv, const std::string& what) {
  std::string out;
  int rc = qj::testing::RunCommand(argv, &out, 120000);
  if (rc != 0) {
    return Status::IOError("bench: " + what + " exited " + std::to_string(rc) + ": " +
                           out.substr(out.size() > 2000 ? out.size() - 2000 : 0));
  }
  return Status::OK();
}

Result<int64_t> LastApplied(NnConn* c, int port) {
  try {
    th::HAServiceStatus st;
    c->c->getServiceStatus(st);
    return st.lastAppliedTxId;
  } catch (const std::exception& e) {
    return Status::NetworkError("bench: getServiceStatus on port " + std::to_string(port) + ": " +
                                Describe(e));
  }
}

// `clients` threads, each on its own connection, run ops/clients operations of `kind`.
Status OpsPerSecond(const BenchOptions& o, Namenode* active, const std::vector<pid_t>& pids,
                    const std::string& kind, int clients, int run) {
  const int64_t per = std::max<int64_t>(1, o.nn_ops / clients);
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::string failure;  // GUARDED_BY(mu)
  th::UserInfo ugi;
  ugi.user = "root";
  ugi.groups = {"root"};
  // Parents first, so that every measured operation is one edit.
  const std::string base = "/bench" + std::to_string(run);
  try {
    NnConn c(active->port);
    for (int t = 0; t < clients; t++) {
      c.c->mkdirs(ugi, base + "/t" + std::to_string(t), 0755, true, th::RpcIds());
    }
  } catch (const std::exception& e) {
    return Status::IOError("bench: mkdirs parents: " + Describe(e));
  }
  // Each client's call latencies (us), merged after the run.
  std::vector<std::vector<double>> latency(static_cast<size_t>(clients));
  CpuMeter cpu(pids);
  cpu.Start();
  // The active namenode's and the clients' (this process's) shares of the total.
  const double nn_cpu0 = ProcCpuUs(active->proc.pid()), self_cpu0 = SelfCpuUs();
  const Switches nn_sw0 = ProcSwitches(active->proc.pid()), all_sw0 = AllSwitches(pids);
  double t0 = NowUs();
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; t++) {
    threads.emplace_back([&, t] {
      std::vector<double>& lat = latency[static_cast<size_t>(t)];
      lat.reserve(static_cast<size_t>(per));
      try {
        NnConn c(active->port);
        const std::string dir = base + "/t" + std::to_string(t) + "/";
        for (int64_t i = 0; i < per && !failed; i++) {
          const double start = NowUs();
          if (kind == "mkdirs") {
            if (!c.c->mkdirs(ugi, dir + "d" + std::to_string(i), 0755, false, th::RpcIds())) {
              throw std::runtime_error("mkdirs returned false for a new directory");
            }
          } else {
            th::FileStatus fs;
            c.c->create(fs, ugi, dir + "f" + std::to_string(i), 0644, false, 3, 128 << 20,
                        th::RpcIds());
          }
          lat.push_back(NowUs() - start);
        }
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> l(mu);
        if (failure.empty()) failure = Describe(e);
        failed = true;
      }
    });
  }
  for (auto& th : threads) th.join();
  double us = NowUs() - t0;
  const double nn_cpu = ProcCpuUs(active->proc.pid()) - nn_cpu0;
  const double self_cpu = SelfCpuUs() - self_cpu0;
  const Switches nn_sw1 = ProcSwitches(active->proc.pid()), all_sw1 = AllSwitches(pids);
  if (failed) return Status::IOError("bench: namenode " + kind + ": " + failure);
  const int64_t ops = per * clients;
  std::vector<double> all;
  all.reserve(static_cast<size_t>(ops));
  for (const auto& v : latency) all.insert(all.end(), v.begin(), v.end());
  const double p50 = Percentile(&all, 0.5), p99 = Percentile(&all, 0.99);
  BenchLine("nn_" + kind)
      .Add("payload", 0)
      .Add("nodes", 3)
      .Add("cores", Cores())
      .Add("ops", ops)
      .AddFixed("value", static_cast<double>(ops) / (us / 1e6), 0)
      .Add("unit", "ops/s")
      .Add("clients", clients)
      .AddFixed("p50_us", p50, 0)
      .AddFixed("p99_us", p99, 0)
      .AddFixed("cpu_us_per_op", cpu.Elapsed() / static_cast<double>(ops), 2)
      .AddFixed("nn_cpu_us_per_op", nn_cpu / static_cast<double>(ops), 2)
      .AddFixed("client_cpu_us_per_op", self_cpu / static_cast<double>(ops), 2)
      // Thread sleeps (voluntary context switches) per operation: in the active namenode,
      // and in the daemons together (journalnodes and namenodes, not the clients).
      .AddFixed("nn_sleeps_per_op",
                static_cast<double>(nn_sw1.voluntary - nn_sw0.voluntary) / static_cast<double>(ops),
                2)
      .AddFixed(
          "sleeps_per_op",
          static_cast<double>(all_sw1.voluntary - all_sw0.voluntary) / static_cast<double>(ops), 2)
      .AddFixed(
          "preempted_per_op",
          static_cast<double>(all_sw1.involuntary - all_sw0.involuntary) / static_cast<double>(ops),
          2)
      .Print();
  return Status::OK();
}

// While 8 clients write mkdirs in a loop (about half of the namenode's 64-client peak), samples the
// active's last applied txid every 5 ms and times how long the standby takes to apply it (polled
// every 0.2 ms, so the figure is up to 0.2 ms high).
Status StandbyLag(const BenchOptions& o, Namenode* active, Namenode* standby,
                  const std::vector<pid_t>& pids, int run) {
  std::atomic<bool> stop{false};
  th::UserInfo ugi;
  ugi.user = "root";
  ugi.groups = {"root"};
  const std::string base = "/lag" + std::to_string(run);
  std::atomic<bool> failed{false};
  std::atomic<int64_t> writes{0};
  CpuMeter cpu(pids);
  cpu.Start();
  // kLagClients writers, each in its own directory: about half of the namenode's peak.
  constexpr int kLagClients = 8;
  try {
    NnConn c(active->port);
    for (int w = 0; w < kLagClients; w++) {
      c.c->mkdirs(ugi, base + "/w" + std::to_string(w), 0755, true, th::RpcIds());
    }
  } catch (const std::exception& e) {
    return Status::IOError("bench: mkdirs parents: " + Describe(e));
  }
  std::vector<std::thread> writers;
  for (int w = 0; w < kLagClients; w++) {
    writers.emplace_back([&, w] {
      try {
        NnConn c(active->port);
        const std::string dir = base + "/w" + std::to_string(w) + "/d";
        for (int64_t i = 0; !stop; i++) {
          c.c->mkdirs(ugi, dir + std::to_string(i), 0755, false, th::RpcIds());
          writes++;
        }
      } catch (const std::exception&) {
        failed = true;
      }
    });
  }
  std::vector<double> lag;
  double end = NowUs() + o.tail_seconds * 1e6;
  Status st;
  std::unique_ptr<NnConn> ac, sc;
  try {
    ac = std::make_unique<NnConn>(active->port);
    sc = std::make_unique<NnConn>(standby->port);
  } catch (const std::exception& e) {
    st = Status::NetworkError("bench: connect to the namenodes: " + Describe(e));
  }
  while (st.ok() && NowUs() < end && !failed) {
    Result<int64_t> a = LastApplied(ac.get(), active->port);
    double t = NowUs();
    if (!a.ok()) {
      st = a.status();
      break;
    }
    while (true) {
      Result<int64_t> s = LastApplied(sc.get(), standby->port);
      if (!s.ok()) {
        st = s.status();
        break;
      }
      if (*s >= *a) break;
      if (NowUs() - t > 30e6) {
        st = Status::TimedOut("bench: standby stuck below txid " + std::to_string(*a));
        break;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    lag.push_back(NowUs() - t);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stop = true;
  for (auto& w : writers) w.join();
  QJ_RETURN_IF_ERROR(st);
  if (failed) return Status::IOError("bench: writer failed during the standby lag run");
  int64_t n = static_cast<int64_t>(lag.size());
  double p50 = Percentile(&lag, 0.5), p99 = Percentile(&lag, 0.99);
  BenchLine("standby_apply_lag")
      .Add("payload", 0)
      .Add("nodes", 3)
      .Add("cores", Cores())
      .Add("ops", n)
      .AddFixed("value", p99 / 1000, 2)
      .Add("unit", "ms_p99")
      .AddFixed("p50_ms", p50 / 1000, 2)
      .AddFixed("p99_ms", p99 / 1000, 2)
      .Add("load", std::to_string(kLagClients) + "_clients_mkdirs")
      .AddFixed("load_ops_per_s", static_cast<double>(writes) / o.tail_seconds, 0)
      .Add("writes", writes.load())
      .AddFixed("cpu_us_per_op", cpu.Elapsed() / static_cast<double>(std::max<int64_t>(1, writes)),
                2)
      .Print();
  return Status::OK();
}

}  // namespace

Status RunNamenodeFigures(const BenchOptions& o, int nodes) {
  const std::string nn_bin = qj::testing::BinaryPath("namenode/namenode");
  if (access(nn_bin.c_str(), X_OK) != 0) {
    return Status::NotFound("bench: no namenode binary at " + nn_bin);
  }
  const std::string root = o.work_dir + "/nn";
  BenchJournalnodes jns(root, nodes, o.pid_file, o.jn_extra_flags);
  QJ_RETURN_IF_ERROR(jns.Start(30000));
  std::vector<int> ports = qj::testing::PickFreePorts(4);
  Namenode nn[2];
  std::string uri = "qjournal://";
  for (int i = 0; i < nodes; i++) uri += (i ? ";" : "") + jns.hostports()[i].ToString();
  uri += "/bench";
  std::ofstream conf(root + "/cluster.conf");
  conf << "namespace.id = 4711\ncluster.id = bench\njournal.uri = " << uri
       << "\nnamenode.ids = nn1,nn2\nfailover.automatic = false\n";
  for (int i = 0; i < 2; i++) {
    nn[i].id = "nn" + std::to_string(i + 1);
    nn[i].port = ports[i];
    nn[i].dir = root + "/" + nn[i].id;
    conf << "namenode." << nn[i].id << ".host = 127.0.0.1\nnamenode." << nn[i].id
         << ".rpc_port = " << ports[i] << "\nnamenode." << nn[i].id
         << ".failoverd_port = " << ports[2 + i] << "\n";
  }
  conf.close();
  auto args = [&](int i) {
    return std::vector<std::string>{nn_bin, "--cluster_conf=" + root + "/cluster.conf",
                                    "--namenode_id=" + nn[i].id, "--namenode_name_dir=" + nn[i].dir,
                                    "--logtostderr=1"};
  };
  std::vector<std::string> fmt = args(0);
  fmt.push_back("--format");
  QJ_RETURN_IF_ERROR(RunCmd(fmt, "namenode --format"));
  nn[0].proc.Start(args(0), root + "/nn1.log");
  o.pid_file->Add(nn[0].proc.pid());
  if (!qj::testing::WaitForPort(nn[0].port, 60000)) {
    return Status::IOError("bench: nn1 did not open its port; see " + root + "/nn1.log");
  }
  try {
    NnConn c(nn[0].port);
    th::HAStateChangeRequest req;
    req.source = th::RequestSource::REQUEST_BY_USER_FORCED;
    c.c->transitionToActive(req);
  } catch (const std::exception& e) {
    return Status::IOError("bench: transitionToActive nn1: " + Describe(e));
  }
  std::vector<std::string> boot = args(1);
  boot.push_back("--bootstrap_standby");
  QJ_RETURN_IF_ERROR(RunCmd(boot, "namenode --bootstrap_standby"));
  nn[1].proc.Start(args(1), root + "/nn2.log");
  o.pid_file->Add(nn[1].proc.pid());
  if (!qj::testing::WaitForPort(nn[1].port, 60000)) {
    return Status::IOError("bench: nn2 did not open its port; see " + root + "/nn2.log");
  }

  std::vector<pid_t> pids = jns.pids();
  pids.push_back(nn[0].proc.pid());
  pids.push_back(nn[1].proc.pid());
  int run = 0;
  for (const char* kind : {"mkdirs", "create"}) {
    for (int clients : o.nn_clients) {
      QJ_RETURN_IF_ERROR(OpsPerSecond(o, &nn[0], pids, kind, clients, ++run));
    }
  }
  QJ_RETURN_IF_ERROR(StandbyLag(o, &nn[0], &nn[1], pids, ++run));
  for (auto& n : nn) {
    o.pid_file->Remove(n.proc.pid());
    n.proc.Terminate();
  }
  jns.Stop();
  return Status::OK();
}

}  // namespace qj::bench
