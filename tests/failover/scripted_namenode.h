// ScriptedNamenode: a namenode's HA side whose answers and timing the test decides,
// reached through NamenodeTargets (failover/namenode_target.h). It stands for a remote
// process: the HealthMonitor and Controller tests use it to make monitorHealth fail,
// stall or recover at a moment of the test's choosing, and to see every call made.
//
// Eventually() waits for a condition the threads under test must bring about; its bound
// only decides how long a failing test takes, never whether a test passes.
//
// Thread-safe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "failover/namenode_target.h"

namespace qj::fo::testing_util {

// Polls `done` until it holds (true) or `within_ms` of real time pass (false).
inline bool Eventually(const std::function<bool()>& done, int64_t within_ms = 60'000) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(within_ms);
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// Moves `clock` by `step_nanos` at a time until `done` holds, at most `max_steps` times;
// for events due "at the next check" when the test cannot know exactly when the thread
// under test last read the clock. Each step waits a little real time for the threads to
// see it; a step too short only costs another step, so the waits never decide the outcome.
template <class C>
bool AdvanceUntil(C* clock, int64_t step_nanos, const std::function<bool()>& done,
                  int max_steps = 100) {
  for (int i = 0; i < max_steps; ++i) {
    if (done()) return true;
    clock->Advance(step_nanos);
    if (Eventually(done, 50)) return true;
  }
  return done();
}

class ScriptedNamenode {
 public:
  // One call a target made: "monitorHealth", "getServiceStatus", "transitionToActive",
  // "transitionToStandby" or "renewLease"; when (on the test's clock), with which lease
  // deadline (transitionToActive, renewLease).
  struct Call {
    std::string what;
    int64_t at = 0;
    int64_t deadline = 0;
  };

  explicit ScriptedNamenode(const Clock* clock) : clock_(clock) {}

  // What monitorHealth answers from now on (OK, Unavailable = unhealthy, NetworkError =
  // timed out or refused).
  void SetHealth(Status health, bool refused = false) EXCLUDES(mu_) {
    MutexLock l(&mu_);
    health_ = std::move(health);
    refused_ = refused;
  }
  void SetPid(pid_t pid) EXCLUDES(mu_) {
    MutexLock l(&mu_);
    pid_ = pid;
  }
  // From now on monitorHealth blocks until Unstall() (a namenode that stopped answering
  // before the call's timeout has run out).
  void Stall() EXCLUDES(mu_) {
    MutexLock l(&mu_);
    stalled_ = true;
  }
  void Unstall() EXCLUDES(mu_) {
    MutexLock l(&mu_);
    stalled_ = false;
    cv_.SignalAll();
  }
  // Whether a monitorHealth call is blocked in a stall now.
  bool stalling() const EXCLUDES(mu_) {
    MutexLock l(&mu_);
    return stalling_;
  }
  // What transitionToStandby answers from now on.
  void SetStandbyResult(Status s) EXCLUDES(mu_) {
    MutexLock l(&mu_);
    standby_result_ = std::move(s);
  }

  std::vector<Call> calls() const EXCLUDES(mu_) {
    MutexLock l(&mu_);
    return calls_;
  }
  std::vector<Call> calls(const std::string& what) const EXCLUDES(mu_) {
    MutexLock l(&mu_);
    std::vector<Call> out;
    for (const Call& c : calls_) {
      if (c.what == what) out.push_back(c);
    }
    return out;
  }
  size_t count(const std::string& what) const { return calls(what).size(); }
  std::string ha_state() const EXCLUDES(mu_) {
    MutexLock l(&mu_);
    return ha_state_;
  }

  NamenodeTargetFactory Factory() {
    return [this](const NamenodeInfo& nn, int64_t) -> std::unique_ptr<NamenodeTarget> {
      return std::make_unique<Target>(this, nn);
    };
  }

 private:
  class Target final : public NamenodeTarget {
   public:
    Target(ScriptedNamenode* nn, NamenodeInfo info) : nn_(nn), info_(std::move(info)) {}
    Result<NamenodeStatus> GetServiceStatus() override {
      MutexLock l(&nn_->mu_);
      nn_->Record("getServiceStatus", 0);
      NamenodeStatus s;
      s.state = nn_->ha_state_;
      s.pid = nn_->pid_;
      return s;
    }
    Status MonitorHealth() override {
      MutexLock l(&nn_->mu_);
      nn_->Record("monitorHealth", 0);
      nn_->stalling_ = nn_->stalled_;
      while (nn_->stalled_) nn_->cv_.Wait(&nn_->mu_);
      nn_->stalling_ = false;
      refused_ = nn_->refused_;
      return nn_->health_;
    }
    Status TransitionToActive(qjournal::thrift::RequestSource::type, int64_t deadline) override {
      MutexLock l(&nn_->mu_);
      nn_->Record("transitionToActive", deadline);
      nn_->ha_state_ = "active";
      return Status::OK();
    }
    Status TransitionToStandby(qjournal::thrift::RequestSource::type) override {
      MutexLock l(&nn_->mu_);
      nn_->Record("transitionToStandby", 0);
      if (nn_->standby_result_.ok()) nn_->ha_state_ = "standby";
      return nn_->standby_result_;
    }
    Status RenewLease(int64_t deadline) override {
      MutexLock l(&nn_->mu_);
      nn_->Record("renewLease", deadline);
      return Status::OK();
    }
    bool last_refused() const override { return refused_; }
    const NamenodeInfo& info() const override { return info_; }

   private:
    ScriptedNamenode* const nn_;
    const NamenodeInfo info_;
    bool refused_ = false;
  };

  void Record(const std::string& what, int64_t deadline) REQUIRES(mu_) {
    calls_.push_back(Call{what, clock_->MonotonicNanos(), deadline});
  }

  const Clock* const clock_;
  mutable Mutex mu_;
  CondVar cv_;  // signalled by Unstall()
  Status health_ GUARDED_BY(mu_);
  bool refused_ GUARDED_BY(mu_) = false;
  pid_t pid_ GUARDED_BY(mu_) = -1;
  bool stalled_ GUARDED_BY(mu_) = false;
  bool stalling_ GUARDED_BY(mu_) = false;
  Status standby_result_ GUARDED_BY(mu_);
  std::string ha_state_ GUARDED_BY(mu_) = "standby";
  std::vector<Call> calls_ GUARDED_BY(mu_);
};

}  // namespace qj::fo::testing_util
