#include "failover/health_monitor.h"

#include <glog/logging.h>
#include <pthread.h>

#include <chrono>

#include "failover/namenode_target.h"
#include "failover/process_probe.h"

namespace qj::fo {

HealthMonitor::HealthMonitor(NamenodeInfo nn, HealthOptions opts)
    : nn_(std::move(nn)), opts_(opts) {}

HealthMonitor::~HealthMonitor() { Stop(); }

void HealthMonitor::Start(std::function<void()> on_change) {
  on_change_ = std::move(on_change);
  thread_ = std::thread([this] { Run(); });
}

void HealthMonitor::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

HealthSnapshot HealthMonitor::snapshot() const {
  std::lock_guard<std::mutex> l(mu_);
  return snap_;
}

void HealthMonitor::Poke() {
  {
    std::lock_guard<std::mutex> l(mu_);
    poked_ = true;
  }
  cv_.notify_all();
}

void HealthMonitor::ForgetHaState() {
  {
    std::lock_guard<std::mutex> l(mu_);
    snap_.ha_state.clear();
    ++ha_state_gen_;
  }
  Poke();
}

void HealthMonitor::Run() {
  pthread_setname_np(pthread_self(), "health-mon");
  NamenodeTarget target(nn_, opts_.timeout_ms);
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
      std::lock_guard<std::mutex> l(mu_);
      gen = ha_state_gen_;
    }
    const int64_t sent = opts_.clock->MonotonicNanos();
    Status st = target.MonitorHealth();
    if (st.ok() || st.code() == StatusCode::kUnavailable) {
      auto status = target.GetServiceStatus();
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
      next.process_gone = local && target.last_refused() && ProcessIsGone(pid);
    }
    // 3. Publish; tell the controller about changes.
    bool changed;
    {
      std::lock_guard<std::mutex> l(mu_);
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
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_for(l, std::chrono::milliseconds(opts_.interval_ms), [&] { return stop_ || poked_; });
    poked_ = false;
    if (stop_) return;
  }
}

}  // namespace qj::fo
