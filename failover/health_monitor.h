// Polls one namenode's health (DESIGN §6): every interval it calls monitorHealth with a
// timeout and classifies the answer:
//   HEALTHY       monitorHealth returned normally;
//   UNHEALTHY     monitorHealth threw HealthCheckFailedException (journal failed, ...);
//   UNRESPONSIVE  no answer within the timeout, or no connection.
// It also remembers the namenode's pid (from getServiceStatus) so that it can tell when
// the process is certainly gone: the connect is refused AND kill(pid, 0) says ESRCH
// (failoverd runs on the namenode's host).
//
// The namenode is reached through a NamenodeTarget from the given factory (Thrift in
// failoverd, a scripted namenode in tests), and the interval is timed on the given Clock,
// so that a test decides what each check hears and when the next one is due.
//
// Thread-safe. One thread ("health-mon") owned by the object; Start() once, Stop() (or
// the destructor) joins it. The callback runs on that thread after every state change
// (and after `process_gone` becomes true); it must not block for long.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/cluster_config.h"
#include "common/mutex.h"
#include "common/thread_annotations.h"
#include "failover/health_state.h"
#include "failover/namenode_target.h"

namespace qj::fo {

struct HealthOptions {
  int64_t interval_ms = 200;
  int64_t timeout_ms = 1000;
};

class HealthMonitor {
 public:
  // `targets` makes the monitor's one target (with opts.timeout_ms); `clock` must
  // outlive this object.
  HealthMonitor(NamenodeInfo nn, HealthOptions opts, NamenodeTargetFactory targets,
                const Clock* clock);
  ~HealthMonitor();
  HealthMonitor(const HealthMonitor&) = delete;
  HealthMonitor& operator=(const HealthMonitor&) = delete;

  void Start(std::function<void()> on_change) EXCLUDES(mu_);
  void Stop() EXCLUDES(mu_);
  HealthSnapshot snapshot() const EXCLUDES(mu_);
  // The clock time (MonotonicNanos) at which the next check is due unless poked; 0 while
  // a check runs.
  int64_t next_check_due() const EXCLUDES(mu_);
  // Runs a check now (wakes the thread); used after a state transition.
  void Poke() EXCLUDES(mu_);
  // Clears the remembered HA state (it is stale after a transition) and runs a check now.
  void ForgetHaState() EXCLUDES(mu_);

 private:
  void Run() EXCLUDES(mu_);
  // Until `interval_ms` has passed on the clock since the last check ended (at
  // `checked_at`), or Poke() or Stop().
  void WaitForNextCheck(int64_t checked_at) REQUIRES(mu_);

  const NamenodeInfo nn_;
  const HealthOptions opts_;
  const NamenodeTargetFactory targets_;
  const Clock* const clock_;
  std::function<void()> on_change_;  // set by Start() before the thread exists
  mutable Mutex mu_;
  CondVar cv_;  // signalled by Stop() and Poke()
  HealthSnapshot snap_ GUARDED_BY(mu_);
  bool stop_ GUARDED_BY(mu_) = false;
  bool poked_ GUARDED_BY(mu_) = false;
  uint64_t ha_state_gen_ GUARDED_BY(mu_) = 0;  // bumped by ForgetHaState()
  int64_t next_check_due_ GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace qj::fo
