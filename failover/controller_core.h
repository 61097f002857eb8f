// The failover controller's decisions (DESIGN §6) as a state machine: no threads, no
// clock reads, no I/O. Events go in (a health snapshot, a lease round's outcome, a
// namenode's reply, a timer, a cede or graceful-failover request), each with the
// caller's current time on its lease clock; actions come out (start a lease round,
// transitionToActive, renewLease, transitionToStandby, release the lease, set a timer,
// answer a request). The threaded Controller (controller.h) and the lease simulator
// (tests/sim/lease_sim.cc) are two drivers of the same core.
//
// The decisions, one namenode per controller:
//  * While its namenode is HEALTHY (and automatic failover is on and it has not ceded),
//    it contends for the lease every acquire_interval (plus up to 1/4 of it in jitter).
//  * On winning: transitionToActive(deadline). The lease is renewed every renew_interval
//    while the transition runs and each new deadline is handed over (renewLease): the
//    namenode installs the newest one when it starts serving. A renewal that ends after
//    the deadline it was meant to extend marks the activation as lapsed: it fails.
//  * While active: renews every renew_interval and hands each new deadline to the
//    namenode. A renewal that misses the majority is retried after acquire_interval;
//    once less than demote_guard remains of the lease, it demotes. A renewal that ends
//    after the old deadline is a new lease, not a renewal: it demotes.
//  * A renewal vouches only for what health has confirmed (when health_fresh_ms > 0). A
//    HEALTHY snapshot says the namenode was healthy at some moment after `healthy_at`
//    (when the check was sent), not that it still is: a SIGSTOPped namenode looks HEALTHY
//    until its check times out. So a lease round (contention or renewal) starts only
//    while healthy_at is at most health_fresh_ms old, and the deadline handed to the
//    namenode is no later than healthy_at + the lease the round obtained (deadline −
//    round start). A hung namenode's deadline therefore lies within one lease of its last
//    healthy answer, whatever the health timeout. The keeper's renewals during an
//    activation are exempt: the namenode serves nothing before the transition returns,
//    and its outcome is checked against the lease.
//  * When the namenode is not HEALTHY, or refuses a renewal (IllegalState), or the lease
//    lapsed, or the deadline handed to it passed: transitionToStandby, then release. If
//    the namenode cannot be demoted the lease is kept (not renewed) until the latest
//    deadline ever handed to it has passed — the namenode stops serving at its deadline by
//    itself — and released then, even while the transitionToStandby is still out (a hung
//    namenode does not answer it before its timeout); at once if its process is certainly
//    gone.
//  * Hysteresis against a namenode that cannot reach the journal: it contends only once
//    it has been HEALTHY for unhealthy_backoff, counted from the last UNHEALTHY or
//    UNRESPONSIVE snapshot and from the last time it left active for a reason other than
//    a cede (fenced, refused a renewal, lease lapsed, failed activation). A namenode cut
//    from the journalnodes is demoted as soon as its own health check says so, and as a
//    standby it looks healthy again until its tailer has failed for the namenode's stall
//    bound; without the backoff its failoverd would re-win the lease at once for a
//    namenode that cannot become the writer, while the healthy pair waits.
//  * A namenode that reports itself active while this controller does not hold the
//    lease for it is demoted, never adopted. An UNHEALTHY namenode not active under our
//    lease is sent transitionToStandby at most once per recover_interval (it reloads).
//  * Cede: demote, release, stay out for the given time. Graceful failover: ask the
//    peers to cede, then take the lease at once (retrying every graceful_retry until
//    graceful_acquire_timeout). The two exclude each other without waiting.
//  * One operation at a time, as with a lock held across calls: while a lease round or
//    a namenode call is out, new decisions wait (the keeper's renewals during an
//    activation are the exception). A lease round's outcome is matched to the round by
//    its number; outcomes of rounds the core no longer waits for are ignored.
//
// Not thread-safe: the driver serializes calls.
#pragma once

#include <cstdint>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "failover/health_state.h"

namespace qj::fo {

struct ControllerCoreOptions {
  std::string namenode_id;
  bool automatic = true;
  int64_t renew_interval_ms = 500;
  int64_t acquire_interval_ms = 100;
  int64_t demote_guard_ms = 500;
  int64_t recover_interval_ms = 1000;
  // After a failed activation, the next contention waits this long.
  int64_t retry_after_failure_ms = 1000;
  // See "Hysteresis" above; 0 = contend as soon as the namenode is HEALTHY. failoverd sets
  // it above the namenode's journal stall bound plus a health interval, so that a
  // namenode just cut from the journalnodes is seen UNHEALTHY before it may contend.
  int64_t unhealthy_backoff_ms = 0;
  // See "A renewal vouches only for what health has confirmed" above; 0 = renew and hand
  // over deadlines regardless of when the namenode was last seen healthy (the driver then
  // need not set HealthSnapshot::healthy_at). failoverd sets one health interval plus one
  // renew interval: a namenode slowed by load answers within it, a hung one does not.
  int64_t health_fresh_ms = 0;
  int64_t graceful_acquire_timeout_ms = 5000;
  int64_t graceful_retry_ms = 20;
  // Test only: a graceful failover waits this long before asking the peers to cede.
  int64_t test_graceful_delay_ms = 0;
  uint32_t jitter_seed = 1;
};

struct ControllerAction {
  enum Kind {
    kStartLeaseRound,      // round: its number, to be echoed by OnLeaseRound
    kReleaseLease,         // forget the lease and ask every journalnode to drop it
    kTransitionToActive,   // deadline
    kRenewLease,           // deadline; during_activation: the keeper's call
    kTransitionToStandby,  // reply with OnStandbyDone
    kForgetHaState,        // the monitor's remembered HA state is stale; check now
    kAskPeersToCede,       // graceful failover: every other controller cedes
    kSetTimer,             // at: call OnTick then (at the latest)
    kCedeDone,             // request, status: answer a Cede
    kFailoverDone,         // request, status: answer a GracefulFailover
  };
  Kind kind;
  uint64_t round = 0;
  int64_t deadline = 0;
  bool during_activation = false;
  int64_t at = 0;
  uint64_t request = 0;
  Status status;
  // Why (for logs and traces).
  std::string reason;
};

const char* ControllerActionName(ControllerAction::Kind k);

class ControllerCore {
 public:
  using Actions = std::vector<ControllerAction>;

  explicit ControllerCore(ControllerCoreOptions opts);

  Actions OnHealth(int64_t now, const HealthSnapshot& snap);
  Actions OnTick(int64_t now);
  // The outcome of round `round`: `deadline` is the lease deadline in force after it (0
  // when none), `granted` whether this round reached a majority.
  Actions OnLeaseRound(int64_t now, uint64_t round, bool granted, int64_t deadline,
                       const std::string& why);
  Actions OnTransitionToActiveDone(int64_t now, const Status& s);
  Actions OnRenewLeaseDone(int64_t now, bool during_activation, const Status& s);
  // `process_gone`: the namenode's process is certainly gone (the driver checks).
  Actions OnStandbyDone(int64_t now, const Status& s, bool process_gone);
  Actions OnPeersCeded(int64_t now, const Status& s);
  Actions Cede(int64_t now, int64_t millis, uint64_t request);
  Actions GracefulFailover(int64_t now, uint64_t request);

  // The namenode is active under our lease.
  bool active() const { return active_; }
  // How often this core made its namenode active / took it out of active (status pages).
  int64_t became_active() const { return became_active_; }
  int64_t left_active() const { return left_active_; }
  bool activating() const { return to_active_out_; }
  int64_t lease_deadline() const { return lease_deadline_; }
  // The latest deadline handed to the namenode under the current lease (0: none): the
  // namenode serves until no later than this.
  int64_t handed_deadline() const { return handed_deadline_; }
  bool holds_lease(int64_t now) const { return now < lease_deadline_; }
  int64_t ceded_until() const { return ceded_until_; }
  // Before this time the core does not contend (the hysteresis above).
  int64_t backoff_until() const { return backoff_until_; }
  const HealthSnapshot& health() const { return snap_; }
  const ControllerCoreOptions& options() const { return opts_; }

 private:
  enum class Purpose { kContend, kRenew, kKeep, kGraceful };
  enum class StandbyWhy { kDemote, kAdopt, kRecover };

  Actions Step(int64_t now);
  void StepActive(int64_t now, Actions* out);
  void StepStandby(int64_t now, Actions* out);
  void StartRound(int64_t now, Purpose p, Actions* out);
  void BecomeActive(int64_t now, int64_t deadline, Actions* out);
  // Whether the newest healthy answer is recent enough for a lease round to vouch for it.
  bool HealthFresh(int64_t now) const;
  // The deadline that a round's `deadline` lets us hand the namenode; records it.
  int64_t Hand(int64_t deadline);
  void FinishActivation(int64_t now, Actions* out);
  // `backoff`: the namenode left active for a fault (not a cede): start the hysteresis.
  void Demote(int64_t now, const std::string& reason, bool process_gone, Actions* out,
              bool backoff = true);
  void BackOff(int64_t now);
  void Release(Actions* out);
  void FinishGraceful(const Status& s, Actions* out);
  bool Busy() const { return round_out_ || quick_out_ || to_active_out_ || peers_out_; }
  int64_t NextTimer(int64_t now) const;

  const ControllerCoreOptions opts_;
  std::mt19937 rng_;
  HealthSnapshot snap_;

  bool active_ = false;
  int64_t became_active_ = 0;
  int64_t left_active_ = 0;
  int64_t lease_deadline_ = 0;
  int64_t next_renew_ = 0;
  int64_t next_try_ = 0;
  int64_t next_recover_ = 0;
  int64_t ceded_until_ = 0;
  int64_t backoff_until_ = 0;
  int64_t handed_deadline_ = 0;
  bool release_at_deadline_ = false;
  // The lease was released at the handed deadline while the demoting transitionToStandby
  // was still out.
  bool released_while_demoting_ = false;

  // The lease round out, if any.
  bool round_out_ = false;
  uint64_t round_ = 0;
  Purpose round_purpose_ = Purpose::kContend;
  int64_t round_started_ = 0;
  int64_t round_old_deadline_ = 0;

  // The namenode calls out.
  bool to_active_out_ = false;
  bool quick_out_ = false;  // transitionToStandby or renewLease
  bool quick_is_standby_ = false;
  StandbyWhy standby_why_ = StandbyWhy::kDemote;
  bool keeper_renew_out_ = false;

  // An activation: keeper schedule; the transition's reply waits for the keeper's round.
  int64_t next_keep_ = 0;
  bool lapsed_ = false;
  bool activation_replied_ = false;
  Status activation_status_;

  // Requests.
  std::deque<std::pair<uint64_t, int64_t>> cedes_;  // (request, millis), first one running
  bool cede_running_ = false;
  bool graceful_ = false;
  uint64_t graceful_request_ = 0;
  bool graceful_started_ = false;
  int64_t graceful_start_at_ = 0;
  bool peers_out_ = false;
  bool graceful_acquiring_ = false;
  int64_t graceful_give_up_ = 0;
  int64_t graceful_retry_at_ = 0;
};

}  // namespace qj::fo
