#include "failover/health_monitor.h"

#include <glog/logging.h>

#include <string>
#include <utility>

#include "failover/process_probe.h"

namespace qj::fo {

HealthMonitor::HealthMonitor(NamenodeInfo nn, HealthOptions opts, NamenodeTargetFactory targets,
                             const Clock* clock)
    : nn_(std::move(nn)),
      opts_(opts),
      targets_(std::move(targets)),
      clock_(clock),
      worker_("health-mon", opts_.interval_ms * kNanosPerMilli, clock) {}

HealthMonitor::~HealthMonitor() { Stop(); }

void HealthMonitor::Start(std::function<void()> on_change) {
  on_change_ = std::move(on_change);
  worker_.Start([this] { return Check(); }, /*step_first=*/true);
}

void HealthMonitor::Stop() { worker_.Stop(); }

HealthSnapshot HealthMonitor::snapshot() const {
  MutexLock l(&mu_);
  return snap_;
}

int64_t HealthMonitor::next_check_due() const { return worker_.next_due(); }

void HealthMonitor::Poke() { worker_.Poke(); }

void HealthMonitor::ForgetHaState() {
  {
    MutexLock l(&mu_);
    snap_.ha_state.clear();
    ++ha_state_gen_;
  }
  Poke();
}

int64_t HealthMonitor::Check() {
  if (target_ == nullptr) {
    target_ = targets_(nn_, opts_.timeout_ms);
    // failoverd runs beside its namenode; if the cluster file says otherwise, never trust
    // a pid to prove anything.
    local_ = IsLocalHost(nn_.host);
    if (!local_) {
      LOG(WARNING) << nn_.id << " health-mon: namenode host " << nn_.host
                   << " is not this machine: a crash will wait for the lease to expire";
    }
  }
  // 1. Learn the pid while we can (it changes when the namenode restarts).
  HealthSnapshot next;
  uint64_t gen;
  {
    MutexLock l(&mu_);
    gen = ha_state_gen_;
  }
  const int64_t sent = clock_->MonotonicNanos();
  Status st = target_->MonitorHealth();
  if (st.ok() || st.code() == StatusCode::kUnavailable) {
    auto status = target_->GetServiceStatus();
    if (status.ok()) {
      if (status->pid > 0) pid_ = status->pid;
      next.ha_state = status->state;
    }
  }
  // 2. Classify.
  next.pid = pid_;
  if (st.ok()) {
    next.state = HealthState::kHealthy;
  } else if (st.code() == StatusCode::kUnavailable) {
    next.state = HealthState::kUnhealthy;
    next.reason = st.message();
  } else {
    next.state = HealthState::kUnresponsive;
    next.reason = st.message();
    next.process_gone = local_ && target_->last_refused() && ProcessIsGone(pid_);
  }
  // 3. Publish; tell the controller about changes. The interval counts from the end of
  // the check, read before anyone can see its result (and, in a test, move the clock).
  const int64_t checked_at = clock_->MonotonicNanos();
  bool changed;
  {
    MutexLock l(&mu_);
    changed = next.state != snap_.state || next.process_gone != snap_.process_gone;
    // A transition happened while we asked: what we heard may predate it.
    if (gen != ha_state_gen_) next.ha_state.clear();
    next.healthy_at = st.ok() ? sent : snap_.healthy_at;
    snap_ = next;
  }
  if (changed) {
    LOG(INFO) << nn_.id << " health-mon: " << HealthStateName(next.state)
              << (next.process_gone ? " (process " + std::to_string(pid_) + " is gone)" : "")
              << (next.reason.empty() ? "" : ": " + next.reason);
    if (on_change_) on_change_();
  }
  return checked_at;
}

}  // namespace qj::fo
