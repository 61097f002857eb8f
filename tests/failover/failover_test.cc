// Automatic and manual failover with real processes: 3 journalnodes, 2 namenodes,
// 2 failoverds (tests/support/ha_cluster.h), under a client workload
// (tests/failover/ha_workload.h). Every test checks that no acknowledged write is lost
// and that no two namenodes were provably active at the same instant.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <sstream>
#include <thread>
#include <utility>

#include "ClientProtocol.h"
#include "FailoverController.h"
#include "common/clock.h"
#include "common/rpc/rpc.h"
#include "failover/namenode_target.h"
#include "namenode_types.h"
#include "tests/failover/ha_workload.h"
#include "tests/support/ha_cluster.h"

namespace qj::testing {
namespace {

namespace th = qjournal::thrift;

// Waits for `more` acknowledgements beyond the current count.
bool WaitForAcks(const HaWorkload& w, int64_t more, int timeout_ms = 20000) {
  const int64_t target = w.acked_count() + more;
  return WaitFor([&] { return w.acked_count() >= target; }, timeout_ms);
}

// Every acknowledged directory exists on the active namenode `active`.
void ExpectAckedSurvived(const HaCluster& c, int active, const HaWorkload& w) {
  rpc::Client<th::ClientProtocolClient> conn(c.nn_info(active).rpc(),
                                             rpc::ClientOptions::WithTimeout(10000));
  auto client = conn.Get();
  ASSERT_TRUE(client.ok()) << client.status();
  th::UserInfo ugi;
  ugi.user = "root";
  ugi.groups = {"root"};
  const std::vector<std::string> acked = w.AllAcked();
  ASSERT_FALSE(acked.empty());
  int missing = 0;
  for (const auto& path : acked) {
    th::FileStatus st;
    try {
      (*client)->getFileInfo(st, ugi, path, 0);
      EXPECT_TRUE(st.isDir) << path;
    } catch (const th::FsException& e) {
      if (++missing <= 5) ADD_FAILURE() << "acknowledged " << path << " lost: " << e.message;
    }
  }
  EXPECT_EQ(missing, 0) << "of " << acked.size() << " acknowledged writes";
}

void ExpectNoDualActivity(const HaWorkload& w) {
  for (const auto& proof : w.FindDualActivity()) ADD_FAILURE() << "dual activity: " << proof;
}

int64_t FailedOps(const HaWorkload& w) {
  int64_t n = 0;
  for (const auto& l : w.logs()) n += l.failed_ops;
  return n;
}

int64_t MaxRetryWindowMs(const HaWorkload& w) {
  int64_t m = 0;
  for (const auto& l : w.logs()) {
    for (int64_t x : l.retry_windows_ns) m = std::max(m, x);
  }
  return m / 1'000'000;
}

// OK answers from namenode nn to calls sent at or after `since_ns`.
int64_t OkAnswersSentAfter(const HaWorkload& w, int nn, int64_t since_ns) {
  int64_t n = 0;
  for (const auto& l : w.logs()) {
    for (const auto& c : l.calls) {
      if (c.nn == nn && c.result == CallResult::kOk && c.send_ns >= since_ns) ++n;
    }
  }
  return n;
}

// The longest time between two consecutive acknowledged writes (any writer) whose span
// overlaps [from_ns, to_ns]: the no-write window a fault in that interval caused.
int64_t LongestNoWriteWindowMs(const HaWorkload& w, int64_t from_ns, int64_t to_ns) {
  std::vector<int64_t> acks;
  for (const auto& l : w.logs()) {
    if (l.name.rfind("writer", 0) != 0) continue;
    for (const auto& c : l.calls) {
      if (c.result == CallResult::kOk) acks.push_back(c.recv_ns);
    }
  }
  std::sort(acks.begin(), acks.end());
  int64_t best = 0;
  for (size_t i = 1; i < acks.size(); ++i) {
    if (acks[i] >= from_ns && acks[i - 1] <= to_ns) best = std::max(best, acks[i] - acks[i - 1]);
  }
  return best / 1'000'000;
}

struct Started {
  std::unique_ptr<HaCluster> cluster;
  int active = -1;
};

Started StartCluster(HaClusterOptions opts = {}) {
  Started s;
  s.cluster = std::make_unique<HaCluster>(opts);
  Status st = s.cluster->Start();
  EXPECT_TRUE(st.ok()) << st;
  if (!st.ok()) return s;
  s.active = s.cluster->WaitForActive(30000);
  EXPECT_GE(s.active, 0) << "no namenode became active by itself; logs in " << s.cluster->dir();
  return s;
}

TEST(Failover, KillActiveNamenode_StandbyTakesOver_NoAckLost) {
  Started s = StartCluster();
  if (s.active < 0) return;
  HaCluster& c = *s.cluster;
  const int a = s.active, b = 1 - a;
  HaWorkload w(c.conf().namenodes, WorkloadOptions{});
  w.Start();
  ASSERT_TRUE(WaitForAcks(w, 50));
  c.namenode(a).Kill();
  ASSERT_TRUE(c.WaitForState(b, "active", 20000)) << "logs in " << c.dir();
  ASSERT_TRUE(WaitForAcks(w, 50));
  // haadmin reports the dead namenode with a non-zero exit and a reason.
  std::string out;
  EXPECT_NE(c.Haadmin({"-getServiceState", c.nn_id(a)}, &out), 0);
  EXPECT_NE(out.find("haadmin:"), std::string::npos) << out;
  // The killed namenode rejoins as standby.
  ASSERT_TRUE(c.StartNamenode(a).ok());
  EXPECT_TRUE(c.WaitForState(a, "standby", 30000));
  ASSERT_TRUE(WaitForAcks(w, 20));
  w.Stop();
  EXPECT_EQ(FailedOps(w), 0);
  ExpectNoDualActivity(w);
  ExpectAckedSurvived(c, b, w);
  EXPECT_EQ(c.ServiceState(b), "active");
}

TEST(Failover, StopActiveNamenodePastLease_OtherTakesOver_OldServesNothing) {
  Started s = StartCluster();
  if (s.active < 0) return;
  HaCluster& c = *s.cluster;
  const int a = s.active, b = 1 - a;
  HaWorkload w(c.conf().namenodes, WorkloadOptions{});
  w.Start();
  ASSERT_TRUE(WaitForAcks(w, 50));
  // The pause starts when every thread has stopped, not when SIGSTOP is sent: until then
  // the namenode still runs under a valid lease and may legitimately answer calls sent
  // after the signal (Process::Stop() returns once all threads are seen stopped).
  const int64_t t_signal = RealClock::Get()->MonotonicNanos();
  c.namenode(a).Stop();
  const int64_t t_stop = RealClock::Get()->MonotonicNanos();
  ASSERT_TRUE(c.WaitForState(b, "active", 20000)) << "logs in " << c.dir();
  const int64_t t_active = RealClock::Get()->MonotonicNanos();
  ASSERT_TRUE(WaitForAcks(w, 50));
  c.namenode(a).Continue();
  // It wakes up past its lease deadline: demoted by its failoverd, it rejoins as a healthy
  // standby.
  EXPECT_TRUE(c.WaitForState(a, "standby", 20000));
  std::string out;
  EXPECT_TRUE(WaitFor(
      [&] {
        return c.Haadmin({"-checkHealth", c.nn_id(a)}, &out) == 0;
      },
      20000))
      << "the woken namenode must become a healthy standby (a fence set by the newer epoch "
         "must not outlive its reload as standby): "
      << out;
  ASSERT_TRUE(WaitForAcks(w, 50));
  w.Stop();
  // Nothing sent to the old active after it was paused was answered as active.
  std::cout << "answered as active after SIGSTOP was sent, before the pause took effect ("
            << (t_stop - t_signal) / 1000
            << " us): " << OkAnswersSentAfter(w, a, t_signal) - OkAnswersSentAfter(w, a, t_stop)
            << "\n";
  EXPECT_EQ(OkAnswersSentAfter(w, a, t_stop), 0);
  std::cout << "active SIGSTOPped: standby active after " << (t_active - t_stop) / 1'000'000
            << " ms; longest no-write window " << LongestNoWriteWindowMs(w, t_stop, t_active)
            << " ms (health.timeout_ms " << c.options().health_timeout_ms << ", lease.duration_ms "
            << c.options().lease_duration_ms << ")\n";
  EXPECT_EQ(FailedOps(w), 0);
  ExpectNoDualActivity(w);
  ExpectAckedSurvived(c, b, w);
}

TEST(Failover, KillActiveFailoverd_NamenodeStopsAtDeadline_OtherTakesOver) {
  Started s = StartCluster();
  if (s.active < 0) return;
  HaCluster& c = *s.cluster;
  const int a = s.active, b = 1 - a;
  HaWorkload w(c.conf().namenodes, WorkloadOptions{});
  w.Start();
  ASSERT_TRUE(WaitForAcks(w, 50));
  const int64_t t_kill = RealClock::Get()->MonotonicNanos();
  c.failoverd(a).Kill();
  ASSERT_TRUE(c.WaitForState(b, "active", 20000)) << "logs in " << c.dir();
  ASSERT_TRUE(WaitForAcks(w, 50));
  w.Stop();
  // Without renewals the namenode's last deadline lies within one lease of the kill.
  const int64_t lease_ns = c.options().lease_duration_ms * 1'000'000;
  EXPECT_EQ(OkAnswersSentAfter(w, a, t_kill + lease_ns), 0);
  EXPECT_EQ(FailedOps(w), 0);
  ExpectNoDualActivity(w);
  ExpectAckedSurvived(c, b, w);
}

TEST(Failover, HaadminFailoverBothWays_UnderWorkload) {
  Started s = StartCluster();
  if (s.active < 0) return;
  HaCluster& c = *s.cluster;
  std::string out;
  // Status verbs.
  ASSERT_EQ(c.Haadmin({"-getServiceState", c.nn_id(s.active)}, &out), 0) << out;
  EXPECT_EQ(out, "active\n");
  ASSERT_EQ(c.Haadmin({"-getServiceState", c.nn_id(1 - s.active)}, &out), 0) << out;
  EXPECT_EQ(out, "standby\n");
  ASSERT_EQ(c.Haadmin({"-getAllServiceState"}, &out), 0) << out;
  EXPECT_NE(out.find("(nn1)"), std::string::npos) << out;
  EXPECT_NE(out.find("(nn2)"), std::string::npos) << out;
  EXPECT_EQ(c.Haadmin({"-checkHealth", "nn1"}, &out), 0) << out;
  EXPECT_NE(c.Haadmin({"-getServiceState", "nn9"}, &out), 0);
  // Manual transitions are refused while automatic failover is on.
  EXPECT_NE(c.Haadmin({"-transitionToStandby", c.nn_id(s.active)}, &out), 0);
  EXPECT_NE(out.find("automatic failover is enabled"), std::string::npos) << out;
  EXPECT_EQ(c.ServiceState(s.active), "active");

  HaWorkload w(c.conf().namenodes, WorkloadOptions{});
  w.Start();
  ASSERT_TRUE(WaitForAcks(w, 50));
  int active = s.active;
  for (int round = 0; round < 4; ++round) {
    const int to = 1 - active;
    const int64_t probes = w.probe_ok_count(to);
    ASSERT_EQ(c.Haadmin({"-failover", c.nn_id(active), c.nn_id(to)}, &out), 0) << out;
    EXPECT_NE(out.find("successful"), std::string::npos) << out;
    EXPECT_EQ(c.ServiceState(to), "active");
    // Let the new active serve for a while before failing back.
    ASSERT_TRUE(WaitFor([&] { return w.probe_ok_count(to) >= probes + 20; }, 20000));
    ASSERT_TRUE(WaitForAcks(w, 20));
    active = to;
  }
  w.Stop();
  EXPECT_EQ(FailedOps(w), 0);
  ExpectNoDualActivity(w);
  ExpectAckedSurvived(c, active, w);
  std::cout << "graceful failover: longest client retry window " << MaxRetryWindowMs(w) << " ms\n";
}

// Samples namenode i's role and epoch every 100 ms for `ms`; false (with the reason) as
// soon as it is not active or its epoch is not `epoch` (a demotion and a new promotion).
bool StaysActive(const HaCluster& c, int i, int64_t epoch, int64_t ms, std::string* why) {
  fo::RpcNamenodeTarget t(c.nn_info(i), 1000);
  const int64_t end = RealClock::Get()->MonotonicNanos() + ms * 1'000'000;
  while (RealClock::Get()->MonotonicNanos() < end) {
    auto st = t.GetServiceStatus();
    if (!st.ok() || st->state != "active" || st->epoch != epoch) {
      *why =
          st.ok() ? st->state + " at epoch " + std::to_string(st->epoch) : st.status().ToString();
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

// A promotion that takes longer than one lease (a slow catch-up or journal; here a
// test-only delay at the end of transitionToActive) must end active under the freshest
// lease deadline: not demoted by the first renewal, and no demote-and-promote loop.
TEST(Failover, TransitionToActiveLongerThanLease_EndsActiveAndStaysActive) {
  HaClusterOptions o;
  const int64_t delay_ms = 2 * o.lease_duration_ms;  // > 2 leases
  o.nn_flags = {"--namenode_test_activation_delay_ms=" + std::to_string(delay_ms)};
  Started s = StartCluster(o);
  if (s.active < 0) return;
  HaCluster& c = *s.cluster;
  const int a = s.active;
  fo::RpcNamenodeTarget t(c.nn_info(a), 1000);
  auto st = t.GetServiceStatus();
  ASSERT_TRUE(st.ok()) << st.status();
  // Three leases and more: a namenode whose deadline was left behind is demoted within
  // one renewal interval, and re-promoted (new epoch) after another slow transition.
  std::string why;
  EXPECT_TRUE(StaysActive(c, a, st->epoch, 3 * o.lease_duration_ms + delay_ms, &why))
      << c.nn_id(a) << " did not stay active at epoch " << st->epoch << ": " << why << "; logs in "
      << c.dir();
  // And it serves.
  HaWorkload w(c.conf().namenodes, WorkloadOptions{});
  w.Start();
  EXPECT_TRUE(WaitForAcks(w, 50));
  w.Stop();
  EXPECT_EQ(FailedOps(w), 0);
  EXPECT_EQ(c.ServiceState(a), "active");
  ExpectAckedSurvived(c, a, w);
}

// Asks failoverd i to cede (demote, release, stay out for `ms`) as a peer would.
void Cede(const HaCluster& c, int i, int ms) {
  rpc::Client<th::FailoverControllerClient> conn(c.nn_info(i).failoverd(),
                                                 rpc::ClientOptions::WithTimeout(10000));
  auto client = conn.Get();
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_NO_THROW((*client)->cedeActive(ms));
}

// haadmin -failover nn1 nn2 and -failover nn2 nn1 at the same time while no namenode is
// active (both ceded): each failoverd runs its graceful failover and asks the other to
// cede. They must not hold each other until the 30 s peer-call timeout: a cede asked of a
// failoverd that is itself failing over is refused at once, with a clear error. (A
// test-only delay makes the two failovers overlap for certain.)
TEST(Failover, OppositeHaadminFailovers_FailFastWithClearError) {
  HaClusterOptions o;
  o.fo_flags = {"--failoverd_test_graceful_delay_ms=1000"};
  Started s = StartCluster(o);
  if (s.active < 0) return;
  HaCluster& c = *s.cluster;
  const int a = s.active, b = 1 - a;
  Cede(c, b, 60000);
  Cede(c, a, 60000);
  ASSERT_TRUE(c.WaitForState(a, "standby", 10000));
  ASSERT_EQ(c.ServiceState(b), "standby");
  // Below the failoverd's 30 s peer-call timeout: a failover that waits for it fails here
  // with a timeout instead of the refusal.
  const std::string timeout = "--haadmin_failover_timeout_ms=20000";
  std::string out_ab, out_ba;
  auto ab = std::async(std::launch::async, [&] {
    return c.Haadmin({timeout, "-failover", c.nn_id(a), c.nn_id(b)}, &out_ab);
  });
  auto ba = std::async(std::launch::async, [&] {
    return c.Haadmin({timeout, "-failover", c.nn_id(b), c.nn_id(a)}, &out_ba);
  });
  const int rc_ab = ab.get(), rc_ba = ba.get();
  // Each either succeeded or was refused because of the other; never a timeout.
  for (const auto& [rc, out] : {std::pair{rc_ab, out_ab}, std::pair{rc_ba, out_ba}}) {
    if (rc == 0) continue;
    EXPECT_NE(out.find("in progress"), std::string::npos) << out;
  }
  // Nothing is left stuck: a single failover goes through.
  std::string out;
  ASSERT_EQ(c.Haadmin({"-failover", c.nn_id(a), c.nn_id(b)}, &out), 0) << out;
  EXPECT_EQ(c.ServiceState(b), "active");
  EXPECT_EQ(c.ServiceState(a), "standby");
}

TEST(Failover, ManualMode_HaadminTransitionsAndFailover) {
  HaClusterOptions o;
  o.automatic = false;
  o.start_failoverds = false;
  HaCluster c(o);
  ASSERT_TRUE(c.Start().ok());
  ASSERT_TRUE(c.WaitForState(0, "standby", 30000));
  std::string out;
  ASSERT_EQ(c.Haadmin({"-transitionToActive", "nn1"}, &out), 0) << out;
  EXPECT_EQ(c.ServiceState(0), "active");
  HaWorkload w(c.conf().namenodes, WorkloadOptions{});
  w.Start();
  ASSERT_TRUE(WaitForAcks(w, 30));
  ASSERT_EQ(c.Haadmin({"-failover", "nn1", "nn2"}, &out), 0) << out;
  EXPECT_EQ(c.ServiceState(0), "standby");
  EXPECT_EQ(c.ServiceState(1), "active");
  ASSERT_TRUE(WaitForAcks(w, 30));
  w.Stop();
  EXPECT_EQ(FailedOps(w), 0);
  ExpectNoDualActivity(w);
  ExpectAckedSurvived(c, 1, w);
}

// The active namenode loses its links to every journalnode (a fault proxy between them
// goes silent, or drops one direction) while its failoverd, the other namenode and the
// journalnodes still reach each other. Before health included the journal, the cut active
// kept passing its health checks and its lease until its journal write timeout (10 s)
// fenced it, and its failoverd then re-won the lease for it. Now its oldest unacknowledged
// edit passes health.journal_stall_ms, it reports unhealthy, its failoverd demotes it and
// stays out, and the standby takes over well inside the write timeout.
void CutActiveFromJournal(FaultProxy::Mode cut) {
  HaClusterOptions o;
  o.proxy_journal_links = true;
  Started s = StartCluster(o);
  if (s.active < 0) return;
  HaCluster& c = *s.cluster;
  const int a = s.active, b = 1 - a;
  HaWorkload w(c.conf().namenodes, WorkloadOptions{});
  w.Start();
  ASSERT_TRUE(WaitForAcks(w, 50));
  const int64_t t_cut = RealClock::Get()->MonotonicNanos();
  c.SetJournalLinks(a, cut);
  // The namenode's journal write timeout (10 s, --namenode_journal_write_timeout_ms) is
  // what used to end the outage; the standby must win long before it.
  ASSERT_TRUE(c.WaitForState(b, "active", 8000))
      << "the standby did not take over before the cut active's write timeout; logs in " << c.dir();
  const int64_t t_active = RealClock::Get()->MonotonicNanos();
  ASSERT_TRUE(WaitForAcks(w, 50));
  // While still cut, the old active never becomes active again (its failoverd backs off
  // and then sees it unhealthy: it cannot read from a majority either).
  std::this_thread::sleep_for(
      std::chrono::milliseconds(2 * (o.health_journal_stall_ms + o.lease_duration_ms)));
  EXPECT_EQ(c.ServiceState(b), "active");
  EXPECT_NE(c.ServiceState(a), "active");
  std::string out;
  EXPECT_NE(c.Haadmin({"-checkHealth", c.nn_id(a)}, &out), 0)
      << "a standby that cannot read from a journal majority must report unhealthy";
  EXPECT_NE(out.find("journal majority"), std::string::npos) << out;
  // Healed, it rejoins as a healthy standby.
  c.SetJournalLinks(a, FaultProxy::kPass);
  EXPECT_TRUE(WaitFor(
      [&] {
        return c.Haadmin({"-checkHealth", c.nn_id(a)}, &out) == 0;
      },
      30000))
      << out;
  ASSERT_TRUE(WaitForAcks(w, 20));
  w.Stop();
  std::cout << "journal links of the active cut (" << FaultProxyModeName(cut)
            << "): standby active after " << (t_active - t_cut) / 1'000'000
            << " ms; longest no-write window " << LongestNoWriteWindowMs(w, t_cut, t_active)
            << " ms (health.journal_stall_ms " << o.health_journal_stall_ms
            << ", health.timeout_ms " << o.health_timeout_ms << ", lease.duration_ms "
            << o.lease_duration_ms << ")\n";
  EXPECT_EQ(OkAnswersSentAfter(w, a, t_active), 0);
  EXPECT_EQ(FailedOps(w), 0);
  ExpectNoDualActivity(w);
  ExpectAckedSurvived(c, b, w);
}

TEST(Failover, ActiveCutFromJournal_StandbyTakesOver_NoAckLost) {
  CutActiveFromJournal(FaultProxy::kBlackhole);
}

// One way only: edits reach the journalnodes (and may be committed there) but their
// acknowledgements are lost. Nothing the old active acknowledged may be lost, and what it
// wrote but never acknowledged is recovered by the new writer or discarded consistently.
TEST(Failover, ActiveJournalAcksLost_StandbyTakesOver_NoAckLost) {
  CutActiveFromJournal(FaultProxy::kDropToClient);
}

// conf/cluster.conf's failover timings (the ones the figures in docs/PERFORMANCE.md use).
HaClusterOptions ProductionTimings() {
  HaClusterOptions o;
  o.lease_duration_ms = 2000;
  o.lease_drift = 0.05;
  o.lease_margin_ms = 200;
  o.renew_interval_ms = 250;
  o.acquire_interval_ms = 100;
  o.health_interval_ms = 100;
  o.health_timeout_ms = 800;
  o.health_journal_stall_ms = 1000;
  return o;
}

int CountInFile(const std::string& path, const std::string& needle) {
  std::ifstream f(path);
  std::string line;
  int n = 0;
  while (std::getline(f, line)) n += line.find(needle) != std::string::npos ? 1 : 0;
  return n;
}

// A namenode that is merely slow must not be failed over: qjfs-bench with 64 clients
// saturates this machine's cores (namenodes, journalnodes and the clients share them)
// while the shortened health and lease timings are in force. The active keeps its epoch
// throughout: not a single failover, not even one back to the same namenode.
TEST(Failover, FullLoad64Clients_NoFailover) {
  const HaClusterOptions o = ProductionTimings();
  Started s = StartCluster(o);
  if (s.active < 0) return;
  HaCluster& c = *s.cluster;
  const int a = s.active;
  fo::RpcNamenodeTarget t(c.nn_info(a), 5000);
  auto before = t.GetServiceStatus();
  ASSERT_TRUE(before.ok()) << before.status();
  std::string out;
  const int rc = RunCommand({BinaryPath("tests/bench/qjfs-bench"),
                             "--cluster_conf=" + c.conf_path(), "--clients=64", "--ops=40000"},
                            &out, 240000);
  EXPECT_EQ(rc, 0) << out;
  auto after = t.GetServiceStatus();
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->state, "active");
  EXPECT_EQ(after->epoch, before->epoch) << "a failover happened under load; logs in " << c.dir();
  int flaps = 0;
  for (int i = 0; i < 2; ++i) {
    const std::string log = c.dir() + "/failoverd-" + c.nn_id(i) + ".log";
    flaps +=
        CountInFile(log, "health-mon: UNRESPONSIVE") + CountInFile(log, "health-mon: UNHEALTHY");
  }
  std::cout << "64 clients under lease.duration_ms " << o.lease_duration_ms
            << ", health.timeout_ms " << o.health_timeout_ms << ", health.journal_stall_ms "
            << o.health_journal_stall_ms << ": epoch " << before->epoch << " -> " << after->epoch
            << ", health checks that failed (both failoverds): " << flaps << "\n";
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("BENCH", 0) == 0) std::cout << "  " << line << "\n";
  }
}

}  // namespace
}  // namespace qj::testing
