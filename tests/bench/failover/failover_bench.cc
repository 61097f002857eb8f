// Failover time benchmark: time from a fault to the first operation
// acknowledged by the new active namenode, p50 / p99 / max over N trials per scenario,
// on a real 3-journalnode, 2-namenode, 2-failoverd cluster (tests/support/ha_cluster.h)
// with the default timings of conf/cluster.conf unless flags say otherwise.
//
// Scenarios:
//   kill_nn    SIGKILL the active namenode (its failoverd alive)   target p99 <= 1 s
//   kill_host  SIGKILL the active namenode and its failoverd       target p99 <= lease + 1 s
//   stop_nn    SIGSTOP the active namenode (a hang)                target max <= 2.5 s
//   graceful   haadmin -failover ACTIVE OTHER                      target p99 <= 300 ms and
//                                                                   no client op fails
//   cut_jn     the active's links to every journalnode go silent   target max <= health
//              (a fault proxy between them; its failoverd, the       timeout + lease + 1 s
//              journalnodes and the other namenode still connect)
//   cut_jn_acks  the same, one way: edits reach the journalnodes,   same target
//              their acknowledgements are lost
// Besides the time to the first acknowledgement by the new active, each trial measures
// the no-write window: the longest gap between two consecutive acknowledged writes
// around the fault (target: max <= 2500 ms).
// A single client thread writes back to back: with --client=proxy (the default) the real
// HA client (namenode/client/failover_proxy.h, default options) creates new files without
// overwrite, so a call it retries with the same ids after an unknown outcome must not be
// applied twice; with --client=raw the hand-made client of tests/failover/ha_workload.h
// runs idempotent mkdirs, retrying on the other namenode on NOT_ACTIVE / refused
// connections / timeouts (--client_rpc_timeout_ms). "client_ops_failed" counts the
// operations that did not end with the answer a single application gives (proxy) or the
// attempts answered with an error, IO_ERROR "outcome unknown" included (raw).
// Between trials the faulted daemons are restarted (or resumed) and the cluster settles
// (both failoverds see a healthy namenode).
// Graceful trials are also cut into steps (--graceful_steps): the time of each step is read
// from the daemons' logs (glog's wall-clock stamps of the lines that mark it, see
// kGracefulMarks) and from the bench's own clock (haadmin's spawn, the first
// acknowledgement by the new active); p50 / max per step are printed after the scenario.
#include <gflags/gflags.h>
#include <glog/logging.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "FailoverController.h"
#include "common/clock.h"
#include "common/rpc/rpc.h"
#include "failover_types.h"
#include "namenode/client/failover_proxy.h"
#include "tests/failover/ha_workload.h"
#include "tests/support/ha_cluster.h"

DEFINE_int32(trials, 20, "Trials per scenario.");
DEFINE_string(scenarios, "kill_nn,kill_host,stop_nn,graceful,cut_jn,cut_jn_acks",
              "Comma list of scenarios.");
DEFINE_int64(lease_duration_ms, 2000, "lease.duration_ms");
DEFINE_double(lease_drift, 0.05, "lease.drift");
DEFINE_int64(lease_margin_ms, 200, "lease.margin_ms");
DEFINE_int64(renew_interval_ms, 250, "lease.renew_interval_ms");
DEFINE_int64(acquire_interval_ms, 100, "lease.acquire_interval_ms");
DEFINE_int64(health_interval_ms, 100, "health.interval_ms");
DEFINE_int64(health_timeout_ms, 800, "health.timeout_ms");
DEFINE_int64(health_journal_stall_ms, 1000, "health.journal_stall_ms");
DEFINE_bool(print_samples, true, "Print every trial's figure, sorted.");
DEFINE_int64(client_rpc_timeout_ms, 1000,
             "--client=raw: call timeout, how long it waits on a silent namenode before trying "
             "the other one.");
DEFINE_bool(graceful_steps, true,
            "graceful: print where the time goes, step by step, from the daemons' logs.");
DEFINE_string(client, "proxy",
              "proxy: the HA client (FailoverProxy, default options) creating files; raw: the "
              "hand-made mkdirs client of tests/failover/ha_workload.h.");

namespace qj::testing {
namespace {

namespace th = qjournal::thrift;

// The failoverd of namenode i reports a healthy namenode.
bool FailoverdSeesHealthy(const HaCluster& c, int i) {
  rpc::Client<th::FailoverControllerClient> conn(c.nn_info(i).failoverd(),
                                                 rpc::ClientOptions::WithTimeout(500));
  auto cl = conn.Get();
  if (!cl.ok()) return false;
  try {
    th::FailoverStatus st;
    (*cl)->getStatus(st);
    return st.health == "HEALTHY";
  } catch (const apache::thrift::TException&) {
    return false;
  }
}

// Milliseconds the failoverd of namenode i still stays out of the election after a cede
// (0 when not ceded or unknown).
int64_t FailoverdCededMs(const HaCluster& c, int i) {
  rpc::Client<th::FailoverControllerClient> conn(c.nn_info(i).failoverd(),
                                                 rpc::ClientOptions::WithTimeout(500));
  auto cl = conn.Get();
  if (!cl.ok()) return 0;
  try {
    th::FailoverStatus st;
    (*cl)->getStatus(st);
    return st.cededRemainingMs;
  } catch (const apache::thrift::TException&) {
    return 0;
  }
}

// One thread with its own FailoverProxy creating /p<n> (overwrite off) back to back;
// records which namenode acknowledged each create and when.
class ProxyWriter {
 public:
  explicit ProxyWriter(const std::vector<NamenodeInfo>& namenodes) : nns_(namenodes) {
    for (auto& a : last_ack_ns_) a = 0;
  }
  ~ProxyWriter() { Stop(); }
  void Start() {
    thread_ = std::thread([this] { Run(); });
  }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int64_t acked_count() const { return acked_.load(); }
  int64_t last_ack_ns(int nn) const { return last_ack_ns_[nn].load(); }
  // After Stop().
  const std::vector<CallRecord>& acks() const { return acks_; }
  int64_t failed_ops() const { return failed_ops_; }
  int64_t unknown_retries() const { return unknown_retries_; }

 private:
  void Run() {
    nn::FailoverProxyOptions o;
    o.namenodes = nns_;
    o.name = "bench";
    nn::FailoverProxy p(o);
    th::UserInfo ugi;
    ugi.user = "root";
    ugi.groups = {"root"};
    static std::atomic<int64_t> next_file{0};
    while (!stop_) {
      const std::string path = "/p" + std::to_string(next_file.fetch_add(1));
      th::FileStatus out;
      CallRecord r;
      r.send_ns = RealClock::Get()->MonotonicNanos();
      Status st = p.Create(ugi, path, 0644, false, 1, 1 << 20, &out);
      r.recv_ns = RealClock::Get()->MonotonicNanos();
      if (!st.ok()) {
        ++failed_ops_;
        LOG(WARNING) << "create " << path << ": " << st;
        continue;
      }
      for (size_t i = 0; i < nns_.size(); ++i) {
        if (nns_[i].id == p.active_id()) r.nn = static_cast<int>(i);
      }
      r.result = CallResult::kOk;
      acks_.push_back(r);
      if (r.nn >= 0) last_ack_ns_[r.nn] = r.recv_ns;
      ++acked_;
    }
    unknown_retries_ = p.unknown_outcome_retries();
  }

  const std::vector<NamenodeInfo> nns_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> acked_{0};
  std::atomic<int64_t> last_ack_ns_[2];
  std::thread thread_;
  std::vector<CallRecord> acks_;
  int64_t failed_ops_ = 0;
  int64_t unknown_retries_ = 0;
};

// The log lines that mark the steps of a graceful failover from namenode `a` to `b`, in
// order. A step's time runs from the previous mark found to its own; a mark missing from
// the logs (older binaries) folds its step into the next one.
enum class LogOf { kFoFrom, kFoTo, kNnFrom, kNnTo };
struct LogMark {
  const char* step;  // what happened between the previous mark and this one
  LogOf log;
  const char* text;  // first line after the fault containing this
};
constexpr LogMark kGracefulMarks[] = {
    {"haadmin start, call to TO's failoverd", LogOf::kFoTo, "asked for a graceful failover"},
    {"TO's failoverd asks FROM's to cede", LogOf::kFoFrom, "asked to cede"},
    {"FROM's failoverd calls transitionToStandby", LogOf::kNnFrom, "becoming standby"},
    {"FROM standby (finalize, close, tail); lease released", LogOf::kFoFrom, "releasing the lease"},
    {"TO's failoverd wins the lease", LogOf::kFoTo, "won the lease"},
    {"transitionToActive reaches TO", LogOf::kNnTo, "becoming active"},
    {"TO: tailer stopped, new epoch, recovery", LogOf::kNnTo, "writer open"},
    {"TO: new segment, catch-up; serving", LogOf::kNnTo, ": active at txid"},
};
constexpr int kNumMarks = sizeof(kGracefulMarks) / sizeof(kGracefulMarks[0]);
// Steps: the marks, then the first acknowledgement by the new active (bench's clock).
constexpr int kNumSteps = kNumMarks + 1;

// Wall-clock microseconds of a glog line ("I20261202 13:56:46.847627 ..."), -1 if none.
int64_t GlogLineMicros(const std::string& line) {
  int y, mo, d, h, mi, sec, us;
  if (line.size() < 25 || std::string("IWEF").find(line[0]) == std::string::npos) return -1;
  if (std::sscanf(line.c_str() + 1, "%4d%2d%2d %2d:%2d:%2d.%6d", &y, &mo, &d, &h, &mi, &sec, &us) !=
      7) {
    return -1;
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  tm.tm_isdst = -1;
  return static_cast<int64_t>(std::mktime(&tm)) * 1000000 + us;  // glog stamps local time
}

int64_t WallMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t FileSize(const std::string& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  return f ? static_cast<int64_t>(f.tellg()) : 0;
}

// The first line at or after `offset` of `path`, stamped at or after `since_us`, that
// contains `text`: its stamp, or -1.
int64_t FindMark(const std::string& path, int64_t offset, int64_t since_us, const char* text) {
  std::ifstream f(path);
  if (!f) return -1;
  f.seekg(offset);
  std::string line;
  while (std::getline(f, line)) {
    if (line.find(text) == std::string::npos) continue;
    const int64_t us = GlogLineMicros(line);
    if (us >= since_us) return us;
  }
  return -1;
}

struct Trial {
  double ms = -1;               // fault -> first ack by the new active; -1 = failed
  double window_ms = -1;        // longest gap between consecutive acks around the fault
  int64_t failed_ops = 0;       // see "client_ops_failed" above
  int64_t unknown_retries = 0;  // proxy: attempts with an unknown outcome, retried
  // graceful: milliseconds of each step (kGracefulMarks, then the first acknowledgement),
  // -1 where a mark was not found; haadmin's run time.
  std::vector<double> step_ms;
  double haadmin_ms = -1;
};

class Bench {
 public:
  explicit Bench(HaCluster* c) : c_(*c) {}

  // Runs one trial of `scenario`; leaves the cluster healthy with one active namenode.
  Trial Run(const std::string& scenario) {
    Trial t;
    // A graceful failover leaves the namenode it moved away from ceded (out of the
    // election) for a while; any other fault would then measure that wait, not failover.
    if (scenario != "graceful" &&
        !WaitFor([&] { return FailoverdCededMs(c_, 0) == 0 && FailoverdCededMs(c_, 1) == 0; },
                 30000)) {
      LOG(ERROR) << "a failoverd is still ceded after 30 s";
    }
    const int a = c_.WaitForActive(30000);
    if (a < 0) return t;
    const int b = 1 - a;
    WorkloadOptions wo;
    wo.writers = 1;
    wo.probers = false;
    wo.backoff_ms = 1;
    // A client gives up on a silent namenode after this long and tries the other one.
    wo.rpc_timeout_ms = FLAGS_client_rpc_timeout_ms;
    const bool proxy = FLAGS_client != "raw";
    HaWorkload w(c_.conf().namenodes, wo);
    ProxyWriter pw(c_.conf().namenodes);
    if (proxy) {
      pw.Start();
    } else {
      w.Start();
    }
    auto acked_count = [&] { return proxy ? pw.acked_count() : w.acked_count(); };
    auto last_ack_ns = [&](int nn) { return proxy ? pw.last_ack_ns(nn) : w.last_ack_ns(nn); };
    if (!WaitFor([&] { return acked_count() >= 20; }, 20000)) return t;
    // The logs that mark a graceful failover's steps, and how far they reached before it.
    const std::string logs_of[] = {c_.dir() + "/failoverd-" + c_.nn_id(a) + ".log",
                                   c_.dir() + "/failoverd-" + c_.nn_id(b) + ".log",
                                   c_.dir() + "/" + c_.nn_id(a) + ".log",
                                   c_.dir() + "/" + c_.nn_id(b) + ".log"};
    int64_t log_offsets[4];
    for (int i = 0; i < 4; ++i) log_offsets[i] = FileSize(logs_of[i]);
    // 1. The fault.
    const int64_t wall_fault_us = WallMicros();
    const int64_t t_fault = RealClock::Get()->MonotonicNanos();
    std::string out;
    if (scenario == "kill_nn") {
      c_.namenode(a).Kill();
    } else if (scenario == "kill_host") {
      c_.failoverd(a).Kill();
      c_.namenode(a).Kill();
    } else if (scenario == "stop_nn") {
      c_.namenode(a).Stop();
    } else if (scenario == "graceful") {
      if (c_.Haadmin({"-failover", c_.nn_id(a), c_.nn_id(b)}, &out) != 0) {
        LOG(ERROR) << "haadmin -failover: " << out;
      }
      t.haadmin_ms = static_cast<double>(RealClock::Get()->MonotonicNanos() - t_fault) / 1e6;
    } else if (scenario == "cut_jn") {
      c_.SetJournalLinks(a, FaultProxy::kBlackhole);
    } else if (scenario == "cut_jn_acks") {
      c_.SetJournalLinks(a, FaultProxy::kDropToClient);
    }
    // 2. Wait for the first acknowledgement by the new active.
    const bool ok = WaitFor([&] { return last_ack_ns(b) > t_fault; }, 60000);
    w.Stop();
    pw.Stop();
    // Every call of the trial, in one list.
    std::vector<ThreadLog> logs = w.logs();
    if (proxy) {
      logs.emplace_back();
      logs.back().calls = pw.acks();
      logs.back().failed_ops = pw.failed_ops();
      t.unknown_retries = pw.unknown_retries();
    }
    if (ok) {
      int64_t first_b = 0;
      for (const auto& l : logs) {
        for (const auto& call : l.calls) {
          if (call.nn == b && call.result == CallResult::kOk && call.recv_ns > t_fault) {
            t.ms = static_cast<double>(call.recv_ns - t_fault) / 1e6;
            first_b = call.recv_ns;
            break;
          }
        }
      }
      // The no-write window: the longest gap between consecutive acknowledgements that
      // ends after the fault and starts no later than the new active's first one.
      std::vector<int64_t> acks;
      for (const auto& l : logs) {
        for (const auto& call : l.calls) {
          if (call.result == CallResult::kOk) acks.push_back(call.recv_ns);
        }
      }
      std::sort(acks.begin(), acks.end());
      int64_t gap = 0;
      for (size_t i = 1; i < acks.size(); ++i) {
        if (acks[i] > t_fault && acks[i - 1] <= first_b) gap = std::max(gap, acks[i] - acks[i - 1]);
      }
      t.window_ms = static_cast<double>(gap) / 1e6;
      if (scenario == "graceful" && FLAGS_graceful_steps) {
        int64_t prev_us = wall_fault_us;
        for (const LogMark& m : kGracefulMarks) {
          const int i = static_cast<int>(m.log);
          const int64_t us = FindMark(logs_of[i], log_offsets[i], wall_fault_us, m.text);
          t.step_ms.push_back(us < 0 ? -1 : static_cast<double>(us - prev_us) / 1e3);
          if (us >= 0) prev_us = us;
        }
        const int64_t ack_us = wall_fault_us + (first_b - t_fault) / 1000;
        t.step_ms.push_back(static_cast<double>(ack_us - prev_us) / 1e3);
      }
    }
    for (const auto& l : logs) {
      t.failed_ops += l.failed_ops;
      for (const auto& call : l.calls) {
        if (call.result == CallResult::kError) ++t.failed_ops;
      }
    }
    // 3. Repair: restart or resume what the fault took down; wait until both failoverds
    // see a healthy namenode again.
    if (scenario == "kill_nn" || scenario == "kill_host") {
      Status s = c_.StartNamenode(a);
      if (!s.ok()) LOG(ERROR) << s;
      if (scenario == "kill_host") {
        s = c_.StartFailoverd(a);
        if (!s.ok()) LOG(ERROR) << s;
      }
    } else if (scenario == "stop_nn") {
      c_.namenode(a).Continue();
    } else if (scenario == "cut_jn" || scenario == "cut_jn_acks") {
      c_.SetJournalLinks(a, FaultProxy::kPass);
    }
    if (!c_.WaitForState(a, "standby", 60000) ||
        !WaitFor([&] { return FailoverdSeesHealthy(c_, a) && FailoverdSeesHealthy(c_, b); },
                 30000)) {
      LOG(ERROR) << "cluster did not settle after " << scenario << "; logs in " << c_.dir();
    }
    // A failoverd whose namenode was just unhealthy stays out of the election for the
    // journal stall bound + a health interval + an acquire interval (ControllerCore's
    // hysteresis); the next trial measures a steady cluster, not that residue.
    const HaClusterOptions& o = c_.options();
    std::this_thread::sleep_for(std::chrono::milliseconds(
        o.health_journal_stall_ms + 2 * o.health_interval_ms + 2 * o.acquire_interval_ms));
    return t;
  }

 private:
  HaCluster& c_;
};

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

int Main() {
  HaClusterOptions o;
  o.lease_duration_ms = FLAGS_lease_duration_ms;
  o.lease_drift = FLAGS_lease_drift;
  o.lease_margin_ms = FLAGS_lease_margin_ms;
  o.renew_interval_ms = FLAGS_renew_interval_ms;
  o.acquire_interval_ms = FLAGS_acquire_interval_ms;
  o.health_interval_ms = FLAGS_health_interval_ms;
  o.health_timeout_ms = FLAGS_health_timeout_ms;
  o.health_journal_stall_ms = FLAGS_health_journal_stall_ms;
  // The journal links go through fault proxies only when a scenario cuts them (a proxy
  // adds a loopback hop to every journal call).
  o.proxy_journal_links = FLAGS_scenarios.find("cut_jn") != std::string::npos;
  HaCluster c(o);
  Status s = c.Start();
  if (!s.ok()) {
    std::fprintf(stderr, "failover_bench: cluster did not start: %s\n", s.ToString().c_str());
    return 1;
  }
  if (c.WaitForActive(30000) < 0) {
    std::fprintf(stderr, "failover_bench: no active namenode; logs in %s\n", c.dir().c_str());
    return 1;
  }
  std::printf(
      "settings: lease.duration_ms=%lld lease.drift=%.3f lease.margin_ms=%lld "
      "lease.renew_interval_ms=%lld lease.acquire_interval_ms=%lld health.interval_ms=%lld "
      "health.timeout_ms=%lld health.journal_stall_ms=%lld; trials=%d; 1 client thread (%s); "
      "3 JN + 2 NN + 2 failoverd on 127.0.0.1%s\n",
      static_cast<long long>(o.lease_duration_ms), o.lease_drift,
      static_cast<long long>(o.lease_margin_ms), static_cast<long long>(o.renew_interval_ms),
      static_cast<long long>(o.acquire_interval_ms), static_cast<long long>(o.health_interval_ms),
      static_cast<long long>(o.health_timeout_ms),
      static_cast<long long>(o.health_journal_stall_ms), FLAGS_trials,
      FLAGS_client == "raw" ? ("raw mkdirs client, call timeout " +
                               std::to_string(FLAGS_client_rpc_timeout_ms) + " ms")
                                  .c_str()
                            : "HA client FailoverProxy, default options, creates without overwrite",
      o.proxy_journal_links ? " (namenode-journalnode links through fault proxies)" : "");
  std::printf("%-11s %8s %8s %8s %8s  %-28s %-17s %10s %10s %15s\n", "scenario", "p50_ms", "p99_ms",
              "max_ms", "failed", "target", "client_ops_failed", "gap_p50_ms", "gap_max_ms",
              "unknown_retried");
  std::fflush(stdout);
  Bench bench(&c);
  std::stringstream ss(FLAGS_scenarios);
  std::string scenario;
  int rc = 0;
  while (std::getline(ss, scenario, ',')) {
    std::vector<double> ms, gaps, haadmin_ms;
    std::vector<std::vector<double>> steps(kNumSteps);
    int failed_trials = 0;
    int64_t failed_ops = 0, unknown_retries = 0;
    for (int i = 0; i < FLAGS_trials; ++i) {
      Trial t = bench.Run(scenario);
      if (t.ms < 0) {
        ++failed_trials;
      } else {
        ms.push_back(t.ms);
        gaps.push_back(t.window_ms);
        if (t.haadmin_ms >= 0) haadmin_ms.push_back(t.haadmin_ms);
        if (FLAGS_print_samples && !t.step_ms.empty()) {
          std::printf("  trial %d: %.0f ms; steps (ms):", i + 1, t.ms);
          for (double x : t.step_ms) std::printf(x < 0 ? " -" : " %.1f", x);
          std::printf("\n");
        }
        for (size_t k = 0; k < t.step_ms.size() && k < steps.size(); ++k) {
          if (t.step_ms[k] >= 0) steps[k].push_back(t.step_ms[k]);
        }
      }
      failed_ops += t.failed_ops;
      unknown_retries += t.unknown_retries;
    }
    std::string target;
    if (scenario == "kill_nn") target = "p99 <= 1000";
    if (scenario == "kill_host") target = "p99 <= " + std::to_string(o.lease_duration_ms + 1000);
    // A hung namenode's lease runs out one lease after its last healthy answer, whatever
    // the health timeout (ControllerCore: renewals vouch only for what health confirmed).
    if (scenario == "stop_nn") target = "max <= 2500";
    if (scenario == "graceful") target = "p99 <= 300, 0 client failures";
    if (scenario == "cut_jn" || scenario == "cut_jn_acks") {
      target = "max <= " + std::to_string(o.health_timeout_ms + o.lease_duration_ms + 1000);
    }
    if (ms.empty()) {
      std::printf("%-11s %8s %8s %8s %8d  %-28s %-17lld %10s %10s %15lld\n", scenario.c_str(), "-",
                  "-", "-", failed_trials, target.c_str(), static_cast<long long>(failed_ops), "-",
                  "-", static_cast<long long>(unknown_retries));
      rc = 1;
    } else {
      std::printf(
          "%-11s %8.0f %8.0f %8.0f %8d  %-28s %-17lld %10.0f %10.0f %15lld\n", scenario.c_str(),
          Percentile(ms, 0.5), Percentile(ms, 0.99), *std::max_element(ms.begin(), ms.end()),
          failed_trials, target.c_str(), static_cast<long long>(failed_ops), Percentile(gaps, 0.5),
          *std::max_element(gaps.begin(), gaps.end()), static_cast<long long>(unknown_retries));
    }
    if (FLAGS_print_samples) {
      std::sort(ms.begin(), ms.end());
      std::printf("  %s samples (ms):", scenario.c_str());
      for (double x : ms) std::printf(" %.0f", x);
      std::printf("\n");
    }
    if (scenario == "graceful" && FLAGS_graceful_steps && !ms.empty()) {
      std::printf(
          "  graceful steps (from the daemons' logs; FROM = the active, TO = the other):\n");
      std::printf("  %-56s %8s %8s %7s\n", "step", "p50_ms", "max_ms", "trials");
      for (int k = 0; k < kNumSteps; ++k) {
        const char* name =
            k < kNumMarks ? kGracefulMarks[k].step : "TO serves -> first create acknowledged";
        if (steps[k].empty()) {
          std::printf("  %-56s %8s %8s %7d\n", name, "-", "-", 0);
        } else {
          std::printf("  %-56s %8.1f %8.1f %7zu\n", name, Percentile(steps[k], 0.5),
                      *std::max_element(steps[k].begin(), steps[k].end()), steps[k].size());
        }
      }
      if (!haadmin_ms.empty()) {
        std::printf("  %-56s %8.1f %8.1f %7zu\n", "(haadmin spawn -> exit)",
                    Percentile(haadmin_ms, 0.5),
                    *std::max_element(haadmin_ms.begin(), haadmin_ms.end()), haadmin_ms.size());
      }
    }
    std::fflush(stdout);
    if (failed_trials > 0) rc = 1;
  }
  return rc;
}

}  // namespace
}  // namespace qj::testing

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "failover_bench [--trials=20] "
      "[--scenarios=kill_nn,kill_host,stop_nn,graceful,cut_jn,cut_jn_acks]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  google::InitGoogleLogging(argv[0]);
  FLAGS_logtostderr = true;
  return qj::testing::Main();
}
