#include "namenode/ha_state.h"

#include <glog/logging.h>

namespace qj::nn {

const char* HaRoleName(HaRole role) {
  switch (role) {
    case HaRole::kInitializing:
      return "initializing";
    case HaRole::kStandby:
      return "standby";
    case HaRole::kActive:
      return "active";
    case HaRole::kStopping:
      return "stopping";
  }
  return "unknown";
}

HaRole HaState::role() const {
  MutexLock l(&mu_);
  return role_;
}

void HaState::SetRole(HaRole role, int64_t lease_deadline_mono_ns) {
  MutexLock l(&mu_);
  if (role != role_)
    LOG(INFO) << id_ << ": role " << HaRoleName(role_) << " -> " << HaRoleName(role);
  role_ = role;
  EndActivationLocked();
  if (role == HaRole::kActive) {
    fenced_ = Status::OK();
    lease_deadline_ns_ = lease_deadline_mono_ns;
    active_hint_ = id_;
  } else {
    lease_deadline_ns_ = 0;
    if (active_hint_ == id_) active_hint_.clear();
  }
}

Status HaState::RenewLease(int64_t lease_deadline_mono_ns) {
  MutexLock l(&mu_);
  if (role_ != HaRole::kActive && activating_ && pending_deadline_ns_ != 0) {
    // Nothing is served yet; the renewal only keeps the lease that is being taken fresh.
    // Same rule as below: a lease that lapsed during the activation is never revived.
    if (clock_->MonotonicNanos() >= pending_deadline_ns_) {
      return Status::IllegalState(id_ +
                                  ": lease deadline passed while becoming active; refusing "
                                  "to renew");
    }
    if (lease_deadline_mono_ns != 0) pending_deadline_ns_ = lease_deadline_mono_ns;
    return Status::OK();
  }
  if (role_ != HaRole::kActive) {
    return Status::IllegalState(id_ + " is " + HaRoleName(role_) +
                                ", not active: no lease to renew");
  }
  if (!fenced_.ok()) return Status::IllegalState(id_ + " is fenced: " + fenced_.ToString());
  if (lease_deadline_ns_ != 0 && clock_->MonotonicNanos() >= lease_deadline_ns_) {
    return Status::IllegalState(id_ + ": lease deadline already passed; refusing to renew");
  }
  lease_deadline_ns_ = lease_deadline_mono_ns;
  return Status::OK();
}

void HaState::BeginActivation(int64_t lease_deadline_mono_ns) {
  MutexLock l(&mu_);
  activating_ = true;
  activating_pub_.store(true, std::memory_order_release);
  pending_deadline_ns_ = lease_deadline_mono_ns;
}

int64_t HaState::CompleteActivation() {
  MutexLock l(&mu_);
  DCHECK(activating_);
  // The newest deadline given by BeginActivation or a renewal since, read under the same
  // lock that enters ACTIVE: no renewal can fall between the two.
  const int64_t deadline = activating_ ? pending_deadline_ns_ : 0;
  if (role_ != HaRole::kActive) {
    LOG(INFO) << id_ << ": role " << HaRoleName(role_) << " -> " << HaRoleName(HaRole::kActive);
  }
  role_ = HaRole::kActive;
  EndActivationLocked();
  fenced_ = Status::OK();
  lease_deadline_ns_ = QJ_PLANTED(kNoPendingLease) ? 0 : deadline;
  active_hint_ = id_;
  return deadline;
}

void HaState::CancelActivation() {
  MutexLock l(&mu_);
  EndActivationLocked();
  pending_deadline_ns_ = 0;
}

void HaState::EndActivationLocked() {
  if (activating_) activation_cv_.SignalAll();
  activating_ = false;
  activating_pub_.store(false, std::memory_order_release);
}

bool HaState::WaitWhileActivating(int64_t max_wait_ms) const {
  // Nearly every call finds no activation: no lock for that (a call racing with a
  // BeginActivation is not held, as if it had come a moment earlier).
  if (!activating_pub_.load(std::memory_order_acquire)) return false;
  MutexLock l(&mu_);
  if (!activating_ || max_wait_ms <= 0) return false;
  const int64_t deadline = clock_->MonotonicNanos() + max_wait_ms * kNanosPerMilli;
  while (activating_ && clock_->WaitUntil(&activation_cv_, &mu_, deadline)) {
  }
  return true;
}

int64_t HaState::lease_deadline() const {
  MutexLock l(&mu_);
  return lease_deadline_ns_;
}

void HaState::Fence(const Status& why) {
  MutexLock l(&mu_);
  if (!fenced_.ok()) return;
  LOG(ERROR) << id_ << ": stops serving (fenced): " << why;
  fenced_ = why.ok() ? Status::IllegalState("fenced") : why;
}

void HaState::ClearFence() {
  MutexLock l(&mu_);
  if (!fenced_.ok()) LOG(INFO) << id_ << ": fence cleared (state reloaded): was " << fenced_;
  fenced_ = Status::OK();
}

Status HaState::fence_status() const {
  MutexLock l(&mu_);
  return fenced_;
}

void HaState::set_active_hint(const std::string& id) {
  MutexLock l(&mu_);
  if (role_ != HaRole::kActive) active_hint_ = id;
}

std::string HaState::active_hint() const {
  MutexLock l(&mu_);
  return active_hint_;
}

Status HaState::CheckServing() const {
  MutexLock l(&mu_);
  if (role_ != HaRole::kActive) {
    return Status::NotActive(id_ + " is " + HaRoleName(role_));
  }
  if (!fenced_.ok()) {
    return Status::NotActive(id_ + " stopped serving: " + fenced_.ToString());
  }
  if (lease_deadline_ns_ != 0 && clock_->MonotonicNanos() >= lease_deadline_ns_) {
    return Status::NotActive(id_ + " stopped serving: its lease deadline passed");
  }
  return Status::OK();
}

}  // namespace qj::nn
