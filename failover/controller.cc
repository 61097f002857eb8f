#include "failover/controller.h"

#include <glog/logging.h>
#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <random>

#include "FailoverController.h"
#include "common/rpc/idl_errors.h"
#include "common/rpc/rpc.h"
#include "failover/process_probe.h"
#include "failover_types.h"

namespace qj::fo {

namespace th = qjournal::thrift;

namespace {
const NamenodeInfo& FindSelf(const ClusterConfig& conf, const std::string& id) {
  const NamenodeInfo* nn = conf.FindNamenode(id);
  CHECK(nn != nullptr) << "namenode " << id << " is not in the cluster file";
  return *nn;
}

ControllerCoreOptions CoreOptions(const ControllerOptions& o) {
  ControllerCoreOptions c;
  c.namenode_id = o.namenode_id;
  c.automatic = o.automatic;
  c.renew_interval_ms = o.renew_interval_ms;
  c.acquire_interval_ms = o.acquire_interval_ms;
  c.demote_guard_ms = o.demote_guard_ms;
  c.unhealthy_backoff_ms = o.unhealthy_backoff_ms;
  // A check is sent every health interval and a renewal falls due every renew interval:
  // a renewal vouches for a namenode whose newest healthy answer was asked for within
  // their sum. A slower answer only postpones renewals (the lease has several renew
  // intervals to spare); a namenode is failed over when no answer at all comes in time.
  c.health_fresh_ms = o.health.interval_ms + o.renew_interval_ms;
  c.graceful_acquire_timeout_ms = o.graceful_acquire_timeout_ms;
  c.test_graceful_delay_ms = o.test_graceful_delay_ms;
  c.jitter_seed = std::random_device{}();
  return c;
}

}  // namespace

Controller::Worker::Worker(const char* name) : name_(name) {
  thread_ = std::thread([this] { Run(); });
}

Controller::Worker::~Worker() { Stop(); }

void Controller::Worker::Post(std::function<void()> fn) {
  {
    MutexLock l(&mu_);
    if (stop_) return;
    queue_.push_back(std::move(fn));
  }
  cv_.SignalAll();
}

void Controller::Worker::Stop() {
  {
    MutexLock l(&mu_);
    stop_ = true;
    queue_.clear();
  }
  cv_.SignalAll();
  if (thread_.joinable()) thread_.join();
}

void Controller::Worker::Run() {
  pthread_setname_np(pthread_self(), name_);
  while (true) {
    std::function<void()> fn;
    {
      MutexLock l(&mu_);
      while (!stop_ && queue_.empty()) cv_.Wait(&mu_);
      if (stop_) return;
      fn = std::move(queue_.front());
      queue_.pop_front();
    }
    fn();
  }
}

Controller::Controller(ControllerOptions opts, ClusterConfig conf,
                       std::unique_ptr<jn::LeaseClient> lease, const Clock* clock,
                       const NamenodeTargetFactory& targets)
    : opts_(std::move(opts)),
      conf_(std::move(conf)),
      self_(FindSelf(conf_, opts_.namenode_id)),
      lease_(std::move(lease)),
      clock_(clock),
      monitor_(self_, opts_.health, targets, clock),
      transition_target_(targets(self_, opts_.transition_timeout_ms)),
      quick_target_(targets(self_, opts_.rpc_timeout_ms)),
      core_(CoreOptions(opts_)) {}

Controller::~Controller() { Stop(); }

void Controller::Start() {
  LOG(INFO) << self_.id << " failoverd: starting (automatic=" << opts_.automatic << ", lease "
            << lease_->options().duration_ms << " ms, renew every " << opts_.renew_interval_ms
            << " ms)";
  monitor_.Start([this] {
    {
      MutexLock l(&mu_);
      wake_ = true;
    }
    cv_.SignalAll();
  });
  thread_ = std::thread([this] { Run(); });
}

void Controller::Stop() {
  {
    MutexLock l(&mu_);
    stop_ = true;
  }
  cv_.SignalAll();
  if (thread_.joinable()) thread_.join();
  // The calls in progress finish (their results reach the core, whose new actions are
  // dropped); nothing queued runs.
  quick_worker_.Stop();
  transition_worker_.Stop();
  lease_worker_.Stop();
  monitor_.Stop();
}

void Controller::Run() {
  pthread_setname_np(pthread_self(), "fo-ctl");
  MutexLock l(&mu_);
  while (!stop_) {
    const HealthSnapshot snap = monitor_.snapshot();
    Execute(core_.OnHealth(NowNanos(), snap));
    // Short tick as well as the core's timer: health snapshots are polled.
    int64_t wait_ns = 20 * kNanosPerMilli;
    if (timer_at_ != 0) wait_ns = std::max<int64_t>(0, std::min(wait_ns, timer_at_ - NowNanos()));
    cv_.WaitFor(&mu_, std::chrono::nanoseconds(wait_ns),
                [this]() REQUIRES(mu_) { return stop_ || wake_; });
    wake_ = false;
  }
}

void Controller::Execute(const ControllerCore::Actions& actions) {
  for (const ControllerAction& a : actions) ExecuteOne(a);
}

void Controller::ExecuteOne(const ControllerAction& a) {
  if (stop_ && a.kind != ControllerAction::kCedeDone && a.kind != ControllerAction::kFailoverDone) {
    return;
  }
  switch (a.kind) {
    case ControllerAction::kStartLeaseRound: {
      const uint64_t round = a.round;
      lease_worker_.Post([this, round] {
        auto r = lease_->AcquireOrRenew();
        if (!r.ok()) VLOG(1) << self_.id << " failoverd: " << r.status();
        const int64_t deadline = lease_->deadline_nanos();
        MutexLock l(&mu_);
        Execute(core_.OnLeaseRound(NowNanos(), round, r.ok(), deadline,
                                   r.ok() ? "" : r.status().ToString()));
      });
      break;
    }
    case ControllerAction::kReleaseLease:
      LOG(INFO) << self_.id << " failoverd: releasing the lease";
      lease_worker_.Post([this] { lease_->Release(); });
      break;
    case ControllerAction::kTransitionToActive: {
      const int64_t deadline = a.deadline;
      LOG(INFO) << self_.id << " failoverd: won the lease ("
                << (deadline - NowNanos()) / kNanosPerMilli << " ms); transitionToActive";
      transition_worker_.Post([this, deadline] {
        Status s = transition_target_->TransitionToActive(th::RequestSource::REQUEST_BY_FAILOVERD,
                                                          deadline);
        if (s.ok()) {
          LOG(INFO) << self_.id << " failoverd: transitionToActive returned";
        } else {
          LOG(WARNING) << self_.id << " failoverd: transitionToActive: " << s;
        }
        MutexLock l(&mu_);
        Execute(core_.OnTransitionToActiveDone(NowNanos(), s));
      });
      break;
    }
    case ControllerAction::kRenewLease: {
      const int64_t deadline = a.deadline;
      const bool during = a.during_activation;
      quick_worker_.Post([this, deadline, during] {
        Status s = quick_target_->RenewLease(deadline);
        if (!s.ok()) {
          LOG(WARNING) << self_.id << " failoverd: renewLease"
                       << (during ? " during transition" : "") << ": " << s;
        }
        MutexLock l(&mu_);
        Execute(core_.OnRenewLeaseDone(NowNanos(), during, s));
      });
      break;
    }
    case ControllerAction::kTransitionToStandby: {
      LOG(INFO) << self_.id << " failoverd: transitionToStandby: " << a.reason;
      quick_worker_.Post([this] {
        Status s = quick_target_->TransitionToStandby(th::RequestSource::REQUEST_BY_FAILOVERD);
        monitor_.Poke();
        const bool gone =
            !s.ok() && IsLocalHost(self_.host) && ProcessIsGone(monitor_.snapshot().pid);
        if (!s.ok()) {
          LOG(WARNING) << self_.id << " failoverd: transitionToStandby failed (" << s << ")"
                       << (gone ? "; the namenode process is gone" : "");
        }
        MutexLock l(&mu_);
        Execute(core_.OnStandbyDone(NowNanos(), s, gone));
      });
      break;
    }
    case ControllerAction::kForgetHaState:
      monitor_.ForgetHaState();
      break;
    case ControllerAction::kAskPeersToCede:
      transition_worker_.Post([this] {
        Status s = AskPeersToCede();
        MutexLock l(&mu_);
        Execute(core_.OnPeersCeded(NowNanos(), s));
      });
      break;
    case ControllerAction::kSetTimer:
      timer_at_ = a.at;
      cv_.SignalAll();
      break;
    case ControllerAction::kCedeDone:
      if (!stop_) {
        // Answered once the lease worker has run what was posted before: the release of a
        // ceded lease comes first in the same actions, and LeaseClient::Release waits for
        // the journalnodes' answers. So the peer that asked for the cede (a graceful
        // failover) finds the lease free when it asks for it, instead of racing the
        // release and trying again one graceful retry interval later.
        const uint64_t request = a.request;
        const Status status = a.status;
        lease_worker_.Post([this, request, status] {
          MutexLock l(&mu_);
          answers_[request] = status;
          cv_.SignalAll();
        });
        break;
      }
      answers_[a.request] = a.status;
      cv_.SignalAll();
      break;
    case ControllerAction::kFailoverDone:
      answers_[a.request] = a.status;
      cv_.SignalAll();
      break;
  }
}

Status Controller::WaitForAnswer(uint64_t request) {
  while (!stop_ && answers_.count(request) == 0) cv_.Wait(&mu_);
  auto it = answers_.find(request);
  if (it == answers_.end()) return Status::Unavailable(self_.id + " failoverd is stopping");
  Status s = it->second;
  answers_.erase(it);
  return s;
}

ControllerStatus Controller::GetStatus() const {
  ControllerStatus st;
  st.namenode_id = self_.id;
  st.health = HealthStateName(monitor_.snapshot().state);
  st.holds_lease = lease_->IsHeld();
  st.lease_remaining_ms = lease_->RemainingMs();
  st.automatic = opts_.automatic;
  MutexLock l(&mu_);
  const int64_t ceded_left = core_.ceded_until() - NowNanos();
  st.ceded_remaining_ms = ceded_left > 0 ? ceded_left / kNanosPerMilli : 0;
  st.active = core_.active();
  st.became_active = core_.became_active();
  st.left_active = core_.left_active();
  return st;
}

Status Controller::CedeActive(int64_t millis) {
  LOG(INFO) << self_.id << " failoverd: asked to cede for " << millis << " ms";
  MutexLock l(&mu_);
  const uint64_t request = ++next_request_;
  Execute(core_.Cede(NowNanos(), millis, request));
  return WaitForAnswer(request);
}

Status Controller::GracefulFailover() {
  LOG(INFO) << self_.id << " failoverd: asked for a graceful failover to " << self_.id;
  MutexLock l(&mu_);
  const uint64_t request = ++next_request_;
  Execute(core_.GracefulFailover(NowNanos(), request));
  return WaitForAnswer(request);
}

Status Controller::AskPeersToCede() {
  // 2. Every other namenode's controller cedes (demote + release + stay out).
  for (const auto& nn : conf_.namenodes) {
    if (nn.id == self_.id) continue;
    rpc::Client<th::FailoverControllerClient> peer(
        nn.failoverd(), rpc::ClientOptions::WithTimeout(opts_.transition_timeout_ms));
    auto c = peer.Get();
    if (!c.ok()) return Status::NetworkError(c.status().message()).Prepend("failoverd of " + nn.id);
    try {
      (*c)->cedeActive(static_cast<int32_t>(opts_.cede_ms));
    } catch (const th::FailoverException& e) {
      return rpc::StatusFrom(e, rpc::FailoverErrors(), nn.id + " did not cede");
    } catch (const apache::thrift::TException& e) {
      return Status::NetworkError("failoverd of " + nn.id + ": cedeActive: " + e.what());
    }
    LOG(INFO) << self_.id << " failoverd: " << nn.id << " ceded";
  }
  return Status::OK();
}

}  // namespace qj::fo
