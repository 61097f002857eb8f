// ControllerCore on its own: no threads, no namenode, no journalnodes. Time is a number
// the test moves; each test drives one scenario of the decisions listed in
// failover/controller_core.h and checks the actions that come out.
#include "failover/controller_core.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace qj::fo {
namespace {

constexpr int64_t kMs = kNanosPerMilli;
using A = ControllerAction;

struct Harness {
  ControllerCore core;
  int64_t now = 1000 * kMs;
  std::vector<ControllerAction> log;  // every action since the last Take()

  // When the last check that found the namenode HEALTHY was sent (HealthSnapshot).
  int64_t healthy_at = 0;

  explicit Harness(int64_t unhealthy_backoff_ms = 0) : core(Options(unhealthy_backoff_ms)) {}
  explicit Harness(const ControllerCoreOptions& o) : core(o) {}
  static ControllerCoreOptions Options(int64_t unhealthy_backoff_ms) {
    ControllerCoreOptions o;
    o.namenode_id = "nn1";
    o.renew_interval_ms = 500;
    o.acquire_interval_ms = 100;
    o.demote_guard_ms = 500;
    o.unhealthy_backoff_ms = unhealthy_backoff_ms;
    return o;
  }
  void Add(const ControllerCore::Actions& acts) { log.insert(log.end(), acts.begin(), acts.end()); }
  // The actions other than timers since the last call.
  std::vector<ControllerAction> Take() {
    std::vector<ControllerAction> out;
    for (auto& a : log) {
      if (a.kind != A::kSetTimer) out.push_back(a);
    }
    log.clear();
    return out;
  }
  std::string Kinds() {
    std::string s;
    for (auto& a : Take()) s += std::string(s.empty() ? "" : ",") + ControllerActionName(a.kind);
    return s;
  }
  void Health(HealthState st, const std::string& ha_state = "", bool gone = false) {
    HealthSnapshot h;
    h.state = st;
    h.ha_state = ha_state;
    h.process_gone = gone;
    if (st == HealthState::kHealthy) healthy_at = now;
    h.healthy_at = healthy_at;
    Add(core.OnHealth(now, h));
  }
  // A HEALTHY snapshot whose check was sent at `sent` (answered now, or the monitor still
  // shows an old answer while the next check hangs).
  void HealthyAsOf(int64_t sent) {
    HealthSnapshot h;
    h.state = HealthState::kHealthy;
    healthy_at = sent;
    h.healthy_at = sent;
    Add(core.OnHealth(now, h));
  }
  void Advance(int64_t ms) {
    now += ms * kMs;
    Add(core.OnTick(now));
  }
  // Expects exactly one lease round to have been started; returns its number.
  uint64_t ExpectRound() {
    auto acts = Take();
    EXPECT_EQ(acts.size(), 1u);
    if (acts.size() != 1 || acts[0].kind != A::kStartLeaseRound) {
      ADD_FAILURE() << "expected a lease round";
      return 0;
    }
    return acts[0].round;
  }
  void Grant(uint64_t round, int64_t deadline) {
    Add(core.OnLeaseRound(now, round, true, deadline, ""));
  }
  // Makes the namenode active under a lease with deadline now + 2650 ms.
  void BecomeActive() {
    Health(HealthState::kHealthy);
    uint64_t r = ExpectRound();
    Grant(r, now + 2650 * kMs);
    auto acts = Take();
    ASSERT_EQ(acts.size(), 1u);
    ASSERT_EQ(acts[0].kind, A::kTransitionToActive);
    Add(core.OnTransitionToActiveDone(now, Status::OK()));
    ASSERT_TRUE(core.active());
    // The first renewal hands the freshest deadline over at once.
    acts = Take();
    ASSERT_EQ(acts.size(), 2u);
    ASSERT_EQ(acts[1].kind, A::kStartLeaseRound);
    Grant(acts[1].round, now + 2650 * kMs);
    acts = Take();
    ASSERT_EQ(acts.size(), 1u);
    ASSERT_EQ(acts[0].kind, A::kRenewLease);
    Add(core.OnRenewLeaseDone(now, false, Status::OK()));
    ASSERT_EQ(Kinds(), "");
  }
};

TEST(ControllerCore, HealthyContendsWinsAndBecomesActiveThenRenews) {
  Harness h;
  h.Health(HealthState::kInitializing);
  EXPECT_EQ(h.Kinds(), "");  // not healthy: does not contend
  h.Health(HealthState::kHealthy);
  uint64_t r = h.ExpectRound();
  const int64_t deadline = h.now + 2650 * kMs;
  h.Grant(r, deadline);
  auto acts = h.Take();
  ASSERT_EQ(acts.size(), 1u);
  EXPECT_EQ(acts[0].kind, A::kTransitionToActive);
  EXPECT_EQ(acts[0].deadline, deadline);
  h.Add(h.core.OnTransitionToActiveDone(h.now, Status::OK()));
  EXPECT_TRUE(h.core.active());
  // The freshest deadline is handed over right away: a renewal round, then renewLease.
  acts = h.Take();
  ASSERT_EQ(acts.size(), 2u);
  EXPECT_EQ(acts[0].kind, A::kForgetHaState);
  EXPECT_EQ(acts[1].kind, A::kStartLeaseRound);
  h.Grant(acts[1].round, h.now + 2650 * kMs);
  acts = h.Take();
  ASSERT_EQ(acts.size(), 1u);
  EXPECT_EQ(acts[0].kind, A::kRenewLease);
  EXPECT_FALSE(acts[0].during_activation);
  h.Add(h.core.OnRenewLeaseDone(h.now, false, Status::OK()));
  // Nothing until the renew interval has passed.
  h.Advance(499);
  EXPECT_EQ(h.Kinds(), "");
  h.Advance(1);
  EXPECT_EQ(h.Kinds(), "start-lease-round");
}

TEST(ControllerCore, ContendsEveryAcquireIntervalWhileDenied) {
  Harness h;
  h.Health(HealthState::kHealthy);
  uint64_t r = h.ExpectRound();
  h.Add(h.core.OnLeaseRound(h.now, r, false, 0, "held by nn2"));
  EXPECT_EQ(h.Kinds(), "");
  h.Advance(99);
  EXPECT_EQ(h.Kinds(), "");
  h.Advance(26);  // acquire interval plus at most a quarter of jitter
  EXPECT_EQ(h.Kinds(), "start-lease-round");
}

TEST(ControllerCore, UnhealthyWhileActiveDemotesThenReleases) {
  Harness h;
  h.BecomeActive();
  h.Take();
  h.Health(HealthState::kUnresponsive);
  EXPECT_EQ(h.Kinds(), "transitionToStandby");
  EXPECT_FALSE(h.core.active());
  h.Add(h.core.OnStandbyDone(h.now, Status::OK(), false));
  EXPECT_EQ(h.Kinds(), "release-lease,forget-ha-state");
  EXPECT_FALSE(h.core.holds_lease(h.now));
}

TEST(ControllerCore, UndemotableNamenodeKeepsTheLeaseUntilItsDeadline) {
  Harness h;
  h.BecomeActive();
  h.Take();
  const int64_t deadline = h.core.lease_deadline();
  h.Health(HealthState::kUnresponsive);
  EXPECT_EQ(h.Kinds(), "transitionToStandby");
  h.Add(h.core.OnStandbyDone(h.now, Status::NetworkError("timed out"), false));
  EXPECT_EQ(h.Kinds(), "forget-ha-state");  // keeps the lease: the namenode may still serve
  h.now = deadline - 1;
  h.Add(h.core.OnTick(h.now));
  EXPECT_EQ(h.Kinds(), "");
  h.now = deadline;
  h.Add(h.core.OnTick(h.now));
  EXPECT_EQ(h.Kinds(), "release-lease");
}

TEST(ControllerCore, ProcessGoneReleasesAtOnce) {
  Harness h;
  h.BecomeActive();
  h.Take();
  h.Health(HealthState::kUnresponsive, "", /*gone=*/true);
  EXPECT_EQ(h.Kinds(), "release-lease");
}

TEST(ControllerCore, FailedRenewalsRetryThenDemoteInsideTheGuard) {
  Harness h;
  h.BecomeActive();
  h.Advance(500);
  uint64_t r = h.ExpectRound();
  const int64_t deadline = h.core.lease_deadline();
  // Missed majority with plenty left: retried after the acquire interval.
  h.Add(h.core.OnLeaseRound(h.now, r, false, deadline, "timed out"));
  EXPECT_EQ(h.Kinds(), "");
  h.Advance(100);
  r = h.ExpectRound();
  // Missed again with less than the guard left: demote.
  h.now = deadline - 400 * kMs;
  h.Add(h.core.OnLeaseRound(h.now, r, false, deadline, "timed out"));
  EXPECT_EQ(h.Kinds(), "transitionToStandby");
  EXPECT_FALSE(h.core.active());
}

TEST(ControllerCore, RenewalEndingAfterTheOldDeadlineDemotes) {
  Harness h;
  h.BecomeActive();
  h.Advance(500);
  uint64_t r = h.ExpectRound();
  const int64_t old_deadline = h.core.lease_deadline();
  h.now = old_deadline;  // the round took that long
  h.Grant(r, h.now + 2650 * kMs);
  // The namenode's deadline has passed: the lease need not wait for the demotion.
  EXPECT_EQ(h.Kinds(), "transitionToStandby,release-lease");
}

TEST(ControllerCore, RefusedRenewalDemotes) {
  Harness h;
  h.BecomeActive();
  h.Advance(500);
  h.Grant(h.ExpectRound(), h.now + 2650 * kMs);
  EXPECT_EQ(h.Kinds(), "renewLease");
  h.Add(h.core.OnRenewLeaseDone(h.now, false, Status::IllegalState("fenced")));
  EXPECT_EQ(h.Kinds(), "transitionToStandby");
}

TEST(ControllerCore, ActiveNamenodeWithoutOurLeaseIsDemotedNotAdopted) {
  Harness h;
  h.Health(HealthState::kHealthy, "active");
  EXPECT_EQ(h.Kinds(), "transitionToStandby");
  h.Add(h.core.OnStandbyDone(h.now, Status::OK(), false));
  // Then it contends the proper way.
  EXPECT_EQ(h.Kinds(), "forget-ha-state,start-lease-round");
}

TEST(ControllerCore, UnhealthyStandbyIsRecoveredAtMostOncePerInterval) {
  Harness h;
  h.Health(HealthState::kUnhealthy);
  EXPECT_EQ(h.Kinds(), "transitionToStandby");
  h.Add(h.core.OnStandbyDone(h.now, Status::OK(), false));
  EXPECT_EQ(h.Kinds(), "forget-ha-state");
  h.Advance(999);
  EXPECT_EQ(h.Kinds(), "");
  h.Advance(1);
  EXPECT_EQ(h.Kinds(), "transitionToStandby");
}

TEST(ControllerCore, LeaseLapsingDuringActivationFailsIt) {
  Harness h;
  h.Health(HealthState::kHealthy);
  uint64_t r = h.ExpectRound();
  const int64_t deadline = h.now + 2650 * kMs;
  h.Grant(r, deadline);
  EXPECT_EQ(h.Kinds(), "transitionToActive");
  // The keeper renews every renew interval and hands each deadline over.
  h.Advance(500);
  r = h.ExpectRound();
  h.Grant(r, h.now + 2650 * kMs);
  auto acts = h.Take();
  ASSERT_EQ(acts.size(), 1u);
  EXPECT_EQ(acts[0].kind, A::kRenewLease);
  EXPECT_TRUE(acts[0].during_activation);
  h.Add(h.core.OnRenewLeaseDone(h.now, true, Status::OK()));
  const int64_t d2 = h.core.lease_deadline();
  // The next keeper round ends after the deadline it was meant to extend.
  h.Advance(500);
  r = h.ExpectRound();
  h.now = d2 + kMs;
  h.Grant(r, h.now + 2650 * kMs);
  r = h.ExpectRound();  // nothing handed over; the keeper goes on
  h.Add(h.core.OnTransitionToActiveDone(h.now, Status::OK()));
  EXPECT_EQ(h.Kinds(), "forget-ha-state");
  h.Add(h.core.OnLeaseRound(h.now, r, false, h.core.lease_deadline(), "timed out"));
  // Every deadline handed over has passed: released without waiting for the demotion.
  EXPECT_EQ(h.Kinds(), "transitionToStandby,release-lease");
  EXPECT_FALSE(h.core.active());
}

TEST(ControllerCore, TransitionReplyWaitsForTheKeeperRound) {
  Harness h;
  h.Health(HealthState::kHealthy);
  h.Grant(h.ExpectRound(), h.now + 2650 * kMs);
  h.Take();
  h.Advance(500);
  uint64_t r = h.ExpectRound();
  h.Add(h.core.OnTransitionToActiveDone(h.now, Status::OK()));
  EXPECT_EQ(h.Kinds(), "forget-ha-state");
  EXPECT_FALSE(h.core.active());  // not before the keeper's round is back
  h.Grant(r, h.now + 2650 * kMs);
  auto acts = h.Take();
  ASSERT_EQ(acts.size(), 1u);
  EXPECT_TRUE(acts[0].during_activation);
  EXPECT_FALSE(h.core.active());  // nor its renewLease
  h.Add(h.core.OnRenewLeaseDone(h.now, true, Status::OK()));
  EXPECT_TRUE(h.core.active());
}

TEST(ControllerCore, CedeDemotesReleasesAndStaysOut) {
  Harness h;
  h.BecomeActive();
  std::vector<ControllerAction> acts;
  h.Add(h.core.Cede(h.now, 10000, 7));
  EXPECT_EQ(h.Kinds(), "transitionToStandby");
  h.Add(h.core.OnStandbyDone(h.now, Status::OK(), false));
  acts = h.Take();
  ASSERT_EQ(acts.size(), 3u);
  EXPECT_EQ(acts[0].kind, A::kReleaseLease);
  EXPECT_EQ(acts[1].kind, A::kCedeDone);
  EXPECT_EQ(acts[1].request, 7u);
  EXPECT_TRUE(acts[1].status.ok());
  h.Advance(9999);
  EXPECT_EQ(h.Kinds(), "");  // stays out
  h.Advance(1);
  EXPECT_EQ(h.Kinds(), "start-lease-round");
}

TEST(ControllerCore, CedeFailsWhenTheNamenodeCannotBeDemoted) {
  Harness h;
  h.BecomeActive();
  std::vector<ControllerAction> acts;
  h.Add(h.core.Cede(h.now, 10000, 3));
  EXPECT_EQ(h.Kinds(), "transitionToStandby");
  h.Add(h.core.OnStandbyDone(h.now, Status::NetworkError("timed out"), false));
  acts = h.Take();
  ASSERT_EQ(acts.size(), 2u);
  EXPECT_EQ(acts[0].kind, A::kCedeDone);
  EXPECT_EQ(acts[0].status.code(), StatusCode::kIllegalState);
}

TEST(ControllerCore, GracefulFailoverAsksPeersThenTakesTheLease) {
  Harness h;
  h.Health(HealthState::kHealthy);
  h.Add(h.core.OnLeaseRound(h.now, h.ExpectRound(), false, 0, "held by nn2"));
  h.Take();
  h.Add(h.core.GracefulFailover(h.now, 11));
  EXPECT_EQ(h.Kinds(), "ask-peers-to-cede");
  // A cede asked of this side meanwhile is refused at once.
  h.Add(h.core.Cede(h.now, 1000, 12));
  auto acts = h.Take();
  ASSERT_EQ(acts.size(), 1u);
  EXPECT_EQ(acts[0].kind, A::kCedeDone);
  EXPECT_EQ(acts[0].status.code(), StatusCode::kIllegalState);
  h.Add(h.core.OnPeersCeded(h.now, Status::OK()));
  uint64_t r = h.ExpectRound();
  h.Add(h.core.OnLeaseRound(h.now, r, false, 0, "held by nn2"));  // release propagating
  EXPECT_EQ(h.Kinds(), "");
  h.Advance(20);
  r = h.ExpectRound();
  h.Grant(r, h.now + 2650 * kMs);
  EXPECT_EQ(h.Kinds(), "transitionToActive");
  h.Add(h.core.OnTransitionToActiveDone(h.now, Status::OK()));
  acts = h.Take();
  bool answered = false;
  for (auto& a : acts) {
    if (a.kind == A::kFailoverDone) {
      answered = true;
      EXPECT_EQ(a.request, 11u);
      EXPECT_TRUE(a.status.ok());
    }
  }
  EXPECT_TRUE(answered);
  EXPECT_TRUE(h.core.active());
}

TEST(ControllerCore, GracefulFailoverRefusedWhileCeding) {
  Harness h;
  h.BecomeActive();
  h.Advance(500);
  h.ExpectRound();
  h.Add(h.core.Cede(h.now, 1000, 1));  // waits for the renewal round out
  h.Add(h.core.GracefulFailover(h.now, 2));
  auto acts = h.Take();
  ASSERT_EQ(acts.size(), 1u);
  EXPECT_EQ(acts[0].kind, A::kFailoverDone);
  EXPECT_EQ(acts[0].status.code(), StatusCode::kIllegalState);
}

TEST(ControllerCore, GracefulFailoverOfAnUnhealthyNamenodeIsRefused) {
  Harness h;
  h.Health(HealthState::kUnresponsive);
  h.Take();
  h.Add(h.core.GracefulFailover(h.now, 5));
  auto acts = h.Take();
  ASSERT_EQ(acts.size(), 1u);
  EXPECT_EQ(acts[0].kind, A::kFailoverDone);
  EXPECT_EQ(acts[0].status.code(), StatusCode::kIllegalState);
}

TEST(ControllerCore, StaleRoundOutcomesAreIgnored) {
  Harness h;
  h.Health(HealthState::kHealthy);
  uint64_t r = h.ExpectRound();
  h.Grant(r + 1, h.now + 2650 * kMs);  // not the round out
  EXPECT_EQ(h.Kinds(), "");
  EXPECT_FALSE(h.core.activating());
}

// The hysteresis (controller_core.h): a namenode cut from the journalnodes turns
// UNHEALTHY, is demoted, and then looks HEALTHY as a standby until its tailer has failed
// for its stall bound. Its failoverd must not re-take the lease in that gap.
TEST(ControllerCore, DemotedForUnhealthyStaysOutForTheBackoff) {
  Harness h(/*unhealthy_backoff_ms=*/1500);
  h.BecomeActive();
  h.Take();
  h.Health(HealthState::kUnhealthy);  // "oldest unacknowledged edit 1200 ms old"
  EXPECT_EQ(h.Kinds(), "transitionToStandby");
  h.Add(h.core.OnStandbyDone(h.now, Status::OK(), false));
  // Released; the snapshot still says UNHEALTHY, so a recovery transition follows.
  EXPECT_EQ(h.Kinds(), "release-lease,forget-ha-state,transitionToStandby");
  h.Add(h.core.OnStandbyDone(h.now, Status::OK(), false));
  EXPECT_EQ(h.Kinds(), "forget-ha-state");
  // Standby now, and healthy for a while: no contention until 1500 ms of health.
  h.Health(HealthState::kHealthy, "standby");
  EXPECT_EQ(h.Kinds(), "");
  h.Advance(1000);
  EXPECT_EQ(h.Kinds(), "");
  // Its tailer fails: UNHEALTHY again, which restarts the backoff (and asks for recovery).
  h.Health(HealthState::kUnhealthy, "standby");
  EXPECT_EQ(h.Kinds(), "transitionToStandby");
  h.Add(h.core.OnStandbyDone(h.now, Status::OK(), false));
  EXPECT_EQ(h.Kinds(), "forget-ha-state");
  h.Health(HealthState::kHealthy, "standby");
  h.Advance(1499);
  EXPECT_EQ(h.Kinds(), "");
  h.Advance(1);
  EXPECT_EQ(h.Kinds(), "start-lease-round");
}

TEST(ControllerCore, FencedNamenodeBacksOffWhileItsHealthStillPasses) {
  Harness h(/*unhealthy_backoff_ms=*/1500);
  h.BecomeActive();
  h.Advance(500);
  uint64_t r = h.ExpectRound();
  h.Grant(r, h.now + 2650 * kMs);
  EXPECT_EQ(h.Kinds(), "renewLease");
  // A newer epoch fenced the namenode: it refuses the renewal.
  h.Add(h.core.OnRenewLeaseDone(h.now, false, Status::IllegalState("fenced by epoch 7")));
  EXPECT_EQ(h.Kinds(), "transitionToStandby");
  h.Add(h.core.OnStandbyDone(h.now, Status::OK(), false));
  EXPECT_EQ(h.Kinds(), "release-lease,forget-ha-state");
  h.Health(HealthState::kHealthy, "standby");
  h.Advance(1499);
  EXPECT_EQ(h.Kinds(), "");
  h.Advance(1);
  EXPECT_EQ(h.Kinds(), "start-lease-round");
}

TEST(ControllerCore, UnhealthyStandbyContendsOnlyAfterBeingHealthyForTheBackoff) {
  Harness h(/*unhealthy_backoff_ms=*/1500);
  h.Health(HealthState::kUnresponsive);
  h.Take();
  h.Advance(300);
  h.Health(HealthState::kHealthy);
  EXPECT_EQ(h.Kinds(), "");
  h.Advance(1199);  // 1499 ms since the last UNRESPONSIVE snapshot
  EXPECT_EQ(h.Kinds(), "");
  h.Advance(1);
  EXPECT_EQ(h.Kinds(), "start-lease-round");
}

TEST(ControllerCore, StartingUpIsNotAFaultAndCedingIsNoBackoff) {
  Harness h(/*unhealthy_backoff_ms=*/1500);
  // INITIALIZING (nothing heard yet) does not delay the first contention.
  h.Health(HealthState::kInitializing);
  EXPECT_EQ(h.Kinds(), "");
  h.BecomeActive();
  h.Take();
  h.Add(h.core.Cede(h.now, 200, 1));
  EXPECT_EQ(h.Kinds(), "transitionToStandby");
  h.Add(h.core.OnStandbyDone(h.now, Status::OK(), false));
  EXPECT_EQ(h.Kinds(), "release-lease,cede-done,forget-ha-state");
  h.Advance(199);
  EXPECT_EQ(h.Kinds(), "");
  h.Advance(1);  // only the cede's own stay-out applies
  EXPECT_EQ(h.Kinds(), "start-lease-round");
}

// With health_fresh_ms: a lease renewal vouches only for what health has confirmed.
ControllerCoreOptions FreshOptions() {
  ControllerCoreOptions o = Harness::Options(0);
  o.health_fresh_ms = 350;
  return o;
}

// Moves time in steps of `step_ms`, the monitor showing HEALTHY as of `sent` throughout.
void HealthyAsOfFor(Harness* h, int64_t sent, int64_t ms, int64_t step_ms = 20) {
  for (int64_t t = 0; t < ms; t += step_ms) {
    h->now += step_ms * kMs;
    h->HealthyAsOf(sent);
  }
}

TEST(ControllerCore, RenewalHandsTheNamenodeNoMoreThanOneLeasePastItsLastHealthyAnswer) {
  Harness h(FreshOptions());
  h.BecomeActive();
  h.Take();
  // The check answered now was sent 200 ms ago: the namenode is known healthy as of then.
  h.Advance(500 - 1);
  h.Take();
  h.now += 1 * kMs;
  h.HealthyAsOf(h.now - 200 * kMs);
  const uint64_t r = h.ExpectRound();
  h.Grant(r, h.now + 2650 * kMs);  // a round started now, granted 2650 ms
  auto acts = h.Take();
  ASSERT_EQ(acts.size(), 1u);
  ASSERT_EQ(acts[0].kind, A::kRenewLease);
  EXPECT_EQ(acts[0].deadline, h.now - 200 * kMs + 2650 * kMs);
  EXPECT_EQ(h.core.handed_deadline(), acts[0].deadline);
  EXPECT_EQ(h.core.lease_deadline(), h.now + 2650 * kMs);
}

// SIGSTOP: the health monitor keeps showing the last HEALTHY answer until its check times
// out. No renewal vouches for the silent namenode; once its check is late the lease is let
// run out from the last healthy answer, and released at the namenode's deadline even
// though the transitionToStandby to the hung namenode has not returned.
TEST(ControllerCore, HungNamenodeIsNotRenewedAndTheLeaseIsReleasedAtItsDeadline) {
  Harness h(FreshOptions());
  h.BecomeActive();
  h.Take();
  const int64_t last_healthy = h.now;  // the namenode stops now
  // The renew interval (500 ms) passes with no new healthy answer (fresh bound 350 ms).
  HealthyAsOfFor(&h, last_healthy, 1200);
  EXPECT_EQ(h.Kinds(), "") << "a renewal vouched for a namenode not heard from";
  EXPECT_TRUE(h.core.active());
  const int64_t handed = h.core.handed_deadline();
  EXPECT_EQ(handed, last_healthy + 2650 * kMs);
  // The health check times out: demote; the call hangs.
  h.Health(HealthState::kUnresponsive);
  EXPECT_EQ(h.Kinds(), "transitionToStandby");
  h.now = handed - 1;
  h.Add(h.core.OnTick(h.now));
  EXPECT_EQ(h.Kinds(), "");
  h.now = handed;
  h.Add(h.core.OnTick(h.now));
  EXPECT_EQ(h.Kinds(), "release-lease");
  EXPECT_FALSE(h.core.holds_lease(h.now));
  // The demotion's timeout arrives later: nothing more to release.
  h.now += 500 * kMs;
  h.Add(h.core.OnStandbyDone(h.now, Status::NetworkError("timed out"), false));
  EXPECT_EQ(h.Kinds(), "forget-ha-state");
}

// Without an UNRESPONSIVE verdict (a health timeout longer than the lease): the namenode's
// deadline passing is reason enough to demote, and the lease goes with it.
TEST(ControllerCore, NamenodeDeadlinePassingWithoutAHealthyAnswerDemotesAndReleases) {
  Harness h(FreshOptions());
  h.BecomeActive();
  h.Take();
  const int64_t last_healthy = h.now;
  const int64_t handed = h.core.handed_deadline();
  HealthyAsOfFor(&h, last_healthy, (handed - h.now) / kMs - 20);
  EXPECT_EQ(h.Kinds(), "");
  HealthyAsOfFor(&h, last_healthy, 20);
  EXPECT_EQ(h.Kinds(), "transitionToStandby,release-lease");
  EXPECT_FALSE(h.core.active());
}

// A namenode slowed by load answers its checks late but answers: renewals pause while the
// answers are overdue and resume with the next one; it is never demoted.
TEST(ControllerCore, SlowNamenodeKeepsItsLease) {
  Harness h(FreshOptions());
  h.BecomeActive();
  h.Take();
  int renewals = 0;
  for (int i = 0; i < 40; ++i) {
    // Every 250 ms an answer arrives whose check was sent 300 ms earlier; every fourth
    // check takes 700 ms (over the fresh bound, under the health timeout).
    const int64_t latency = (i % 4 == 3 ? 700 : 300) * kMs;
    HealthyAsOfFor(&h, h.healthy_at, 250, 50);
    h.HealthyAsOf(h.now - latency);
    for (auto& a : h.Take()) {
      ASSERT_EQ(a.kind, A::kStartLeaseRound) << ControllerActionName(a.kind);
      h.Grant(a.round, h.now + 2650 * kMs);
      auto acts = h.Take();
      ASSERT_EQ(acts.size(), 1u);
      ASSERT_EQ(acts[0].kind, A::kRenewLease);
      EXPECT_EQ(acts[0].deadline, h.healthy_at + 2650 * kMs);
      h.Add(h.core.OnRenewLeaseDone(h.now, false, Status::OK()));
      ++renewals;
    }
    ASSERT_TRUE(h.core.active()) << "demoted at step " << i;
  }
  EXPECT_GE(renewals, 15);
}

TEST(ControllerCore, StandbyContendsOnlyWithAFreshHealthyAnswer) {
  Harness h(FreshOptions());
  h.HealthyAsOf(h.now - 400 * kMs);
  EXPECT_EQ(h.Kinds(), "");
  h.Advance(200);
  EXPECT_EQ(h.Kinds(), "");
  h.HealthyAsOf(h.now - 100 * kMs);
  EXPECT_EQ(h.Kinds(), "start-lease-round");
}

}  // namespace
}  // namespace qj::fo
