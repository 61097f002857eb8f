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
// The namenode is reached through NamenodeTargets from a factory and time is read from
// a Clock, so that tests drive the controller with a scripted namenode and a fake clock
// (tests/failover/controller_test.cc).
//
// Thread-safety: all public methods are thread-safe. mu_ guards the core; workers run
// their calls without it. Lock order: mu_ before a worker's lock and the monitor's.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/cluster_config.h"
#include "common/mutex.h"
#include "common/status.h"
#include "common/thread_annotations.h"
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
  // `targets` makes the connections to the local namenode (the monitor's and two more).
  Controller(ControllerOptions opts, ClusterConfig conf, std::unique_ptr<jn::LeaseClient> lease,
             const Clock* clock,
             const NamenodeTargetFactory& targets = RpcNamenodeTarget::Factory());
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  void Start() EXCLUDES(mu_);
  // Stops the loop. Does not demote or release: a restarted failoverd re-acquires the same
  // lease (same holder id); otherwise the namenode stops at its deadline.
  void Stop() EXCLUDES(mu_);

  ControllerStatus GetStatus() const EXCLUDES(mu_);
  // Demotes the local namenode (if active), releases the lease, stays out for `millis`.
  // Fails (still ceded) if the namenode could not be demoted.
  Status CedeActive(int64_t millis) EXCLUDES(mu_);
  // Makes the local namenode active: peer cedes, then this side takes the lease.
  Status GracefulFailover() EXCLUDES(mu_);

 private:
  // One thread running queued calls in order.
  class Worker {
   public:
    explicit Worker(const char* name);
    ~Worker();
    void Post(std::function<void()> fn) EXCLUDES(mu_);
    // Drops queued calls and joins the thread (after the call in progress).
    void Stop() EXCLUDES(mu_);

   private:
    void Run() EXCLUDES(mu_);
    const char* const name_;
    Mutex mu_;
    CondVar cv_;  // signalled by Post() and Stop()
    std::deque<std::function<void()>> queue_ GUARDED_BY(mu_);
    bool stop_ GUARDED_BY(mu_) = false;
    std::thread thread_;
  };

  void Run() EXCLUDES(mu_);
  void Execute(const ControllerCore::Actions& actions) REQUIRES(mu_);
  void ExecuteOne(const ControllerAction& a) REQUIRES(mu_);
  Status AskPeersToCede() EXCLUDES(mu_);
  Status WaitForAnswer(uint64_t request) REQUIRES(mu_);
  int64_t NowNanos() const { return clock_->MonotonicNanos(); }

  const ControllerOptions opts_;
  const ClusterConfig conf_;
  const NamenodeInfo self_;
  const std::unique_ptr<jn::LeaseClient> lease_;
  const Clock* const clock_;
  HealthMonitor monitor_;
  const std::unique_ptr<NamenodeTarget> transition_target_;  // the transition worker's only
  const std::unique_ptr<NamenodeTarget> quick_target_;       // the quick worker's only
  Worker lease_worker_{"fo-lease"};
  Worker transition_worker_{"fo-transition"};
  Worker quick_worker_{"fo-quick"};

  mutable Mutex mu_;
  CondVar cv_;  // wakes the loop (timer, health change, stop) and waiters
  ControllerCore core_ GUARDED_BY(mu_);
  bool stop_ GUARDED_BY(mu_) = false;
  bool wake_ GUARDED_BY(mu_) = false;
  int64_t timer_at_ GUARDED_BY(mu_) = 0;  // the core's timer, 0 = none
  uint64_t next_request_ GUARDED_BY(mu_) = 0;
  std::map<uint64_t, Status> answers_ GUARDED_BY(mu_);  // answered cede/failover requests
  std::thread thread_;
};

}  // namespace qj::fo
