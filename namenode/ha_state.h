// HaState: the namenode's role and whether it may serve a client call right now.
//
// A client call is served only while all of these hold:
//   * the role is ACTIVE;
//   * the namenode is not fenced (its journal writer has not failed since it became
//     active: a newer epoch, a lost majority, a write timeout);
//   * if a lease deadline is set (failoverd's lease, on this host's Clock: CLOCK_BOOTTIME),
//     the clock has not reached it.
// The service checks when a call arrives (CheckServing) and again just before it answers.
//
// Thread-safety: thread-safe (one internal mutex, never held while calling out).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "common/clock.h"
#include "common/mutex.h"
#include "common/sim_plant.h"  // planted bugs of tests/sim; nothing in production
#include "common/status.h"

namespace qj::nn {

enum class HaRole { kInitializing, kStandby, kActive, kStopping };

const char* HaRoleName(HaRole role);

class HaState {
 public:
  HaState(std::string namenode_id, Clock* clock) : id_(std::move(namenode_id)), clock_(clock) {}

  HaRole role() const EXCLUDES(mu_);
  // Sets the role; entering ACTIVE clears the fence and sets the lease deadline
  // (0 = none); leaving ACTIVE clears the deadline. Ends an activation (see below).
  void SetRole(HaRole role, int64_t lease_deadline_mono_ns = 0) EXCLUDES(mu_);
  // Extends the lease. IllegalState unless ACTIVE, not fenced, and the current deadline
  // has not passed (a namenode whose lease lapsed may have been superseded: it must be
  // demoted and promoted again with a new epoch, never revived by a late renewal).
  // During an activation under a lease it extends the pending deadline instead, by the
  // same rule: refused once the pending deadline has passed.
  Status RenewLease(int64_t lease_deadline_mono_ns) EXCLUDES(mu_);
  int64_t lease_deadline() const EXCLUDES(mu_);

  // An activation: a transition to ACTIVE that may take longer than one lease (new epoch,
  // recovery, catch-up). BeginActivation records the deadline of the lease that was won;
  // renewals that arrive meanwhile replace it (RenewLease); CompleteActivation enters
  // ACTIVE with the newest deadline recorded — possibly one that has already passed, in
  // which case nothing is served and every later renewal is refused. CancelActivation
  // (or any SetRole) ends an activation that failed. Deadline 0 = manual mode (no lease;
  // renewals are refused until ACTIVE, as before).
  void BeginActivation(int64_t lease_deadline_mono_ns) EXCLUDES(mu_);
  // Enters ACTIVE; returns the deadline installed (0 = none).
  int64_t CompleteActivation() EXCLUDES(mu_);
  void CancelActivation() EXCLUDES(mu_);
  // Waits while an activation is under way, up to max_wait_ms on the clock; returns at
  // once when none is. True if it waited. A client call that arrives while its namenode
  // is becoming active waits for the end (then is checked as usual) instead of being
  // refused NOT_ACTIVE, which would send an HA client into its backoff.
  bool WaitWhileActivating(int64_t max_wait_ms) const EXCLUDES(mu_);

  // Stops serving at once; the first reason sticks until the next SetRole(kActive) or
  // ClearFence().
  void Fence(const Status& why) EXCLUDES(mu_);
  // Called once a fenced namenode has discarded its possibly-uncommitted state (reloaded
  // as standby): it is healthy again.
  void ClearFence() EXCLUDES(mu_);
  // OK when not fenced, else the reason.
  Status fence_status() const EXCLUDES(mu_);

  // The namenode believed active (for NOT_ACTIVE answers); "" if unknown.
  void set_active_hint(const std::string& id) EXCLUDES(mu_);
  std::string active_hint() const EXCLUDES(mu_);

  // OK if a client call may be served now; NotActive naming the reason otherwise.
  Status CheckServing() const EXCLUDES(mu_);

 private:
  void EndActivationLocked() REQUIRES(mu_);

  const std::string id_;
  Clock* const clock_;
  mutable Mutex mu_;
  HaRole role_ GUARDED_BY(mu_) = HaRole::kInitializing;
  int64_t lease_deadline_ns_ GUARDED_BY(mu_) = 0;  // 0 = no lease (manual mode)
  bool activating_ GUARDED_BY(mu_) = false;
  // activating_, published for WaitWhileActivating's check without the lock (every
  // client call makes it).
  std::atomic<bool> activating_pub_{false};
  // Notified when an activation ends (complete, cancelled, or any SetRole).
  mutable CondVar activation_cv_;
  int64_t pending_deadline_ns_ GUARDED_BY(mu_) = 0;  // meaningful while activating_
  Status fenced_ GUARDED_BY(mu_);
  std::string active_hint_ GUARDED_BY(mu_);
};

}  // namespace qj::nn
