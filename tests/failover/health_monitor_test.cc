// HealthMonitor's thread against a scripted namenode and a fake clock: when it checks,
// how it classifies what it hears (HEALTHY / UNHEALTHY / UNRESPONSIVE, process gone),
// and what a check that stalls does. The clock moves only when the test moves it, so
// every interval here is exact.
#include "failover/health_monitor.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>

#include "tests/failover/scripted_namenode.h"
#include "tests/support/fake_clock.h"

namespace qj::fo {
namespace {

using testing_util::Eventually;
using testing_util::ScriptedNamenode;

constexpr int64_t kMs = kNanosPerMilli;

NamenodeInfo Local() {
  NamenodeInfo nn;
  nn.id = "nn1";
  nn.host = "127.0.0.1";
  return nn;
}

class HealthMonitorTest : public ::testing::Test {
 protected:
  HealthMonitorTest() : nn_(&clock_) {}

  void StartMonitor(int64_t interval_ms) {
    HealthOptions o;
    o.interval_ms = interval_ms;
    o.timeout_ms = 1000;
    monitor_ = std::make_unique<HealthMonitor>(Local(), o, nn_.Factory(), &clock_);
    monitor_->Start([this] { ++changes_; });
  }
  bool StateBecomes(HealthState s) {
    return Eventually([&] { return monitor_->snapshot().state == s; });
  }

  FakeClock clock_;
  ScriptedNamenode nn_;
  std::atomic<int> changes_{0};
  std::unique_ptr<HealthMonitor> monitor_;
};

TEST_F(HealthMonitorTest, ChecksOncePerIntervalOfTheClock) {
  const int64_t t0 = clock_.MonotonicNanos();
  StartMonitor(1000);
  ASSERT_TRUE(StateBecomes(HealthState::kHealthy));
  ASSERT_TRUE(Eventually([&] { return changes_.load() == 1; }));
  for (int i = 1; i <= 4; ++i) {
    // Every check publishes a change (the answers alternate), so the test knows when the
    // monitor has finished a check before it moves the clock again.
    const bool healthy = i % 2 == 0;
    nn_.SetHealth(healthy ? Status::OK() : Status::Unavailable("nn1: unhealthy"));
    // The monitor waits for a whole interval after the last check ended (its clock has
    // not moved since): short of it by a millisecond nothing happens, then it checks.
    const int64_t due = t0 + i * 1000 * kMs;
    ASSERT_TRUE(Eventually([&] { return monitor_->next_check_due() == due; }))
        << "waits until " << monitor_->next_check_due() << ", not " << due;
    clock_.Advance(999 * kMs);
    clock_.Advance(1 * kMs);
    ASSERT_TRUE(StateBecomes(healthy ? HealthState::kHealthy : HealthState::kUnhealthy))
        << "check " << i;
  }
  const auto checks = nn_.calls("monitorHealth");
  ASSERT_EQ(checks.size(), 5u);
  // Each check a whole interval after the one before: never early (by the clock), never
  // more than one per interval.
  for (size_t i = 0; i < checks.size(); ++i) {
    EXPECT_EQ(checks[i].at, t0 + static_cast<int64_t>(i) * 1000 * kMs) << "check " << i;
  }
  // The namenode is asked for its HA state after every check that got an answer.
  EXPECT_EQ(nn_.count("getServiceStatus"), 5u);
  EXPECT_EQ(monitor_->snapshot().ha_state, "standby");
  ASSERT_TRUE(Eventually([&] { return changes_.load() == 5; }));
}

TEST_F(HealthMonitorTest, PokeChecksAtOnce) {
  StartMonitor(1000);
  ASSERT_TRUE(StateBecomes(HealthState::kHealthy));
  nn_.SetHealth(Status::Unavailable("journal failed"));
  monitor_->Poke();  // no clock movement at all
  ASSERT_TRUE(StateBecomes(HealthState::kUnhealthy));
  EXPECT_EQ(nn_.count("monitorHealth"), 2u);
}

TEST_F(HealthMonitorTest, ClassifiesAnswers) {
  StartMonitor(200);
  ASSERT_TRUE(StateBecomes(HealthState::kHealthy));

  // HealthCheckFailedException: unhealthy, with the namenode's reason; still asked for its
  // HA state (the pid stays known).
  nn_.SetPid(::getpid());
  nn_.SetHealth(Status::Unavailable("nn1 monitorHealth: unhealthy: journal failed"));
  clock_.Advance(200 * kMs);
  ASSERT_TRUE(StateBecomes(HealthState::kUnhealthy));
  HealthSnapshot s = monitor_->snapshot();
  EXPECT_NE(s.reason.find("journal failed"), std::string::npos) << s.reason;
  EXPECT_EQ(s.pid, ::getpid());
  EXPECT_FALSE(s.process_gone);

  // No answer within the call's timeout: unresponsive. The process exists, so it is not
  // gone, refused or not.
  nn_.SetHealth(Status::NetworkError("nn1 monitorHealth: timed out"));
  clock_.Advance(200 * kMs);
  ASSERT_TRUE(StateBecomes(HealthState::kUnresponsive));
  s = monitor_->snapshot();
  EXPECT_NE(s.reason.find("timed out"), std::string::npos) << s.reason;
  EXPECT_FALSE(s.process_gone);
  nn_.SetHealth(Status::NetworkError("nn1 monitorHealth: connection refused"), /*refused=*/true);
  const size_t before = nn_.count("monitorHealth");
  monitor_->Poke();
  ASSERT_TRUE(Eventually([&] { return nn_.count("monitorHealth") > before; }));
  nn_.SetHealth(Status::OK());  // takes effect from the check after the refused one
  monitor_->Poke();
  ASSERT_TRUE(StateBecomes(HealthState::kHealthy));
  EXPECT_EQ(monitor_->snapshot().reason, "");
  // Our own pid is alive: the refused check did not find the process gone (that would
  // have been a change of its own).
  ASSERT_TRUE(Eventually([&] { return changes_.load() == 4; }));  // H, U, UNRESP, H
  EXPECT_EQ(changes_.load(), 4);
}

// Refused connections and a pid that no longer exists: the namenode is certainly gone
// (the controller may then skip waiting for its lease to run out).
TEST_F(HealthMonitorTest, RefusedAndPidGoneMeansProcessGone) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);  // reaped: the pid is gone

  nn_.SetPid(child);
  StartMonitor(200);
  ASSERT_TRUE(StateBecomes(HealthState::kHealthy));
  EXPECT_EQ(monitor_->snapshot().pid, child);

  // Timed out (not refused): unresponsive, and nothing proves the process is gone.
  nn_.SetHealth(Status::NetworkError("nn1 monitorHealth: timed out"), /*refused=*/false);
  clock_.Advance(200 * kMs);
  ASSERT_TRUE(StateBecomes(HealthState::kUnresponsive));
  EXPECT_FALSE(monitor_->snapshot().process_gone);

  nn_.SetHealth(Status::NetworkError("nn1 monitorHealth: connection refused"), /*refused=*/true);
  // The listener runs after the snapshot is published: wait for both changes so far
  // (HEALTHY, UNRESPONSIVE) before counting the next one.
  ASSERT_TRUE(Eventually([&] { return changes_.load() == 2; }));
  const int changes = changes_.load();
  clock_.Advance(200 * kMs);
  ASSERT_TRUE(Eventually([&] { return monitor_->snapshot().process_gone; }));
  EXPECT_EQ(monitor_->snapshot().state, HealthState::kUnresponsive);
  EXPECT_EQ(monitor_->snapshot().pid, child);
  // process_gone turning true is a change; the listener hears of it after the snapshot.
  EXPECT_TRUE(Eventually([&] { return changes_.load() == changes + 1; })) << changes_.load();
}

// A check that hangs holds the monitor: no further checks start, however far the clock
// moves, and the last published state stays until the call ends; it then reports what
// the call ended with.
TEST_F(HealthMonitorTest, StalledCheckHoldsTheStateUntilItEnds) {
  StartMonitor(200);
  ASSERT_TRUE(StateBecomes(HealthState::kHealthy));
  nn_.Stall();
  clock_.Advance(200 * kMs);
  ASSERT_TRUE(Eventually([&] { return nn_.stalling(); }));
  const size_t checks = nn_.count("monitorHealth");
  clock_.Advance(10'000 * kMs);
  monitor_->Poke();
  EXPECT_EQ(monitor_->snapshot().state, HealthState::kHealthy);
  nn_.SetHealth(Status::NetworkError("nn1 monitorHealth: timed out"));
  nn_.Unstall();
  ASSERT_TRUE(StateBecomes(HealthState::kUnresponsive));
  // The poke during the stall runs one check right after it, and no more are due before
  // the clock moves again.
  ASSERT_TRUE(Eventually([&] { return nn_.count("monitorHealth") == checks + 1; }));
  EXPECT_EQ(nn_.calls("monitorHealth")[checks - 1].at + 10'000 * kMs,
            nn_.calls("monitorHealth")[checks].at);
}

TEST_F(HealthMonitorTest, ForgetHaStateClearsItUntilTheNextAnswer) {
  StartMonitor(1000);
  ASSERT_TRUE(Eventually([&] { return monitor_->snapshot().ha_state == "standby"; }));
  const size_t checks = nn_.count("monitorHealth");
  monitor_->ForgetHaState();
  // Cleared at once, then refilled by the check ForgetHaState runs.
  ASSERT_TRUE(Eventually([&] { return nn_.count("getServiceStatus") > checks; }));
  ASSERT_TRUE(Eventually([&] { return monitor_->snapshot().ha_state == "standby"; }));
}

TEST_F(HealthMonitorTest, StopWhileWaitingReturns) {
  StartMonitor(1'000'000);
  ASSERT_TRUE(StateBecomes(HealthState::kHealthy));
  monitor_->Stop();  // must not wait for the interval (the clock never moves)
  EXPECT_EQ(nn_.count("monitorHealth"), 1u);
}

}  // namespace
}  // namespace qj::fo
