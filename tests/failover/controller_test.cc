// The failover Controller's threads (failover/controller.h) around ControllerCore, with a
// scripted namenode (tests/failover/scripted_namenode.h), journalnodes that grant leases
// in memory, and a fake clock: the controller wins the lease and makes its namenode
// active with the lease's deadline, renews on the clock's schedule, demotes and releases
// when the namenode turns unhealthy or when the lease cannot be renewed, and cedes on
// request. The deadlines are exact because time only moves when the test moves it.
#include "failover/controller.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "tests/failover/scripted_namenode.h"
#include "tests/support/fake_clock.h"

namespace qj::fo {
namespace {

using testing_util::AdvanceUntil;
using testing_util::Eventually;
using testing_util::ScriptedNamenode;

constexpr int64_t kMs = kNanosPerMilli;

// A journalnode's lease grant, answered at once: granted unless the test refuses.
class MemoryGrantor final : public jn::LeaseGrantor {
 public:
  explicit MemoryGrantor(std::string name) : name_(std::move(name)) {}
  std::string name() const override { return name_; }
  void AcquireAsync(const std::string&, const std::string&, int64_t duration_ms,
                    std::function<void(jn::GrantReply)> done) override {
    ++acquires;
    last_duration_ms = duration_ms;
    jn::GrantReply r;
    if (refuse.load()) {
      r.holder = "nn2";
      r.remaining_ms = duration_ms;
    } else {
      r.granted = true;
    }
    done(r);
  }
  void ReleaseAsync(const std::string&, const std::string&,
                    std::function<void(Status)> done) override {
    ++releases;
    if (hold_releases.load()) {
      std::lock_guard<std::mutex> l(mu_);
      held_.push_back(std::move(done));
      return;
    }
    done(Status::OK());
  }
  // Answers the releases held back while hold_releases was set.
  void AnswerHeldReleases() {
    std::vector<std::function<void(Status)>> held;
    {
      std::lock_guard<std::mutex> l(mu_);
      held.swap(held_);
    }
    for (auto& done : held) done(Status::OK());
  }
  size_t held_releases() {
    std::lock_guard<std::mutex> l(mu_);
    return held_.size();
  }

  std::atomic<bool> refuse{false};
  std::atomic<int> acquires{0};
  std::atomic<int> releases{0};
  std::atomic<int64_t> last_duration_ms{0};
  // Release calls are answered only by AnswerHeldReleases (a slow journalnode).
  std::atomic<bool> hold_releases{false};

 private:
  const std::string name_;
  std::mutex mu_;
  std::vector<std::function<void(Status)>> held_;
};

class ControllerTest : public ::testing::Test {
 protected:
  ControllerTest() : nn_(&clock_) {
    for (const char* id : {"nn1", "nn2"}) {
      NamenodeInfo n;
      n.id = id;
      n.host = "127.0.0.1";
      conf_.namenodes.push_back(n);
    }
    lease_opts_.journal_id = "ns1";
    lease_opts_.holder_id = "nn1";
    lease_opts_.duration_ms = 3000;
    lease_opts_.drift = 0.05;
    lease_opts_.margin_ms = 200;
  }
  ~ControllerTest() override {
    if (controller_ != nullptr) controller_->Stop();
  }

  void StartController() {
    std::vector<std::unique_ptr<jn::LeaseGrantor>> gs;
    for (int i = 0; i < 3; ++i) {
      auto g = std::make_unique<MemoryGrantor>("jn" + std::to_string(i + 1));
      grantors_.push_back(g.get());
      gs.push_back(std::move(g));
    }
    auto lease = std::make_unique<jn::LeaseClient>(lease_opts_, std::move(gs), &clock_);
    ControllerOptions o;
    o.namenode_id = "nn1";
    o.automatic = true;
    o.health.interval_ms = 200;
    o.renew_interval_ms = 500;
    o.acquire_interval_ms = 100;
    o.demote_guard_ms = 500;
    controller_ = std::make_unique<Controller>(o, conf_, std::move(lease), &clock_, nn_.Factory());
    controller_->Start();
  }
  int Acquires() const {
    int n = 0;
    for (const MemoryGrantor* g : grantors_) n += g->acquires.load();
    return n;
  }
  int Releases() const {
    int n = 0;
    for (const MemoryGrantor* g : grantors_) n += g->releases.load();
    return n;
  }
  void RefuseLease(bool refuse) {
    for (MemoryGrantor* g : grantors_) g->refuse = refuse;
  }
  // Starts the controller and waits until it made the namenode active; returns the
  // deadline it handed over.
  int64_t StartAndWin() {
    StartController();
    EXPECT_TRUE(Eventually([&] { return nn_.count("transitionToActive") == 1; }));
    EXPECT_TRUE(Eventually([&] { return controller_->GetStatus().active; }));
    return nn_.calls("transitionToActive").at(0).deadline;
  }

  FakeClock clock_;
  ScriptedNamenode nn_;
  ClusterConfig conf_;
  jn::LeaseClientOptions lease_opts_;
  std::vector<MemoryGrantor*> grantors_;
  std::unique_ptr<Controller> controller_;
};

TEST_F(ControllerTest, WinsTheLeaseAndActivatesWithItsDeadline) {
  const int64_t t0 = clock_.MonotonicNanos();
  const int64_t deadline = StartAndWin();
  // The round started at t0 (the clock has not moved): the namenode's deadline is the
  // lease client's, duration x (1 - drift) - margin after it.
  EXPECT_EQ(deadline, jn::LeaseDeadlineNanos(t0, lease_opts_));
  EXPECT_EQ(deadline, t0 + 2650 * kMs);
  EXPECT_GE(nn_.count("monitorHealth"), 1u) << "activation follows a healthy check";
  EXPECT_EQ(grantors_[0]->last_duration_ms.load(), 3000);
  ControllerStatus st = controller_->GetStatus();
  EXPECT_TRUE(st.holds_lease);
  EXPECT_EQ(st.lease_remaining_ms, 2650);
  EXPECT_EQ(st.became_active, 1);
  EXPECT_EQ(st.left_active, 0);
  EXPECT_EQ(st.health, "HEALTHY");
}

TEST_F(ControllerTest, RenewsOnTheClocksScheduleAndHandsOverEachDeadline) {
  const int64_t t0 = clock_.MonotonicNanos();
  StartAndWin();
  for (int i = 1; i <= 3; ++i) {
    const int64_t ti = t0 + i * 500 * kMs;
    clock_.Advance(500 * kMs);
    // A renewal vouches only for what health confirmed (ControllerCore::Hand): the round
    // at ti obtained LeaseDeadlineNanos(ti) - ti of lease, counted from the newest healthy
    // check, which is the one at ti if it was answered before the round started, else the
    // one at t(i-1), 500 ms earlier. Both are right; nothing else is.
    const int64_t want = jn::LeaseDeadlineNanos(ti, lease_opts_);
    const int64_t want_prev_check = want - 500 * kMs;
    ASSERT_TRUE(Eventually([&] {
      for (const auto& c : nn_.calls("renewLease")) {
        if (c.deadline == want || c.deadline == want_prev_check) return true;
      }
      return false;
    })) << "renewal "
        << i;
  }
  // Nothing but renewals: never demoted, one activation.
  EXPECT_EQ(nn_.count("transitionToActive"), 1u);
  EXPECT_EQ(nn_.count("transitionToStandby"), 0u);
  // What the namenode holds: a full lease from the last round, or 500 ms less when that
  // round vouched from the check before it (see above).
  const int64_t remaining = controller_->GetStatus().lease_remaining_ms;
  EXPECT_TRUE(remaining == 2650 || remaining == 2150) << remaining;
}

TEST_F(ControllerTest, DemotesAndReleasesWhenTheNamenodeTurnsUnhealthy) {
  StartAndWin();
  ASSERT_EQ(Releases(), 0);
  nn_.SetHealth(Status::Unavailable("nn1 monitorHealth: unhealthy: journal failed"));
  // Health checks are due every 200 ms of the clock.
  ASSERT_TRUE(
      AdvanceUntil(&clock_, 200 * kMs, [&] { return nn_.count("transitionToStandby") >= 1; }));
  ASSERT_TRUE(Eventually([&] { return Releases() == 3; })) << "the lease goes to the peer";
  ASSERT_TRUE(Eventually([&] { return !controller_->GetStatus().active; }));
  ControllerStatus st = controller_->GetStatus();
  EXPECT_EQ(st.left_active, 1);
  EXPECT_FALSE(st.holds_lease);
  EXPECT_EQ(st.health, "UNHEALTHY");
}

TEST_F(ControllerTest, DemotesBeforeTheDeadlineWhenRenewalsAreRefused) {
  const int64_t deadline = StartAndWin();
  RefuseLease(true);
  // Renewals are refused, but 600 ms of the lease remain (more than demote_guard_ms):
  // the namenode stays active while the controller keeps trying.
  const int acquires = Acquires();
  clock_.Advance(deadline - 600 * kMs - clock_.MonotonicNanos());
  ASSERT_TRUE(Eventually([&] { return Acquires() > acquires; }));
  EXPECT_EQ(nn_.count("transitionToStandby"), 0u);
  // Within the guard: out of active before the deadline.
  clock_.Advance(200 * kMs);
  ASSERT_TRUE(Eventually([&] { return nn_.count("transitionToStandby") == 1; }));
  EXPECT_EQ(nn_.calls("transitionToStandby").at(0).at, deadline - 400 * kMs);
  ASSERT_TRUE(Eventually([&] { return !controller_->GetStatus().active; }));
  EXPECT_EQ(controller_->GetStatus().left_active, 1);
}

TEST_F(ControllerTest, CedeDemotesReleasesAndStaysOut) {
  StartAndWin();
  ASSERT_TRUE(controller_->CedeActive(5000).ok());
  EXPECT_EQ(nn_.count("transitionToStandby"), 1u);
  ASSERT_TRUE(Eventually([&] { return Releases() == 3; }));
  ControllerStatus st = controller_->GetStatus();
  EXPECT_FALSE(st.active);
  EXPECT_EQ(st.ceded_remaining_ms, 5000);
  // While ceded it does not try for the lease, however often health checks pass.
  const int acquires = Acquires();
  clock_.Advance(4900 * kMs);
  ASSERT_TRUE(Eventually([&] { return controller_->GetStatus().ceded_remaining_ms == 100; }));
  EXPECT_EQ(Acquires(), acquires);
  EXPECT_EQ(nn_.count("transitionToActive"), 1u);
  // After the stay-out it wins again.
  clock_.Advance(200 * kMs);
  ASSERT_TRUE(Eventually([&] { return nn_.count("transitionToActive") == 2; }));
}

// A cede is answered only once the journalnodes have answered the release: the failoverd
// that asked (a graceful failover) then finds the lease free at once.
TEST_F(ControllerTest, CedeIsAnsweredOnlyAfterTheReleaseIsAnswered) {
  StartAndWin();
  for (MemoryGrantor* g : grantors_) g->hold_releases = true;
  std::atomic<bool> answered{false};
  Status cede;
  std::thread asker([&] {
    cede = controller_->CedeActive(5000);
    answered = true;
  });
  EXPECT_TRUE(Eventually([&] {
    size_t held = 0;
    for (MemoryGrantor* g : grantors_) held += g->held_releases();
    return held == 3;
  }));
  // Not answered while the releases are out (the old code answered as it sent them).
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(answered.load());
  for (MemoryGrantor* g : grantors_) {
    g->hold_releases = false;
    g->AnswerHeldReleases();
  }
  asker.join();
  EXPECT_TRUE(answered.load());
  EXPECT_TRUE(cede.ok()) << cede;
  EXPECT_FALSE(controller_->GetStatus().active);
}

}  // namespace
}  // namespace qj::fo
