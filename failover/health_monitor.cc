#include "failover/health_monitor.h"

#include <glog/logging.h>
#include <pthread.h>

#include <algorithm>
#include <chrono>

#include "failover/process_probe.h"

namespace qj::fo {

namespace {
// A condition variable cannot wait on a Clock (it may be a test's, moved by hand), so
// the wait between checks wakes this often to read the clock again.
constexpr int64_t kClockPollNanos = 20 * kNanosPerMilli;
}  // namespace

HealthMonitor::HealthMonitor(NamenodeInfo nn, HealthOptions opts, NamenodeTargetFactory targets,
                             const Clock* clock)
    : nn_(std::move(nn)), opts_(opts), targets_(std::move(targets)), clock_(clock) {}

HealthMonitor::~HealthMonitor() { Stop(); }

void HealthMonitor::Start(std::function<void()> on_change) {
  on_change_ = std::move(on_change);
  thread_ = std::thread([this] { Run(); });
}

void HealthMonitor::Stop() {
  {
    MutexLock l(&mu_);
    stop_ = true;
  }
  cv_.SignalAll();
  if (thread_.joinable()) thread_.join();
}

HealthSnapshot HealthMonitor::snapshot() const {
  MutexLock l(&mu_);
  return snap_;
}

int64_t HealthMonitor::next_check_due() const {
  MutexLock l(&mu_);
  return next_check_due_;
}

void HealthMonitor::Poke() {
  {
    MutexLock l(&mu_);
    poked_ = true;
  }
  cv_.SignalAll();
}

void HealthMonitor::ForgetHaState() {
  {
    MutexLock l(&mu_);
    snap_.ha_state.clear();
    ++ha_state_gen_;
  }
  Poke();
}

void HealthMonitor::Run() {
  pthread_setname_np(pthread_self(), "health-mon");
  const std::unique_ptr<NamenodeTarget> target = targets_(nn_, opts_.timeout_ms);
  pid_t pid = -1;
  // failoverd runs beside its namenode; if the cluster file says otherwise, never trust a
  // pid to prove anything.
  const bool local = IsLocalHost(nn_.host);
  if (!local) {
    LOG(WARNING) << nn_.id << " health-mon: namenode host " << nn_.host
                 << " is not this machine: a crash will wait for the lease to expire";
  }
  while (true) {
    // 1. Learn the pid while we can (it changes when the namenode restarts).
    HealthSnapshot next;
    uint64_t gen;
    {
      MutexLock l(&mu_);
      gen = ha_state_gen_;
    }
    const int64_t sent = clock_->MonotonicNanos();
    Status st = target->MonitorHealth();
    if (st.ok() || st.code() == StatusCode::kUnavailable) {
      auto status = target->GetServiceStatus();
      if (status.ok()) {
        if (status->pid > 0) pid = status->pid;
        next.ha_state = status->state;
      }
    }
    // 2. Classify.
    next.pid = pid;
    if (st.ok()) {
      next.state = HealthState::kHealthy;
    } else if (st.code() == StatusCode::kUnavailable) {
      next.state = HealthState::kUnhealthy;
      next.reason = st.message();
    } else {
      next.state = HealthState::kUnresponsive;
      next.reason = st.message();
      next.process_gone = local && target->last_refused() && ProcessIsGone(pid);
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
                << (next.process_gone ? " (process " + std::to_string(pid) + " is gone)" : "")
                << (next.reason.empty() ? "" : ": " + next.reason);
      if (on_change_) on_change_();
    }
    MutexLock l(&mu_);
    WaitForNextCheck(checked_at);
    poked_ = false;
    if (stop_) return;
  }
}

void HealthMonitor::WaitForNextCheck(int64_t checked_at) {
  const int64_t due = checked_at + opts_.interval_ms * kNanosPerMilli;
  next_check_due_ = due;
  while (!stop_ && !poked_) {
    const int64_t left = due - clock_->MonotonicNanos();
    if (left <= 0) break;
    cv_.WaitFor(&mu_, std::chrono::nanoseconds(std::min(left, kClockPollNanos)));
  }
  next_check_due_ = 0;
}

}  // namespace qj::fo
