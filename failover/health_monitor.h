// Polls one namenode's health (DESIGN §6): every interval it calls monitorHealth with a
// timeout and classifies the answer:
//   HEALTHY       monitorHealth returned normally;
//   UNHEALTHY     monitorHealth threw HealthCheckFailedException (journal failed, ...);
//   UNRESPONSIVE  no answer within the timeout, or no connection.
// It also remembers the namenode's pid (from getServiceStatus) so that it can tell when
// the process is certainly gone: the connect is refused AND kill(pid, 0) says ESRCH
// (failoverd runs on the namenode's host).
//
// Thread-safe. One thread ("health-mon") owned by the object; Start() once, Stop() (or
// the destructor) joins it. The callback runs on that thread after every state change
// (and after `process_gone` becomes true); it must not block for long.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/cluster_config.h"
#include "failover/health_state.h"

namespace qj::fo {

struct HealthOptions {
  int64_t interval_ms = 200;
  int64_t timeout_ms = 1000;
  // The lease clock, for HealthSnapshot::healthy_at; outlives the monitor.
  const Clock* clock = RealClock::Get();
};

class HealthMonitor {
 public:
  HealthMonitor(NamenodeInfo nn, HealthOptions opts);
  ~HealthMonitor();
  HealthMonitor(const HealthMonitor&) = delete;
  HealthMonitor& operator=(const HealthMonitor&) = delete;

  void Start(std::function<void()> on_change);
  void Stop();
  HealthSnapshot snapshot() const;
  // Runs a check now (wakes the thread); used after a state transition.
  void Poke();
  // Clears the remembered HA state (it is stale after a transition) and runs a check now.
  void ForgetHaState();

 private:
  void Run();

  const NamenodeInfo nn_;
  const HealthOptions opts_;
  std::function<void()> on_change_;
  mutable std::mutex mu_;
  std::condition_variable cv_;  // notified by Stop() and Poke()
  HealthSnapshot snap_;         // GUARDED_BY(mu_)
  bool stop_ = false;           // GUARDED_BY(mu_)
  bool poked_ = false;          // GUARDED_BY(mu_)
  uint64_t ha_state_gen_ = 0;   // GUARDED_BY(mu_): bumped by ForgetHaState()
  std::thread thread_;
};

}  // namespace qj::fo
