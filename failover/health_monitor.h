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
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/cluster_config.h"
#include "common/mutex.h"
#include "common/periodic_worker.h"
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

  void Start(std::function<void()> on_change);
  void Stop();
  HealthSnapshot snapshot() const EXCLUDES(mu_);
  // The clock time (MonotonicNanos) at which the next check is due unless poked; 0 while
  // a check runs.
  int64_t next_check_due() const;
  // Runs a check now (wakes the thread); used after a state transition.
  void Poke();
  // Clears the remembered HA state (it is stale after a transition) and runs a check now.
  void ForgetHaState() EXCLUDES(mu_);

 private:
  // One check, on the thread; returns when it ended (clock time), which the interval
  // counts from.
  int64_t Check() EXCLUDES(mu_);

  const NamenodeInfo nn_;
  const HealthOptions opts_;
  const NamenodeTargetFactory targets_;
  const Clock* const clock_;
  std::function<void()> on_change_;  // set by Start() before the thread exists
  // The thread's own, touched by Check() only: the target (made by the first check), the
  // namenode's last known pid, and whether it runs on this host.
  std::unique_ptr<NamenodeTarget> target_;
  pid_t pid_ = -1;
  bool local_ = false;

  mutable Mutex mu_;
  HealthSnapshot snap_ GUARDED_BY(mu_);
  uint64_t ha_state_gen_ GUARDED_BY(mu_) = 0;  // bumped by ForgetHaState()

  // The thread ("health-mon"): Check() every interval_ms, or when poked. Last, so that it
  // is stopped before what its checks use goes.
  PeriodicWorker worker_;
};

}  // namespace qj::fo
