#include "failover/controller.h"

#include <glog/logging.h>
#include <pthread.h>

#include <chrono>

#include "FailoverController.h"
#include "failover_types.h"

namespace qj::fo {

namespace th = qjournal::thrift;

namespace {
const NamenodeInfo& FindSelf(const ClusterConfig& conf, const std::string& id) {
  const NamenodeInfo* nn = conf.FindNamenode(id);
  CHECK(nn != nullptr) << "namenode " << id << " is not in the cluster file";
  return *nn;
}
}  // namespace

Controller::Controller(ControllerOptions opts, ClusterConfig conf,
                       std::unique_ptr<jn::LeaseClient> lease, const Clock* clock)
    : opts_(std::move(opts)),
      conf_(std::move(conf)),
      self_(FindSelf(conf_, opts_.namenode_id)),
      lease_(std::move(lease)),
      clock_(clock),
      monitor_(self_, opts_.health),
      transition_target_(self_, opts_.transition_timeout_ms),
      quick_target_(self_, opts_.rpc_timeout_ms),
      rng_(std::random_device{}()) {}

Controller::~Controller() { Stop(); }

void Controller::Start() {
  LOG(INFO) << self_.id << " failoverd: starting (automatic=" << opts_.automatic << ", lease "
            << lease_->options().duration_ms << " ms, renew every " << opts_.renew_interval_ms
            << " ms)";
  monitor_.Start([this] {
    {
      std::lock_guard<std::mutex> l(mu_);
      wake_ = true;
    }
    cv_.notify_all();
  });
  thread_ = std::thread([this] { Run(); });
}

void Controller::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  monitor_.Stop();
}

void Controller::Run() {
  pthread_setname_np(pthread_self(), "fo-ctl");
  while (true) {
    {
      std::lock_guard<std::mutex> op(op_mu_);
      Step();
    }
    std::unique_lock<std::mutex> l(mu_);
    // Short tick: renewals, retries and the stay-out are all timed off the clock.
    cv_.wait_for(l, std::chrono::milliseconds(20), [&] { return stop_ || wake_; });
    wake_ = false;
    if (stop_) return;
  }
}

void Controller::SetActive(bool active) {
  std::lock_guard<std::mutex> l(mu_);
  if (active && !active_) ++became_active_;
  if (!active && active_) ++left_active_;
  active_ = active;
}

bool Controller::Contending(const HealthSnapshot& snap) const {
  std::lock_guard<std::mutex> l(mu_);
  return opts_.automatic && snap.state == HealthState::kHealthy && NowNanos() >= ceded_until_nanos_;
}

void Controller::Step() {
  const HealthSnapshot snap = monitor_.snapshot();
  bool active;
  {
    std::lock_guard<std::mutex> l(mu_);
    active = active_;
  }
  if (active) {
    StepActive(snap);
  } else {
    StepStandby(snap);
  }
}

void Controller::StepActive(const HealthSnapshot& snap) {
  // 0. The lease ran out under us (renewals failed past the guard, or a long transition):
  // someone else may have been active since, so the namenode must not serve again under
  // a renewed lease without a fresh epoch.
  if (!lease_->IsHeld()) {
    Demote("the lease lapsed", snap.process_gone);
    return;
  }
  // 1. The namenode is not healthy: demote before the deadline, release after.
  if (snap.state != HealthState::kHealthy) {
    Demote(std::string("namenode ") + HealthStateName(snap.state) + ": " + snap.reason,
           snap.process_gone);
    return;
  }
  // 2. Renew on schedule and hand the new deadline to the namenode.
  const int64_t now = NowNanos();
  if (now < next_renew_nanos_) return;
  const int64_t old_deadline = lease_->deadline_nanos();
  auto r = lease_->AcquireOrRenew();
  if (r.ok() && NowNanos() >= old_deadline) {
    // The round ended after the old deadline: a grantor may have served someone else in
    // between, so this is a new lease, not a renewal. Never revive the namenode with it.
    Demote("the lease lapsed during its renewal", false);
    return;
  }
  if (r.ok()) {
    next_renew_nanos_ = now + opts_.renew_interval_ms * kNanosPerMilli;
    Status s = quick_target_.RenewLease(*r);
    if (s.code() == StatusCode::kIllegalState) {
      // The namenode refuses: it is no longer active (fenced by a newer epoch, ...).
      Demote("namenode refused the lease renewal: " + s.message(), false);
    } else if (!s.ok()) {
      LOG(WARNING) << self_.id << " failoverd: renewLease failed (health monitor decides): " << s;
    }
    return;
  }
  // 3. A renewal missed the majority: retry soon; demote while there is time left.
  const int64_t left = lease_->RemainingMs();
  LOG(WARNING) << self_.id << " failoverd: lease renewal failed (" << left
               << " ms left): " << r.status();
  if (left <= opts_.demote_guard_ms) {
    Demote("lease renewal missed the majority, " + std::to_string(left) + " ms left", false);
    return;
  }
  next_renew_nanos_ = now + opts_.acquire_interval_ms * kNanosPerMilli;
}

void Controller::StepStandby(const HealthSnapshot& snap) {
  const int64_t now = NowNanos();
  // 1. A lease we could not release when demoting: release once the namenode's own
  // deadline (the same as ours) has passed, or at once if its process is gone.
  if (release_at_deadline_ && (snap.process_gone || now >= lease_->deadline_nanos())) {
    LOG(INFO) << self_.id << " failoverd: releasing the lease of the demoted namenode";
    lease_->Release();
    release_at_deadline_ = false;
  }
  const bool contending = Contending(snap) && !release_at_deadline_;
  // 2. The namenode says it is active but we do not hold the lease for it (it woke up
  // from a pause, or this failoverd restarted). It is never adopted as it is: it may have
  // been superseded by a newer epoch and would serve stale reads under a renewed lease.
  // Demote it; it is promoted again the proper way (new epoch, catch-up) if it wins.
  if (snap.ha_state == "active") {
    Status s = quick_target_.TransitionToStandby(th::RequestSource::REQUEST_BY_FAILOVERD);
    LOG(INFO) << self_.id << " failoverd: namenode was active without our lease; demoting: "
              << (s.ok() ? "done" : s.ToString());
    monitor_.ForgetHaState();
    return;
  }
  // 3. A namenode that is unhealthy while not active under our lease (typically fenced by
  // a newer epoch after a pause) recovers through a transition to standby (it reloads its
  // namespace and tails again). Making it standby is always safe: it holds no lease.
  if (snap.state == HealthState::kUnhealthy && now >= next_recover_nanos_) {
    next_recover_nanos_ = now + 1000 * kNanosPerMilli;
    Status s = quick_target_.TransitionToStandby(th::RequestSource::REQUEST_BY_FAILOVERD);
    LOG(INFO) << self_.id << " failoverd: namenode unhealthy (" << snap.reason
              << "); transitionToStandby to recover: " << (s.ok() ? "done" : s.ToString());
    monitor_.ForgetHaState();
    return;
  }
  // 4. Contend for the lease.
  if (!contending || now < next_try_nanos_) return;
  const int64_t jitter =
      std::uniform_int_distribution<int64_t>(0, opts_.acquire_interval_ms / 4)(rng_);
  next_try_nanos_ = now + (opts_.acquire_interval_ms + jitter) * kNanosPerMilli;
  auto r = lease_->AcquireOrRenew();
  if (!r.ok()) {
    VLOG(1) << self_.id << " failoverd: " << r.status();
    return;
  }
  Status s = BecomeActive(*r);
  if (!s.ok()) {
    LOG(WARNING) << self_.id << " failoverd: " << s;
    next_try_nanos_ = NowNanos() + 1000 * kNanosPerMilli;
  }
}

Status Controller::BecomeActive(int64_t deadline) {
  LOG(INFO) << self_.id << " failoverd: won the lease (" << (deadline - NowNanos()) / kNanosPerMilli
            << " ms); transitionToActive";
  // Keep the lease fresh while the namenode takes its epoch and recovers, and hand each
  // new deadline over at once: the transition may outlast the lease it was won with, and
  // the namenode installs the newest deadline it was given when it starts serving
  // (docs/ARCHITECTURE.md, "Leases and failover"). Its own connection: the transition
  // call holds the other one.
  std::mutex m;
  std::condition_variable cv;  // notified when the transition returns
  bool done = false;
  bool lapsed = false;  // a renewal ended after the deadline it was meant to extend
  std::thread keeper([&] {
    pthread_setname_np(pthread_self(), "lease-keeper");
    NamenodeTarget renew_target(self_, opts_.rpc_timeout_ms);
    std::unique_lock<std::mutex> l(m);
    while (
        !cv.wait_for(l, std::chrono::milliseconds(opts_.renew_interval_ms), [&] { return done; })) {
      l.unlock();
      const int64_t old_deadline = lease_->deadline_nanos();
      auto r = lease_->AcquireOrRenew();
      const bool late = NowNanos() >= old_deadline;
      if (!r.ok()) {
        LOG(WARNING) << self_.id << " failoverd: renewal during transition: " << r.status();
      } else if (!late) {
        // A refusal is only logged: the namenode finished meanwhile and found its deadline
        // passed, or it is older and knows no renewals before it is active. Either way the
        // check after the transition decides.
        Status s = renew_target.RenewLease(*r);
        if (!s.ok()) VLOG(1) << self_.id << " failoverd: renewLease during transition: " << s;
      }
      l.lock();
      if (late) lapsed = true;
    }
  });
  Status s =
      transition_target_.TransitionToActive(th::RequestSource::REQUEST_BY_FAILOVERD, deadline);
  {
    std::lock_guard<std::mutex> l(m);
    done = true;
  }
  cv.notify_all();
  keeper.join();
  monitor_.ForgetHaState();
  if (s.ok() && (lapsed || !lease_->IsHeld())) {
    s = Status::TimedOut("the lease lapsed while the namenode became active");
  }
  if (s.ok()) {
    LOG(INFO) << self_.id << " failoverd: namenode is active";
    SetActive(true);
    next_renew_nanos_ = 0;  // hand the freshest deadline over right away
    return Status::OK();
  }
  // Undo: the namenode must not act on the lease we are about to drop.
  SetActive(false);
  Demote("transitionToActive failed: " + s.message(), false);
  return s.Prepend(self_.id + " failoverd: could not become active");
}

void Controller::Demote(const std::string& reason, bool process_gone) {
  LOG(INFO) << self_.id << " failoverd: demoting namenode: " << reason;
  SetActive(false);
  Status s = process_gone
                 ? Status::OK()
                 : quick_target_.TransitionToStandby(th::RequestSource::REQUEST_BY_FAILOVERD);
  monitor_.Poke();
  const bool gone =
      process_gone || (IsLocalHost(self_.host) && ProcessIsGone(monitor_.snapshot().pid));
  if (s.ok() || gone) {
    lease_->Release();
    release_at_deadline_ = false;
    LOG(INFO) << self_.id << " failoverd: lease released"
              << (process_gone ? " (namenode process is gone)" : "");
    return;
  }
  LOG(WARNING) << self_.id << " failoverd: transitionToStandby failed (" << s
               << "); keeping the lease until the namenode's deadline passes";
  release_at_deadline_ = true;
}

ControllerStatus Controller::GetStatus() const {
  ControllerStatus st;
  st.namenode_id = self_.id;
  st.health = HealthStateName(monitor_.snapshot().state);
  st.holds_lease = lease_->IsHeld();
  st.lease_remaining_ms = lease_->RemainingMs();
  st.automatic = opts_.automatic;
  std::lock_guard<std::mutex> l(mu_);
  const int64_t ceded_left = ceded_until_nanos_ - NowNanos();
  st.ceded_remaining_ms = ceded_left > 0 ? ceded_left / kNanosPerMilli : 0;
  st.active = active_;
  st.became_active = became_active_;
  st.left_active = left_active_;
  return st;
}

Status Controller::CedeActive(int64_t millis) {
  // A cede and a graceful failover of this controller exclude each other without waiting:
  // two opposite `haadmin -failover` would otherwise each hold their op_mu_ while asking
  // the other to cede, and both wait for the RPC timeout.
  {
    std::lock_guard<std::mutex> l(mu_);
    if (failing_over_) {
      return Status::IllegalState(self_.id + " failoverd: a graceful failover to " + self_.id +
                                  " is in progress (an opposite haadmin -failover?); not ceding");
    }
    ++cedes_in_progress_;
  }
  struct Done {
    Controller* c;
    ~Done() {
      std::lock_guard<std::mutex> l(c->mu_);
      --c->cedes_in_progress_;
    }
  } done{this};
  std::lock_guard<std::mutex> op(op_mu_);
  LOG(INFO) << self_.id << " failoverd: asked to cede for " << millis << " ms";
  {
    std::lock_guard<std::mutex> l(mu_);
    ceded_until_nanos_ = NowNanos() + millis * kNanosPerMilli;
  }
  bool active;
  {
    std::lock_guard<std::mutex> l(mu_);
    active = active_;
  }
  if (active || lease_->deadline_nanos() != 0) {
    Demote("ceding", false);
    if (release_at_deadline_) {
      return Status::IllegalState(self_.id + " could not be demoted; its lease runs out in " +
                                  std::to_string(lease_->RemainingMs()) + " ms");
    }
  }
  return Status::OK();
}

Status Controller::GracefulFailover() {
  // 0. At most one graceful failover at a time, and none while this side is asked to cede
  //    (see CedeActive): refuse at once rather than wait on the other side.
  {
    std::lock_guard<std::mutex> l(mu_);
    if (failing_over_) {
      return Status::IllegalState(self_.id + " failoverd: a graceful failover to " + self_.id +
                                  " is already in progress");
    }
    if (cedes_in_progress_ > 0) {
      return Status::IllegalState(self_.id + " failoverd: " + self_.id +
                                  " is being asked to cede (a failover away from it is in "
                                  "progress); not taking over");
    }
    failing_over_ = true;
  }
  struct Done {
    Controller* c;
    ~Done() {
      std::lock_guard<std::mutex> l(c->mu_);
      c->failing_over_ = false;
    }
  } done{this};
  std::lock_guard<std::mutex> op(op_mu_);
  if (opts_.test_graceful_delay_ms > 0) {
    LOG(WARNING) << self_.id << " failoverd: test only: graceful failover waits "
                 << opts_.test_graceful_delay_ms << " ms before asking the peer to cede";
    std::this_thread::sleep_for(std::chrono::milliseconds(opts_.test_graceful_delay_ms));
  }
  // 1. Only a healthy namenode may take over.
  const HealthSnapshot snap = monitor_.snapshot();
  if (snap.state != HealthState::kHealthy) {
    return Status::IllegalState(self_.id + " is not healthy (" + HealthStateName(snap.state) +
                                (snap.reason.empty() ? "" : ": " + snap.reason) + ")");
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    if (active_) return Status::OK();
    ceded_until_nanos_ = 0;
  }
  // 2. Every other namenode's controller cedes (demote + release + stay out).
  for (const auto& nn : conf_.namenodes) {
    if (nn.id == self_.id) continue;
    ThriftConn<th::FailoverControllerClient> peer(nn.failoverd(), opts_.transition_timeout_ms);
    auto c = peer.Get();
    if (!c.ok()) return c.status().Prepend("failoverd of " + nn.id);
    try {
      (*c)->cedeActive(static_cast<int32_t>(opts_.cede_ms));
    } catch (const th::FailoverException& e) {
      return Status::IllegalState(nn.id + " did not cede: " + e.message);
    } catch (const apache::thrift::TException& e) {
      return Status::NetworkError("failoverd of " + nn.id + ": cedeActive: " + e.what());
    }
    LOG(INFO) << self_.id << " failoverd: " << nn.id << " ceded";
  }
  // 3. Take the lease at once (retrying while the peer's release propagates) and promote.
  const int64_t give_up = NowNanos() + opts_.graceful_acquire_timeout_ms * kNanosPerMilli;
  Status last;
  while (true) {
    auto r = lease_->AcquireOrRenew();
    if (r.ok()) return BecomeActive(*r);
    last = r.status();
    if (NowNanos() >= give_up) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return last.Prepend(self_.id + " failoverd: graceful failover: lease not obtained");
}

}  // namespace qj::fo
