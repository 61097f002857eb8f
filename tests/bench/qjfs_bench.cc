// qjfs-bench: namespace operations per second through the shell's client library
// (FailoverProxy, the HA client `qjfs` uses) against a running cluster, e.g. the one
// scripts/start-cluster.sh starts:
//
//   build/tests/bench/qjfs-bench --cluster_conf=conf/cluster.conf --clients=1,16 --ops=20000
//
// Each client thread has its own proxy (its own connection to the active namenode) and
// does mkdirs, then creates, under /bench-<pid>/<clients>/<thread>/; every call is
// answered only once its edit is committed on a majority of journalnodes. Prints one
// BENCH line per figure. Leaves the created tree behind (delete it with qjfs -rm -r).
//
// --kinds=getfileinfo: each client stats its own directory over and over (reads). With
// --standby_read_share=F, that fraction of the clients send reads to the standby first
// (FailoverProxyOptions::standby_reads), the rest to the active:
//
//   qjfs-bench --kinds=getfileinfo --clients=64 --standby_read_share=0     # active alone
//   qjfs-bench --kinds=getfileinfo --clients=64 --standby_read_share=0.5   # both
#include <gflags/gflags.h>
#include <glog/logging.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/cluster_config.h"
#include "namenode/client/failover_proxy.h"

DEFINE_string(cluster_conf, "conf/cluster.conf", "Cluster file naming the namenodes.");
DEFINE_string(clients, "1,16", "Concurrent client counts (comma list).");
DEFINE_int64(ops, 20000, "Operations per kind and client count (split across clients).");
DEFINE_string(user, "root", "Caller's user name (trusted, as with simple auth).");
DEFINE_string(kinds, "mkdir,create", "Operation kinds, in order: mkdir, create, getfileinfo.");
DEFINE_double(standby_read_share, 0,
              "Fraction (0..1) of the clients that send reads to the standby first.");

namespace {

namespace th = qjournal::thrift;

double NowSec() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Runs `ops` calls of one kind spread over `clients` threads; returns ops/s or -1.
double RunKind(const qj::ClusterConfig& conf, const std::string& kind, int clients, int64_t ops,
               const std::string& base) {
  std::atomic<int64_t> failures{0};
  std::string first_error;
  std::mutex err_mu;
  const int64_t per_client = ops / clients;
  std::vector<std::thread> threads;
  const double t0 = NowSec();
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      qj::nn::FailoverProxyOptions po = qj::nn::FailoverProxyOptionsFromConfig(conf);
      // Clients c with floor((c+1)F) > floor(cF): spread evenly, F x clients of them.
      po.standby_reads = static_cast<int64_t>((c + 1) * FLAGS_standby_read_share) >
                         static_cast<int64_t>(c * FLAGS_standby_read_share);
      qj::nn::FailoverProxy proxy(po);
      th::UserInfo ugi;
      ugi.user = FLAGS_user;
      const std::string dir = base + "/" + std::to_string(c);
      bool created = false;
      qj::Status st = proxy.Mkdirs(ugi, dir, 0755, true, &created);
      for (int64_t i = 0; st.ok() && i < per_client; ++i) {
        const std::string path = dir + "/" + kind + std::to_string(i);
        if (kind == "mkdir") {
          st = proxy.Mkdirs(ugi, path, 0755, false, &created);
        } else if (kind == "getfileinfo") {
          th::FileStatus fs;
          st = proxy.GetFileInfo(ugi, dir, &fs);
        } else {
          th::FileStatus fs;
          st = proxy.Create(ugi, path, 0644, false, 3, 128 << 20, &fs);
        }
      }
      if (!st.ok()) {
        failures++;
        std::lock_guard<std::mutex> l(err_mu);
        if (first_error.empty()) first_error = st.ToString();
      }
    });
  }
  for (auto& t : threads) t.join();
  const double secs = NowSec() - t0;
  if (failures > 0) {
    std::fprintf(stderr, "qjfs-bench: %lld client(s) failed: %s\n",
                 static_cast<long long>(failures.load()), first_error.c_str());
    return -1;
  }
  return static_cast<double>(per_client * clients) / secs;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "qjfs-bench --cluster_conf=FILE [--clients=1,16] [--ops=N] "
      "[--kinds=mkdir,create,getfileinfo] [--standby_read_share=F]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  FLAGS_logtostderr = true;
  google::InitGoogleLogging(argv[0]);
  auto conf = qj::LoadClusterConfig(FLAGS_cluster_conf);
  if (!conf.ok()) {
    std::fprintf(stderr, "qjfs-bench: %s\n", conf.status().ToString().c_str());
    return 2;
  }
  std::vector<int> counts;
  std::stringstream ss(FLAGS_clients);
  for (std::string item; std::getline(ss, item, ',');) {
    int n = std::atoi(item.c_str());
    if (n <= 0) {
      std::fprintf(stderr, "qjfs-bench: bad --clients entry '%s'\n", item.c_str());
      return 2;
    }
    counts.push_back(n);
  }
  if (FLAGS_ops <= 0) {
    std::fprintf(stderr, "qjfs-bench: --ops must be positive\n");
    return 2;
  }
  std::vector<std::string> kinds;
  std::stringstream ks(FLAGS_kinds);
  for (std::string item; std::getline(ks, item, ',');) {
    if (item != "mkdir" && item != "create" && item != "getfileinfo") {
      std::fprintf(stderr, "qjfs-bench: bad --kinds entry '%s' (mkdir, create, getfileinfo)\n",
                   item.c_str());
      return 2;
    }
    kinds.push_back(item);
  }
  if (FLAGS_standby_read_share < 0 || FLAGS_standby_read_share > 1) {
    std::fprintf(stderr, "qjfs-bench: --standby_read_share must be in [0, 1]\n");
    return 2;
  }
  const unsigned cores = std::thread::hardware_concurrency();
  const std::string root = "/bench-" + std::to_string(getpid());
  for (const std::string& kind : kinds) {
    for (int clients : counts) {
      const std::string base = root + "/" + kind + "-" + std::to_string(clients);
      double rate = RunKind(*conf, kind, clients, FLAGS_ops, base);
      if (rate < 0) return 1;
      std::printf(
          "BENCH name=qjfs_%s system=qjournal via=failover_proxy nodes=%zu cores=%u clients=%d "
          "standby_read_share=%.2f ops=%lld value=%.0f unit=ops/s\n",
          kind.c_str(), conf->journal.journalnodes.size(), cores, clients, FLAGS_standby_read_share,
          static_cast<long long>(FLAGS_ops / clients * clients), rate);
      std::fflush(stdout);
    }
  }
  return 0;
}
