// HaState: when a namenode may serve a client call (role, fence, lease deadline).
#include "namenode/ha_state.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "tests/support/fake_clock.h"

namespace qj::nn {
namespace {

constexpr int64_t kSec = 1'000'000'000;

TEST(HaStateTest, OnlyActiveServes) {
  FakeClock clock;
  HaState ha("nn1", &clock);
  EXPECT_EQ(ha.CheckServing().code(), StatusCode::kNotActive);
  ha.SetRole(HaRole::kStandby);
  Status st = ha.CheckServing();
  EXPECT_EQ(st.code(), StatusCode::kNotActive);
  EXPECT_NE(st.message().find("nn1 is standby"), std::string::npos) << st;
  ha.SetRole(HaRole::kActive);
  EXPECT_TRUE(ha.CheckServing().ok());
  EXPECT_EQ(ha.active_hint(), "nn1");
  ha.SetRole(HaRole::kStopping);
  EXPECT_EQ(ha.CheckServing().code(), StatusCode::kNotActive);
  EXPECT_EQ(ha.active_hint(), "");
}

TEST(HaStateTest, LeaseDeadline_RefusesAtAndPastIt_UntilRenewed) {
  FakeClock clock(100 * kSec);
  HaState ha("nn1", &clock);
  ha.SetRole(HaRole::kActive, 102 * kSec);
  EXPECT_EQ(ha.lease_deadline(), 102 * kSec);
  EXPECT_TRUE(ha.CheckServing().ok());
  clock.Advance(2 * kSec - 1);
  EXPECT_TRUE(ha.CheckServing().ok());
  clock.Advance(1);  // exactly at the deadline
  Status st = ha.CheckServing();
  EXPECT_EQ(st.code(), StatusCode::kNotActive);
  EXPECT_NE(st.message().find("lease"), std::string::npos) << st;
  // A lapsed lease is never revived by a late renewal: someone else may be active.
  EXPECT_FALSE(ha.RenewLease(105 * kSec).ok());
  EXPECT_EQ(ha.CheckServing().code(), StatusCode::kNotActive);
}

TEST(HaStateTest, RenewLease_BeforeDeadlineExtends_ZeroMeansManualMode) {
  FakeClock clock(100 * kSec);
  HaState ha("nn1", &clock);
  ha.SetRole(HaRole::kActive, 102 * kSec);
  clock.Advance(kSec);
  ASSERT_TRUE(ha.RenewLease(105 * kSec).ok());
  clock.Advance(3 * kSec);  // past the first deadline, before the renewed one
  EXPECT_TRUE(ha.CheckServing().ok());
  // 0 = manual mode: no deadline at all.
  ASSERT_TRUE(ha.RenewLease(0).ok());
  clock.Advance(1000 * kSec);
  EXPECT_TRUE(ha.CheckServing().ok());
}

TEST(HaStateTest, RenewLease_RefusedUnlessActiveAndUnfenced) {
  FakeClock clock;
  HaState ha("nn1", &clock);
  ha.SetRole(HaRole::kStandby);
  EXPECT_FALSE(ha.RenewLease(clock.MonotonicNanos() + kSec).ok());
  ha.SetRole(HaRole::kActive, clock.MonotonicNanos() + kSec);
  ha.Fence(Status::StaleEpoch(7, "fenced by epoch 7"));
  EXPECT_FALSE(ha.RenewLease(clock.MonotonicNanos() + 2 * kSec).ok());
  // Leaving the active role drops the deadline.
  ha.SetRole(HaRole::kStandby);
  EXPECT_EQ(ha.lease_deadline(), 0);
}

TEST(HaStateTest, Fence_StopsServingAndSticksUntilActiveAgain) {
  FakeClock clock;
  HaState ha("nn1", &clock);
  ha.SetRole(HaRole::kActive);
  ha.Fence(Status::StaleEpoch(3, "newer writer"));
  ha.Fence(Status::IOError("second reason is ignored"));
  Status st = ha.CheckServing();
  EXPECT_EQ(st.code(), StatusCode::kNotActive);
  EXPECT_NE(st.message().find("newer writer"), std::string::npos) << st;
  EXPECT_TRUE(ha.fence_status().IsStaleEpoch());
  ha.SetRole(HaRole::kStandby);
  ha.SetRole(HaRole::kActive);
  EXPECT_TRUE(ha.fence_status().ok());
  EXPECT_TRUE(ha.CheckServing().ok());
}

TEST(HaStateTest, ActiveHint_OnlyWhileNotActive) {
  FakeClock clock;
  HaState ha("nn1", &clock);
  ha.SetRole(HaRole::kStandby);
  ha.set_active_hint("nn2");
  EXPECT_EQ(ha.active_hint(), "nn2");
  ha.SetRole(HaRole::kActive);
  ha.set_active_hint("nn2");
  EXPECT_EQ(ha.active_hint(), "nn1");
}

TEST(HaStateTest, ClearFence_AfterReloadAsStandby_IsHealthyAgain) {
  FakeClock clock;
  HaState ha("nn1", &clock);
  ha.SetRole(HaRole::kActive);
  ha.Fence(Status::StaleEpoch(3, "newer writer"));
  ha.SetRole(HaRole::kStandby);
  EXPECT_FALSE(ha.fence_status().ok());  // standby, but its state is not reloaded yet
  ha.ClearFence();
  EXPECT_TRUE(ha.fence_status().ok());
  EXPECT_EQ(ha.CheckServing().code(), StatusCode::kNotActive);  // still a standby
}

// A transition to active that outlasts the lease it was won with: renewals that arrive
// meanwhile are kept, and the newest is installed when the transition completes.
TEST(HaStateTest, Activation_RenewalsDuringIt_NewestDeadlineInstalled) {
  FakeClock clock(100 * kSec);
  HaState ha("nn1", &clock);
  ha.SetRole(HaRole::kStandby);
  ha.BeginActivation(102 * kSec);
  EXPECT_EQ(ha.CheckServing().code(), StatusCode::kNotActive);  // nothing served yet
  clock.Advance(kSec);
  ASSERT_TRUE(ha.RenewLease(104 * kSec).ok());
  clock.Advance(2 * kSec);  // past the lease won, before the renewed one
  ASSERT_TRUE(ha.RenewLease(106 * kSec).ok());
  EXPECT_EQ(ha.CompleteActivation(), 106 * kSec);
  EXPECT_EQ(ha.role(), HaRole::kActive);
  EXPECT_TRUE(ha.CheckServing().ok());
  ASSERT_TRUE(ha.RenewLease(108 * kSec).ok());
}

TEST(HaStateTest, Activation_LeaseLapsedDuringIt_NotRevivedAndNotServed) {
  FakeClock clock(100 * kSec);
  HaState ha("nn1", &clock);
  ha.SetRole(HaRole::kStandby);
  ha.BeginActivation(102 * kSec);
  clock.Advance(2 * kSec);  // exactly at the deadline: lapsed
  Status st = ha.RenewLease(105 * kSec);
  EXPECT_EQ(st.code(), StatusCode::kIllegalState) << st;
  EXPECT_EQ(ha.CompleteActivation(), 102 * kSec);
  EXPECT_EQ(ha.CheckServing().code(), StatusCode::kNotActive);
  EXPECT_FALSE(ha.RenewLease(105 * kSec).ok());
}

TEST(HaStateTest, Activation_CancelledOrManual_RenewalsRefused) {
  FakeClock clock(100 * kSec);
  HaState ha("nn1", &clock);
  ha.SetRole(HaRole::kStandby);
  ha.BeginActivation(102 * kSec);
  ha.CancelActivation();
  EXPECT_FALSE(ha.RenewLease(104 * kSec).ok());
  // Manual mode (no lease): nothing to renew until active, and no deadline after.
  ha.BeginActivation(0);
  EXPECT_FALSE(ha.RenewLease(104 * kSec).ok());
  EXPECT_EQ(ha.CompleteActivation(), 0);
  clock.Advance(1000 * kSec);
  EXPECT_TRUE(ha.CheckServing().ok());
}

// A call that arrives during an activation waits for its end, and is then served.
TEST(HaStateTest, WaitWhileActivating_EndsWhenTheActivationCompletes) {
  FakeClock clock(100 * kSec);
  HaState ha("nn1", &clock);
  ha.SetRole(HaRole::kStandby);
  // No activation: no wait, even with a clock that never moves.
  EXPECT_FALSE(ha.WaitWhileActivating(1000));
  ha.BeginActivation(110 * kSec);
  std::atomic<bool> returned{false};
  Status served;
  std::thread call([&] {
    EXPECT_TRUE(ha.WaitWhileActivating(1000));
    served = ha.CheckServing();
    returned = true;
  });
  while (clock.waiters() == 0) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(returned.load()) << "returned while the activation was under way";
  ha.CompleteActivation();
  call.join();
  EXPECT_TRUE(served.ok()) << served;
}

TEST(HaStateTest, WaitWhileActivating_CancelledOrBoundReached_ThenRefused) {
  FakeClock clock(100 * kSec);
  HaState ha("nn1", &clock);
  ha.SetRole(HaRole::kStandby);
  ha.BeginActivation(110 * kSec);
  Status after_cancel;
  std::thread cancelled([&] {
    ha.WaitWhileActivating(1000);
    after_cancel = ha.CheckServing();
  });
  while (clock.waiters() == 0) std::this_thread::yield();
  ha.CancelActivation();
  cancelled.join();
  EXPECT_EQ(after_cancel.code(), StatusCode::kNotActive) << after_cancel;

  // The bound is on the clock: an activation that lasts past it lets the call go.
  ha.BeginActivation(110 * kSec);
  std::atomic<bool> returned{false};
  std::thread bounded([&] {
    ha.WaitWhileActivating(500);
    returned = true;
  });
  while (clock.waiters() == 0) std::this_thread::yield();
  clock.Advance(499 * 1'000'000);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(returned.load());
  clock.Advance(1'000'000);
  bounded.join();
  EXPECT_EQ(ha.CheckServing().code(), StatusCode::kNotActive);
  // 0 never waits.
  EXPECT_FALSE(ha.WaitWhileActivating(0));
}

}  // namespace
}  // namespace qj::nn
