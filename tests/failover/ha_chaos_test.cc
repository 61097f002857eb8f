// The HA client (namenode/client/failover_proxy.h) under chaos: a real cluster of
// 3 journalnodes, 2 namenodes and 2 failoverds in lease mode on 127.0.0.1
// (tests/support/ha_cluster.h, journal links through fault proxies), several client
// threads each with its own FailoverProxy doing NON-idempotent mutations (create without
// overwrite, rename, delete, mkdirs without createParent), while the test injects in
// sequence: SIGKILL of the active namenode (then restarted), SIGSTOP / SIGCONT of the
// active, a cut of the active's journal links (blackhole), and a one-way cut (its
// journalnodes' answers lost).
//
// Checked:
//   - every operation ends with a definite answer: no "outcome unknown" (nor "no namenode
//     active") reaches a caller of the proxy, which retries with the same call ids across
//     failovers and timeouts;
//   - nothing is applied twice: a retried create never answers "already exists" for its
//     own earlier attempt, a retried rename never "not found", a retried delete never
//     false; and the final namespace equals the one implied by the acknowledged answers;
//   - failover happened at all (a loose bound per fault).
// Printed (figures, not assertions): the longest no-write window around each fault and
// the time from a journal cut to the standby being active.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "namenode/client/failover_proxy.h"
#include "namenode_types.h"
#include "tests/support/ha_cluster.h"

namespace qj::testing {
namespace {

namespace th = qjournal::thrift;

int64_t NowNs() { return RealClock::Get()->MonotonicNanos(); }

th::UserInfo Root() {
  th::UserInfo ugi;
  ugi.user = "root";
  ugi.groups = {"root"};
  return ugi;
}

// One client thread: its own proxy, its own directory /c<k>, and the namespace its
// acknowledged answers imply.
class ChaosClient {
 public:
  ChaosClient(int k, std::vector<NamenodeInfo> namenodes, std::atomic<int64_t>* acked)
      : k_(k), dir_("/c" + std::to_string(k)), namenodes_(std::move(namenodes)), acked_(acked) {}

  ~ChaosClient() { Stop(); }
  ChaosClient(const ChaosClient&) = delete;
  ChaosClient& operator=(const ChaosClient&) = delete;

  void Start() {
    thread_ = std::thread([this] { Run(); });
  }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  const std::string& dir() const { return dir_; }
  int64_t ops() const { return ops_; }
  // Attempts whose outcome was unknown, retried with the same ids (the proxy's count).
  int64_t retries() const { return retries_; }
  const std::vector<std::string>& unknown() const { return unknown_; }
  const std::vector<std::string>& wrong() const { return wrong_; }
  const std::vector<int64_t>& ack_ns() const { return ack_ns_; }
  const std::set<std::string>& expected() const { return expected_; }
  const std::set<std::string>& uncertain() const { return uncertain_; }

 private:
  // Runs one mutation; true if it was acknowledged with the answer a single application
  // gives (`answer_ok`). Otherwise records why and marks `paths` uncertain.
  template <typename Fn>
  bool Op(const std::string& what, const std::vector<std::string>& paths, Fn fn) {
    bool answer_ok = true;
    const Status st = fn(&answer_ok);
    const int64_t t = NowNs();
    ++ops_;
    if (st.ok() && answer_ok) {
      ack_ns_.push_back(t);
      acked_->fetch_add(1);
      return true;
    }
    // "Already exists", "not found" or a false answer: what a second application of a
    // call that already ran answers. Anything else is no definite answer.
    const bool applied_twice =
        st.ok() || st.code() == StatusCode::kAlreadyExists || st.code() == StatusCode::kNotFound;
    const bool no_answer = !applied_twice;
    const std::string line =
        what + ": " + (st.ok() ? "answered as if applied twice" : st.ToString());
    (no_answer ? unknown_ : wrong_).push_back(line);
    for (const auto& p : paths) uncertain_.insert(p);
    return false;
  }

  void Run() {
    nn::FailoverProxyOptions o;
    o.namenodes = namenodes_;
    o.name = "chaos-" + std::to_string(k_);
    nn::FailoverProxy p(o);
    RunOps(p);
    retries_ = p.unknown_outcome_retries();
  }

  void RunOps(nn::FailoverProxy& p) {
    const th::UserInfo ugi = Root();
    if (Op("mkdirs " + dir_, {dir_}, [&](bool* good) {
          bool created = false;
          Status st = p.Mkdirs(ugi, dir_, 0755, false, &created);
          *good = created;
          return st;
        })) {
      expected_.insert(dir_);
    } else {
      return;
    }
    for (int i = 0; !stop_; ++i) {
      const std::string f = dir_ + "/f" + std::to_string(i);
      const std::string g = dir_ + "/g" + std::to_string(i);
      const std::string d = dir_ + "/d" + std::to_string(i);
      // create without overwrite: "already exists" would be our own earlier attempt.
      if (Op("create " + f, {f}, [&](bool*) {
            th::FileStatus out;
            return p.Create(ugi, f, 0644, false, 1, 1 << 20, &out);
          })) {
        expected_.insert(f);
        // rename: "not found" would mean an earlier attempt already moved it.
        if (Op("rename " + f + " " + g, {f, g}, [&](bool* good) {
              bool renamed = false;
              Status st = p.Rename(ugi, f, g, &renamed);
              *good = renamed;
              return st;
            })) {
          expected_.erase(f);
          expected_.insert(g);
        }
      }
      // mkdirs without createParent.
      if (Op("mkdirs " + d, {d}, [&](bool* good) {
            bool created = false;
            Status st = p.Mkdirs(ugi, d, 0755, false, &created);
            *good = created;
            return st;
          })) {
        expected_.insert(d);
      }
      // delete (not recursive) of an earlier file and directory: false would mean an
      // earlier attempt already deleted it.
      if (i % 2 == 1) {
        for (const std::string& victim :
             {dir_ + "/g" + std::to_string(i - 1), dir_ + "/d" + std::to_string(i - 1)}) {
          if (expected_.count(victim) == 0) continue;
          if (Op("delete " + victim, {victim}, [&](bool* good) {
                bool deleted = false;
                Status st = p.Delete(ugi, victim, false, &deleted);
                *good = deleted;
                return st;
              })) {
            expected_.erase(victim);
          }
        }
      }
    }
  }

  const int k_;
  const std::string dir_;
  const std::vector<NamenodeInfo> namenodes_;
  std::atomic<int64_t>* const acked_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  // Written by the thread; read after Stop().
  int64_t ops_ = 0;
  int64_t retries_ = 0;
  std::vector<std::string> unknown_, wrong_;
  std::vector<int64_t> ack_ns_;
  std::set<std::string> expected_, uncertain_;
};

// The longest gap between two consecutive acknowledgements (any client) whose span
// overlaps [from_ns, to_ns].
int64_t LongestNoWriteWindowMs(const std::vector<int64_t>& sorted_acks, int64_t from_ns,
                               int64_t to_ns) {
  int64_t best = 0;
  for (size_t i = 1; i < sorted_acks.size(); ++i) {
    if (sorted_acks[i] >= from_ns && sorted_acks[i - 1] <= to_ns) {
      best = std::max(best, sorted_acks[i] - sorted_acks[i - 1]);
    }
  }
  return best / 1'000'000;
}

struct Fault {
  std::string name;
  int64_t start_ns = 0;     // fault injected
  int64_t replaced_ns = 0;  // the other namenode reported active
  int64_t healed_ns = 0;    // the faulty namenode back as a healthy standby
  bool cut = false;         // a journal cut (its replacement time has a target)
};

TEST(HaChaos, KillPauseCutOneWayCut_EveryOpDefiniteAndAppliedOnce) {
  HaClusterOptions o;
  o.proxy_journal_links = true;
  HaCluster c(o);
  ASSERT_TRUE(c.Start().ok());
  int active = c.WaitForActive(30000);
  ASSERT_GE(active, 0) << "no namenode became active; logs in " << c.dir();

  std::atomic<int64_t> acked{0};
  constexpr int kClients = 3;
  std::vector<std::unique_ptr<ChaosClient>> clients;
  for (int k = 0; k < kClients; ++k) {
    clients.push_back(std::make_unique<ChaosClient>(k, c.conf().namenodes, &acked));
  }
  for (auto& cl : clients) cl->Start();
  auto wait_acks = [&](int64_t more) {
    const int64_t target = acked.load() + more;
    const bool ok = WaitFor([&] { return acked.load() >= target; }, 30000);
    if (!ok) ADD_FAILURE() << "the clients made no progress for 30 s; logs in " << c.dir();
    return ok;
  };
  auto healthy = [&](int i) {
    std::string out;
    return WaitFor([&] { return c.Haadmin({"-checkHealth", c.nn_id(i)}, &out) == 0; }, 30000);
  };
  std::vector<Fault> faults;
  ASSERT_TRUE(wait_acks(60)) << "logs in " << c.dir();

  // The faults, in sequence, each on the namenode active at the time: twice each kind,
  // every one-way cut among them.
  enum Kind { kKill, kPause, kCut };
  struct Step {
    Kind kind;
    FaultProxy::Mode cut = FaultProxy::kPass;
  };
  const std::vector<Step> steps = {
      {kKill}, {kPause}, {kCut, FaultProxy::kBlackhole},    {kCut, FaultProxy::kDropToClient},
      {kKill}, {kPause}, {kCut, FaultProxy::kDropToServer}, {kCut, FaultProxy::kBlackhole},
  };
  // One fault; a fatal failure stops the sequence, and the clients' answers are still
  // checked below.
  auto inject = [&](const Step& step) {
    const int a = active, b = 1 - a;
    Fault f;
    f.start_ns = NowNs();
    switch (step.kind) {
      case kKill:
        f.name = "SIGKILL active " + c.nn_id(a) + " (restarted)";
        c.namenode(a).Kill();
        break;
      case kPause:
        f.name = "SIGSTOP active " + c.nn_id(a) + " (SIGCONT once replaced)";
        c.namenode(a).Stop();
        break;
      case kCut:
        f.name = std::string("journal links of active ") + c.nn_id(a) + " cut (" +
                 FaultProxyModeName(step.cut) + ")";
        c.SetJournalLinks(a, step.cut);
        break;
    }
    // Loose bounds, only to prove that failover happened: the namenode's journal write
    // timeout (10 s) used to end a journal cut.
    ASSERT_TRUE(c.WaitForState(b, "active", step.kind == kCut ? 8000 : 20000))
        << f.name << ": the other namenode did not take over; logs in " << c.dir();
    f.replaced_ns = NowNs();
    f.cut = step.kind == kCut;
    ASSERT_TRUE(wait_acks(30));
    switch (step.kind) {
      case kKill:
        ASSERT_TRUE(c.StartNamenode(a).ok());
        break;
      case kPause:
        c.namenode(a).Continue();
        break;
      case kCut:
        // Held a while longer: clients that still know the cut namenode keep trying it.
        std::this_thread::sleep_for(std::chrono::milliseconds(1000));
        c.SetJournalLinks(a, FaultProxy::kPass);
        break;
    }
    ASSERT_TRUE(c.WaitForState(a, "standby", 30000)) << f.name << "; logs in " << c.dir();
    ASSERT_TRUE(healthy(a)) << f.name << "; logs in " << c.dir();
    f.healed_ns = NowNs();
    faults.push_back(f);
    active = b;
    ASSERT_TRUE(wait_acks(30));
  };
  for (const Step& step : steps) {
    inject(step);
    if (HasFatalFailure()) break;
  }
  for (auto& cl : clients) cl->Stop();

  // Figures.
  std::vector<int64_t> acks;
  int64_t ops = 0, retries = 0;
  for (auto& cl : clients) {
    acks.insert(acks.end(), cl->ack_ns().begin(), cl->ack_ns().end());
    ops += cl->ops();
    retries += cl->retries();
  }
  std::sort(acks.begin(), acks.end());
  const int64_t cut_target_ms = o.health_timeout_ms + o.lease_duration_ms + 1000;
  for (const Fault& f : faults) {
    std::cout << "chaos: " << f.name << ": other namenode active after "
              << (f.replaced_ns - f.start_ns) / 1'000'000 << " ms"
              << (f.cut ? " (target health.timeout_ms + lease.duration_ms + 1 s = " +
                              std::to_string(cut_target_ms) + " ms)"
                        : "")
              << "; longest no-write window "
              << LongestNoWriteWindowMs(acks, f.start_ns, f.replaced_ns)
              << " ms (target 2500 ms); faulty namenode healthy standby after "
              << (f.healed_ns - f.start_ns) / 1'000'000 << " ms\n";
  }
  int64_t unknown = 0, wrong = 0;
  for (auto& cl : clients) {
    unknown += static_cast<int64_t>(cl->unknown().size());
    wrong += static_cast<int64_t>(cl->wrong().size());
  }
  std::cout << "chaos: " << ops << " mutations by " << kClients << " clients (" << retries
            << " attempts with an unknown outcome retried with the same ids)"
            << "; outcome unknown " << unknown << ", answered as applied twice " << wrong
            << "; longest no-write window of the run "
            << (acks.empty() ? 0 : LongestNoWriteWindowMs(acks, acks.front(), acks.back()))
            << " ms (health.timeout_ms " << o.health_timeout_ms << ", lease.duration_ms "
            << o.lease_duration_ms << ", health.journal_stall_ms " << o.health_journal_stall_ms
            << ")\n";

  // Every operation got a definite answer, the one a single application gives.
  for (auto& cl : clients) {
    for (const auto& u : cl->unknown()) ADD_FAILURE() << "no definite answer: " << u;
    for (const auto& w : cl->wrong()) ADD_FAILURE() << "wrong answer: " << w;
  }
  EXPECT_EQ(unknown, 0);
  EXPECT_EQ(wrong, 0);

  // The namespace is the one the acknowledged answers imply: nothing applied twice,
  // nothing acknowledged lost, nothing unacknowledged left behind.
  nn::FailoverProxyOptions po;
  po.namenodes = c.conf().namenodes;
  po.name = "chaos-check";
  nn::FailoverProxy check(po);
  const th::UserInfo ugi = Root();
  for (auto& cl : clients) {
    std::vector<th::FileStatus> entries;
    ASSERT_TRUE(check.ListAll(ugi, cl->dir(), &entries).ok());
    std::set<std::string> actual = {cl->dir()};
    for (const auto& e : entries) actual.insert(e.path);
    for (const auto& p : cl->expected()) {
      if (cl->uncertain().count(p) == 0 && actual.count(p) == 0) {
        ADD_FAILURE() << "acknowledged " << p << " missing";
      }
    }
    for (const auto& p : actual) {
      if (cl->uncertain().count(p) == 0 && cl->expected().count(p) == 0) {
        ADD_FAILURE() << p << " exists but no acknowledged answer implies it";
      }
    }
  }
}

}  // namespace
}  // namespace qj::testing
