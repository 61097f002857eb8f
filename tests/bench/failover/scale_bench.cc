// Failover time at scale: what a namespace of N inodes costs the two failover steps that
// depend on its size, on a real 3-journalnode, 2-namenode cluster (tests/support/ha_cluster.h,
// manual mode: the benchmark makes the transitions itself, so lease timings do not blur the
// figures).
//
//   promotion   a standby that holds the namespace (tailed up to date) is made active:
//               time from the transitionToActive call to the first mkdirs it acknowledges
//               (target <= 1 s at 10 M inodes);
//   recovery    the ex-active, fenced by that promotion, is sent transitionToStandby: it
//               reloads the newest image and replays the journal from it; time from the
//               call until it answers monitorHealth as healthy and has applied every edit
//               the new active had written when the call was made (target <= 30 s).
//
// The namespace is built offline, not through 10 M RPCs: after the cluster is formatted the
// namenodes are stopped, this process builds the namespace in memory (mkdirs, FsNamespace's
// own Prepare/Apply) and writes it with SaveImage over the formatted image (same txid, same
// namespace id) in both name dirs, and the namenodes start on it. The first active then
// writes --tail_edits mkdirs through RPC, so the recovery replays a journal tail as well.
// Memory: each namenode's resident set (VmRSS) after loading is printed.
//
//   scale_bench [--inodes=1000000,10000000] [--tail_edits=5000] [--trials=3]
//   scale_bench --offline_only --inodes=N --image_dir=DIR   (writes DIR/fsimage_0)
//   scale_bench --load_image=DIR/fsimage_0 [--load_repeat=2]
#include <gflags/gflags.h>
#include <glog/logging.h>
#include <malloc.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ClientProtocol.h"
#include "common/clock.h"
#include "common/rpc/rpc.h"
#include "failover/namenode_target.h"
#include "namenode/image.h"
#include "namenode/namespace.h"
#include "namenode/node_pool.h"
#include "namenode_types.h"
#include "tests/support/ha_cluster.h"
#include "tests/support/process.h"

DEFINE_string(inodes, "1000000,10000000", "Comma list of namespace sizes (inodes) to measure.");
DEFINE_int32(fanout, 1000, "Directories per parent directory in the generated namespace.");
DEFINE_int32(tail_edits, 5000,
             "mkdirs the first active writes after the image (replayed by the recovery).");
DEFINE_int32(writer_threads, 8, "Client threads writing the tail edits.");
DEFINE_int32(trials, 3, "Promotion/recovery pairs per size (the namenodes swap roles).");
DEFINE_bool(offline_only, false,
            "Only build, save and load the image in this process (no cluster): where image "
            "load time goes, without daemons.");

DEFINE_string(image_dir, "",
              "With --offline_only: write the image into this (existing) directory and keep "
              "it, for --load_image.");
DEFINE_string(load_image, "", "Only time LoadImage of this image file in this process, then exit.");
DEFINE_int32(load_repeat, 1,
             "With --load_image: load it this many times, each time freeing the previous "
             "namespace first (as a reload does); the first load takes fresh memory, the "
             "later ones reuse it.");

namespace qj::testing {

using nn::Caller;
using nn::FindImages;
using nn::FsNamespace;
using nn::ImageFileName;
using nn::LoadImage;
using nn::NamespaceOptions;
using nn::SaveImage;
using nn::VerifyImageFile;

namespace {

namespace th = qjournal::thrift;

int64_t MonoNs() { return RealClock::Get()->MonotonicNanos(); }

double MsSince(int64_t t0) { return static_cast<double>(MonoNs() - t0) / 1e6; }

// Resident set of a process in MiB (VmRSS), -1 if unknown.
double RssMiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return -1;
}

th::UserInfo Root() {
  th::UserInfo u;
  u.user = "root";
  u.groups = {"root"};
  return u;
}

// One mkdirs on namenode `nn`; OK, or why not.
Status Mkdirs(const NamenodeInfo& nn, const std::string& path, int64_t timeout_ms = 5000) {
  rpc::Client<th::ClientProtocolClient> conn(nn.rpc(), rpc::ClientOptions::WithTimeout(timeout_ms));
  auto c = conn.Get();
  if (!c.ok()) return c.status();
  try {
    (*c)->mkdirs(Root(), path, 0755, true, th::RpcIds());
    return Status::OK();
  } catch (const th::FsException& e) {
    return Status::IllegalState(e.message);
  } catch (const apache::thrift::TException& e) {
    return Status::NetworkError(e.what());
  }
}

// The namespace of `inodes` inodes (the root included): /s/p<k>/d<j>, `fanout` per level.
Result<std::unique_ptr<FsNamespace>> Build(int64_t namespace_id, int64_t inodes) {
  NamespaceOptions o;
  o.namespace_id = namespace_id;
  o.superuser = "root";
  auto ns = std::make_unique<FsNamespace>(o);
  const Caller caller{"root", {"root"}};
  auto mkdir = [&](const std::string& path) -> Status {
    auto e = ns->PrepareMkdirs(caller, path, 0755, false, 1);
    if (!e.ok()) return Status::IOError("mkdirs " + path + ": " + e.status().ToString());
    if (!e->has_value()) return Status::OK();
    return ns->Apply(**e);
  };
  QJ_RETURN_IF_ERROR(mkdir("/s"));
  std::string parent;
  for (int64_t i = 0; ns->inode_count() < inodes; ++i) {
    if (i % FLAGS_fanout == 0) {
      parent = "/s/p" + std::to_string(i / FLAGS_fanout);
      QJ_RETURN_IF_ERROR(mkdir(parent));
      if (ns->inode_count() >= inodes) break;
    }
    QJ_RETURN_IF_ERROR(mkdir(parent + "/d" + std::to_string(i % FLAGS_fanout)));
  }
  return ns;
}

// Polls until namenode i answers monitorHealth OK and has applied `txid`; false on timeout.
bool WaitHealthyAt(const NamenodeInfo& nn, int64_t txid, int timeout_ms) {
  fo::RpcNamenodeTarget t(nn, 2000);
  return WaitFor(
      [&] {
        if (!t.MonitorHealth().ok()) return false;
        auto st = t.GetServiceStatus();
        return st.ok() && st->last_applied_txid >= txid;
      },
      timeout_ms);
}

int64_t AppliedTxid(const NamenodeInfo& nn) {
  fo::RpcNamenodeTarget t(nn, 5000);
  auto st = t.GetServiceStatus();
  return st.ok() ? st->last_applied_txid : -1;
}

struct Figures {
  std::vector<double> promote_ms, promote_rpc_ms, recover_ms, recover_rpc_ms;
};

double Median(std::vector<double> v) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  return v[(v.size() - 1) / 2];
}

std::string List(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  std::ostringstream s;
  for (double x : v) s << " " << static_cast<int64_t>(x);
  return s.str();
}

double CpuMs() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

int64_t MinorFaults() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_minflt;
}

// Build, SaveImage, LoadImage in this process: wall and CPU time of each.
int RunOffline(int64_t inodes) {
  TempDir tmp("scale_bench");
  const std::string dir_path = FLAGS_image_dir.empty() ? tmp.path() : FLAGS_image_dir;
  double c0 = CpuMs();
  int64_t t0 = MonoNs();
  auto ns = Build(1, inodes);
  if (!ns.ok()) {
    std::fprintf(stderr, "scale_bench: %s\n", ns.status().ToString().c_str());
    return 1;
  }
  std::printf("%lld inodes offline: build %.0f ms (cpu %.0f ms)", static_cast<long long>(inodes),
              MsSince(t0), CpuMs() - c0);
  c0 = CpuMs();
  t0 = MonoNs();
  Status s = SaveImage(**ns, 0, dir_path);
  if (!s.ok()) {
    std::fprintf(stderr, "scale_bench: SaveImage: %s\n", s.ToString().c_str());
    return 1;
  }
  std::printf(", save %.0f ms (cpu %.0f ms)", MsSince(t0), CpuMs() - c0);
  ns->reset();
  NamespaceOptions o;
  o.namespace_id = 1;
  o.superuser = "root";
  c0 = CpuMs();
  t0 = MonoNs();
  auto loaded = LoadImage(dir_path + "/" + ImageFileName(0), o);
  if (!loaded.ok()) {
    std::fprintf(stderr, "scale_bench: LoadImage: %s\n", loaded.status().ToString().c_str());
    return 1;
  }
  std::printf(", load %.0f ms (cpu %.0f ms)", MsSince(t0), CpuMs() - c0);
  c0 = CpuMs();
  t0 = MonoNs();
  loaded->ns.reset();
  std::printf(", free %.0f ms (cpu %.0f ms)\n", MsSince(t0), CpuMs() - c0);
  std::fflush(stdout);
  return 0;
}

int RunSize(int64_t inodes) {
  if (FLAGS_offline_only) return RunOffline(inodes);
  HaClusterOptions o;
  o.automatic = false;
  o.start_failoverds = false;
  // The tail must stay in the journal for the recovery to replay it: no checkpoint.
  o.nn_flags = {"--namenode_checkpoint_txns=100000000", "--namenode_checkpoint_period_s=100000"};
  HaCluster c(o);
  Status s = c.Start();
  if (!s.ok()) {
    std::fprintf(stderr, "scale_bench: cluster did not start: %s\n", s.ToString().c_str());
    return 1;
  }
  // 1. The namespace, offline, over the formatted image in both name dirs.
  c.namenode(0).Kill();
  c.namenode(1).Kill();
  auto images = FindImages(c.dir() + "/nn1");
  if (!images.ok() || images->empty()) {
    std::fprintf(stderr, "scale_bench: no formatted image in %s/nn1\n", c.dir().c_str());
    return 1;
  }
  const int64_t txid = images->back().txid;
  rusage ru0;
  getrusage(RUSAGE_SELF, &ru0);
  int64_t t0 = MonoNs();
  auto ns = Build(c.conf().namespace_id, inodes);
  if (!ns.ok()) {
    std::fprintf(stderr, "scale_bench: %s\n", ns.status().ToString().c_str());
    return 1;
  }
  const double build_ms = MsSince(t0);
  rusage ru1;
  getrusage(RUSAGE_SELF, &ru1);
  t0 = MonoNs();
  for (const char* nn : {"/nn1", "/nn2"}) {
    s = SaveImage(**ns, txid, c.dir() + nn);
    if (!s.ok()) {
      std::fprintf(stderr, "scale_bench: SaveImage: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  const double save_ms = MsSince(t0) / 2;
  ns->reset();
  malloc_trim(0);  // give the generator's memory back before the namenodes load
  auto info = VerifyImageFile(c.dir() + "/nn1/" + ImageFileName(txid));
  std::printf(
      "%lld inodes: built in %.0f ms (generator max RSS grew %.0f MiB), image %.0f MiB "
      "written in %.0f ms per copy\n",
      static_cast<long long>(inodes), build_ms,
      static_cast<double>(ru1.ru_maxrss - ru0.ru_maxrss) / 1024.0,
      info.ok() ? static_cast<double>(info->file_size) / (1 << 20) : -1.0, save_ms);
  std::fflush(stdout);
  // 2. Start both namenodes on it.
  for (int i = 0; i < 2; ++i) {
    t0 = MonoNs();
    s = c.StartNamenode(i);  // waits 30 s for the port
    if (!s.ok() && !WaitForPort(c.nn_info(i).rpc_port, 600000)) {
      std::fprintf(stderr, "scale_bench: nn%d did not start: %s\n", i + 1, s.ToString().c_str());
      return 1;
    }
    if (!WaitHealthyAt(c.nn_info(i), txid, 600000)) {
      std::fprintf(stderr, "scale_bench: nn%d not healthy; logs in %s\n", i + 1, c.dir().c_str());
      return 1;
    }
    std::printf("  nn%d: start-up (load image, tail) %.0f ms, RSS %.0f MiB\n", i + 1, MsSince(t0),
                RssMiB(c.namenode(i).pid()));
    std::fflush(stdout);
  }
  // 3. nn1 active; the tail edits.
  {
    fo::RpcNamenodeTarget t(c.nn_info(0), 600000);
    s = t.TransitionToActive(th::RequestSource::REQUEST_BY_USER, 0);
    if (!s.ok()) {
      std::fprintf(stderr, "scale_bench: nn1 transitionToActive: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  Figures f;
  int active = 0;
  for (int trial = 0; trial < FLAGS_trials; ++trial) {
    const int standby = 1 - active;
    const NamenodeInfo& a = c.nn_info(active);
    const NamenodeInfo& b = c.nn_info(standby);
    t0 = MonoNs();
    std::atomic<int> next{0}, failed{0};
    std::vector<std::thread> writers;
    for (int w = 0; w < FLAGS_writer_threads; ++w) {
      writers.emplace_back([&, w] {
        for (int n = next++; n < FLAGS_tail_edits; n = next++) {
          if (!Mkdirs(a, "/t" + std::to_string(trial) + "/w" + std::to_string(w) + "/d" +
                             std::to_string(n))
                   .ok()) {
            ++failed;
          }
        }
      });
    }
    for (auto& w : writers) w.join();
    if (failed > 0) {
      std::fprintf(stderr, "scale_bench: %d tail mkdirs failed\n", failed.load());
      return 1;
    }
    const double tail_ms = MsSince(t0);
    // The standby has tailed everything.
    const int64_t end = AppliedTxid(a);
    if (!WaitHealthyAt(b, end, 120000)) {
      std::fprintf(stderr, "scale_bench: standby did not catch up to %lld\n",
                   static_cast<long long>(end));
      return 1;
    }
    // 4. Promotion: the standby becomes active (a new epoch fences the old active).
    t0 = MonoNs();
    {
      fo::RpcNamenodeTarget t(b, 600000);
      s = t.TransitionToActive(th::RequestSource::REQUEST_BY_USER_FORCED, 0);
    }
    const double rpc_ms = MsSince(t0);
    if (!s.ok()) {
      std::fprintf(stderr, "scale_bench: promotion: %s\n", s.ToString().c_str());
      return 1;
    }
    bool wrote = false;
    for (int n = 0; !wrote && MonoNs() - t0 < 60'000'000'000; ++n) {
      wrote = Mkdirs(b, "/p" + std::to_string(trial) + "/x" + std::to_string(n)).ok();
    }
    const double promote_ms = MsSince(t0);
    if (!wrote) {
      std::fprintf(stderr, "scale_bench: no write on the promoted namenode\n");
      return 1;
    }
    f.promote_ms.push_back(promote_ms);
    f.promote_rpc_ms.push_back(rpc_ms);
    // 5. The ex-active learns it is fenced (its next write is refused by the journal).
    const bool refused = !Mkdirs(a, "/fenced" + std::to_string(trial)).ok();
    // 6. Back to a healthy standby: reload the newest image, replay the journal.
    const int64_t target = AppliedTxid(b);
    t0 = MonoNs();
    {
      fo::RpcNamenodeTarget t(a, 600000);
      s = t.TransitionToStandby(th::RequestSource::REQUEST_BY_USER_FORCED);
    }
    const double standby_rpc_ms = MsSince(t0);
    if (!s.ok() || !WaitHealthyAt(a, target, 600000)) {
      std::fprintf(stderr, "scale_bench: ex-active not back as a healthy standby: %s\n",
                   s.ToString().c_str());
      return 1;
    }
    const double recover_ms = MsSince(t0);
    f.recover_ms.push_back(recover_ms);
    f.recover_rpc_ms.push_back(standby_rpc_ms);
    std::printf(
        "  trial %d: %d tail mkdirs in %.0f ms; promotion of nn%d %.0f ms "
        "(transitionToActive %.0f ms); ex-active nn%d %s, healthy standby at txid %lld "
        "after %.0f ms (transitionToStandby %.0f ms); RSS nn1 %.0f MiB, nn2 %.0f MiB\n",
        trial, FLAGS_tail_edits, tail_ms, standby + 1, promote_ms, rpc_ms, active + 1,
        refused ? "fenced" : "NOT fenced (write accepted?)", static_cast<long long>(target),
        recover_ms, standby_rpc_ms, RssMiB(c.namenode(0).pid()), RssMiB(c.namenode(1).pid()));
    std::fflush(stdout);
    active = standby;
  }
  std::printf(
      "%lld inodes: promotion p50 %.0f ms (samples%s; target <= 1000), ex-active to "
      "healthy standby p50 %.0f ms (samples%s; target <= 30000)\n",
      static_cast<long long>(inodes), Median(f.promote_ms), List(f.promote_ms).c_str(),
      Median(f.recover_ms), List(f.recover_ms).c_str());
  std::fflush(stdout);
  return 0;
}

int Main() {
  if (!FLAGS_load_image.empty()) {
    NamespaceOptions o;
    o.superuser = "root";
    std::unique_ptr<FsNamespace> ns;
    for (int i = 0; i < std::max(1, FLAGS_load_repeat); ++i) {
      double c0 = CpuMs();
      int64_t t0 = MonoNs();
      const int64_t faults0 = MinorFaults();
      ns.reset();  // as NamenodeServer::ReloadFromImage: the old namespace goes first
      const double free_ms = MsSince(t0), free_cpu_ms = CpuMs() - c0;
      c0 = CpuMs();
      t0 = MonoNs();
      const int64_t faults1 = MinorFaults();
      auto loaded = LoadImage(FLAGS_load_image, o);
      if (!loaded.ok()) {
        std::fprintf(stderr, "scale_bench: %s\n", loaded.status().ToString().c_str());
        return 1;
      }
      ns = std::move(loaded->ns);
      const auto pool = nn::node_pool::GetStats();
      std::printf(
          "%s: load %d: freed the previous namespace in %.0f ms (cpu %.0f ms, %lld minor "
          "faults); %lld inodes loaded in %.0f ms (cpu %.0f ms, %lld minor faults); max RSS "
          "%.0f MiB; node_pool %.0f MiB reserved\n",
          FLAGS_load_image.c_str(), i + 1, free_ms, free_cpu_ms,
          static_cast<long long>(faults1 - faults0), static_cast<long long>(ns->inode_count()),
          MsSince(t0), CpuMs() - c0, static_cast<long long>(MinorFaults() - faults1),
          [] {
            rusage ru;
            getrusage(RUSAGE_SELF, &ru);
            return static_cast<double>(ru.ru_maxrss) / 1024.0;
          }(),
          static_cast<double>(pool.reserved_bytes) / (1 << 20));
      std::fflush(stdout);
    }
    return 0;
  }
  std::stringstream ss(FLAGS_inodes);
  std::string item;
  int rc = 0;
  while (std::getline(ss, item, ',')) {
    char* end = nullptr;
    const long long n = std::strtoll(item.c_str(), &end, 10);  // NOLINT(runtime/int)
    if (item.empty() || *end != '\0' || n < 2) {
      std::fprintf(stderr, "scale_bench: --inodes: %s is not a size >= 2\n", item.c_str());
      return 2;
    }
    rc |= RunSize(n);
  }
  return rc;
}

}  // namespace
}  // namespace qj::testing

int main(int argc, char** argv) {
  gflags::SetUsageMessage("scale_bench [--inodes=1000000,10000000] [--tail_edits=N] [--trials=N]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  google::InitGoogleLogging(argv[0]);
  return qj::testing::Main();
}
