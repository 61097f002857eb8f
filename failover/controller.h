// The failover controller: the decisions of failoverd (DESIGN §6), one per namenode.
//
//  * While its namenode is HEALTHY (and automatic failover is on and it has not ceded),
//    it contends for the lease every acquire_interval.
//  * On winning: transitionToActive(source=FAILOVERD, leaseDeadlineMonoNs). The lease is
//    renewed in the background while the transition runs.
//  * While active: renews every renew_interval and hands each new deadline to the
//    namenode (renewLease). A renewal that misses the majority is retried; once less than
//    demote_guard remains of the current lease, it demotes.
//  * When the namenode is not HEALTHY, or a renewal is refused by the namenode, or the
//    lease is running out: transitionToStandby, then release the lease. If the namenode
//    cannot be demoted it keeps the lease (without renewing) until its deadline has
//    passed — the namenode stops serving at that deadline by itself — and releases then;
//    when the namenode's process is certainly gone, it releases at once.
//  * A namenode that reports itself active while this controller does not hold the lease
//    for it (a paused active that woke up, a restarted failoverd) is demoted, never
//    adopted: it may have been superseded and would serve stale reads under a new lease.
//  * A namenode that is UNHEALTHY while not active under our lease (fenced after a pause)
//    is sent transitionToStandby at most once a second: that is how it reloads and rejoins.
//  * cedeActive: demote, release, stay out for the given time. gracefulFailover: ask the
//    peer's controller to cede, then take the lease at once (retrying for a while). The
//    two exclude each other without waiting: a cede asked of a controller that is itself
//    running a graceful failover (two opposite `haadmin -failover`) is refused at once,
//    and a graceful failover is refused while a cede is running, so opposite failovers
//    fail fast instead of holding each other for the RPC timeout.
//
// Thread-safety: all public methods are thread-safe. One thread ("fo-ctl") runs the
// loop; decisions and namenode transitions are serialized by op_mu_ (held across RPCs to
// the local namenode on purpose: a cede and a promotion must not interleave). Lock order:
// op_mu_ before mu_.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/cluster_config.h"
#include "common/status.h"
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
  void Run();
  void Step();                                                // REQUIRES(op_mu_)
  void StepActive(const HealthSnapshot& snap);                // REQUIRES(op_mu_)
  void StepStandby(const HealthSnapshot& snap);               // REQUIRES(op_mu_)
  Status BecomeActive(int64_t deadline);                      // REQUIRES(op_mu_)
  void Demote(const std::string& reason, bool process_gone);  // REQUIRES(op_mu_)
  void SetActive(bool active);
  bool Contending(const HealthSnapshot& snap) const;
  int64_t NowNanos() const { return clock_->MonotonicNanos(); }

  const ControllerOptions opts_;
  const ClusterConfig conf_;
  const NamenodeInfo self_;
  const std::unique_ptr<jn::LeaseClient> lease_;
  const Clock* const clock_;
  HealthMonitor monitor_;

  std::mutex op_mu_;
  NamenodeTarget transition_target_;  // GUARDED_BY(op_mu_), long timeout
  NamenodeTarget quick_target_;       // GUARDED_BY(op_mu_), rpc timeout
  int64_t next_renew_nanos_ = 0;      // GUARDED_BY(op_mu_)
  int64_t next_try_nanos_ = 0;        // GUARDED_BY(op_mu_)
  int64_t next_recover_nanos_ = 0;    // GUARDED_BY(op_mu_)
  bool release_at_deadline_ = false;  // GUARDED_BY(op_mu_)
  std::mt19937 rng_;                  // GUARDED_BY(op_mu_)

  mutable std::mutex mu_;
  std::condition_variable cv_;     // notified by Stop() and the health monitor's callback
  bool stop_ = false;              // GUARDED_BY(mu_)
  bool wake_ = false;              // GUARDED_BY(mu_)
  bool active_ = false;            // GUARDED_BY(mu_): the namenode is active under our lease
  int64_t ceded_until_nanos_ = 0;  // GUARDED_BY(mu_)
  bool failing_over_ = false;      // GUARDED_BY(mu_): a GracefulFailover is running
  int cedes_in_progress_ = 0;      // GUARDED_BY(mu_): CedeActive calls running or waiting
  int64_t became_active_ = 0;      // GUARDED_BY(mu_)
  int64_t left_active_ = 0;        // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace qj::fo
