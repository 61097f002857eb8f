// The failover controller of failoverd (DESIGN §6), one per namenode: the threaded driver
// of ControllerCore (controller_core.h), which makes every decision and documents them.
// This class reads the clock, feeds the core the health monitor's snapshots (every 20 ms
// and on every change), runs the core's actions on worker threads and feeds their results
// back:
//   lease worker       lease rounds and releases, in order (LeaseClient);
//   transition worker  transitionToActive (long timeout) and asking peers to cede;
//   quick worker       renewLease and transitionToStandby (rpc timeout); after a failed
//                      transitionToStandby it tells the core whether the namenode's
//                      process is certainly gone.
// cedeActive and gracefulFailover wait for the core's answer.
//
// Thread-safety: all public methods are thread-safe. mu_ guards the core; workers run
// their calls without it. Lock order: mu_ before a worker's lock.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/cluster_config.h"
#include "common/status.h"
#include "failover/controller_core.h"
#include "failover/health_monitor.h"
#include "failover/namenode_target.h"
#include "journalnode/client/lease_client.h"

namespace qj::fo {

struct ControllerOptions {
  std::string namenode_id;
  bool automatic = true;
  HealthOptions health;
  int64_t renew_interval_ms = 500;
  int64_t acquire_interval_ms = 100;
  // After a failed renewal, demote once less than this remains of the lease.
  int64_t demote_guard_ms = 500;
  // ControllerCoreOptions::unhealthy_backoff_ms.
  int64_t unhealthy_backoff_ms = 0;
  // Default stay-out asked of the peer by gracefulFailover.
  int64_t cede_ms = 10000;
  // Timeout of transitionToActive (it takes a new epoch and recovers the journal).
  int64_t transition_timeout_ms = 30000;
  // Timeout of renewLease / transitionToStandby and of calls to the peer failoverd.
  int64_t rpc_timeout_ms = 1000;
  // How long gracefulFailover keeps trying to take the lease after the peer ceded.
  int64_t graceful_acquire_timeout_ms = 5000;
  // Test only: gracefulFailover waits this long (holding its turn) before asking the peer
  // to cede, so that two opposite failovers overlap for certain. 0 in production.
  int64_t test_graceful_delay_ms = 0;
};

struct ControllerStatus {
  std::string namenode_id;
  std::string health;
  bool holds_lease = false;
  int64_t lease_remaining_ms = 0;
  int64_t ceded_remaining_ms = 0;
  bool automatic = true;
  bool active = false;
  // How often this controller made its namenode active / took it out of active.
  int64_t became_active = 0;
  int64_t left_active = 0;
};

class Controller {
 public:
  // `lease` must be built with holder id = the namenode id; `clock` outlives this object.
  Controller(ControllerOptions opts, ClusterConfig conf, std::unique_ptr<jn::LeaseClient> lease,
             const Clock* clock);
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  void Start();
  // Stops the loop. Does not demote or release: a restarted failoverd re-acquires the same
  // lease (same holder id); otherwise the namenode stops at its deadline.
  void Stop();

  ControllerStatus GetStatus() const;
  // Demotes the local namenode (if active), releases the lease, stays out for `millis`.
  // Fails (still ceded) if the namenode could not be demoted.
  Status CedeActive(int64_t millis);
  // Makes the local namenode active: peer cedes, then this side takes the lease.
  Status GracefulFailover();

 private:
  // One thread running queued calls in order.
  class Worker {
   public:
    explicit Worker(const char* name);
    ~Worker();
    void Post(std::function<void()> fn);
    // Drops queued calls and joins the thread (after the call in progress).
    void Stop();

   private:
    void Run();
    const char* const name_;
    std::mutex mu_;
    std::condition_variable cv_;               // notified by Post() and Stop()
    std::deque<std::function<void()>> queue_;  // GUARDED_BY(mu_)
    bool stop_ = false;                        // GUARDED_BY(mu_)
    std::thread thread_;
  };

  void Run();
  void Execute(const ControllerCore::Actions& actions);  // REQUIRES(mu_)
  void ExecuteOne(const ControllerAction& a);            // REQUIRES(mu_)
  Status AskPeersToCede();
  Status WaitForAnswer(uint64_t request, std::unique_lock<std::mutex>* l);
  int64_t NowNanos() const { return clock_->MonotonicNanos(); }

  const ControllerOptions opts_;
  const ClusterConfig conf_;
  const NamenodeInfo self_;
  const std::unique_ptr<jn::LeaseClient> lease_;
  const Clock* const clock_;
  HealthMonitor monitor_;
  NamenodeTarget transition_target_;  // used by the transition worker only
  NamenodeTarget quick_target_;       // used by the quick worker only
  Worker lease_worker_{"fo-lease"};
  Worker transition_worker_{"fo-transition"};
  Worker quick_worker_{"fo-quick"};

  mutable std::mutex mu_;
  std::condition_variable cv_;          // wakes the loop (timer, health change, stop) and waiters
  ControllerCore core_;                 // GUARDED_BY(mu_)
  bool stop_ = false;                   // GUARDED_BY(mu_)
  bool wake_ = false;                   // GUARDED_BY(mu_)
  int64_t timer_at_ = 0;                // GUARDED_BY(mu_): the core's timer, 0 = none
  uint64_t next_request_ = 0;           // GUARDED_BY(mu_)
  std::map<uint64_t, Status> answers_;  // GUARDED_BY(mu_): answered cede/failover requests
  std::thread thread_;
};

}  // namespace qj::fo
