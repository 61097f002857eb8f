#include "failover/controller_core.h"

#include <glog/logging.h>

#include <algorithm>

namespace qj::fo {

const char* ControllerActionName(ControllerAction::Kind k) {
  switch (k) {
    case ControllerAction::kStartLeaseRound:
      return "start-lease-round";
    case ControllerAction::kReleaseLease:
      return "release-lease";
    case ControllerAction::kTransitionToActive:
      return "transitionToActive";
    case ControllerAction::kRenewLease:
      return "renewLease";
    case ControllerAction::kTransitionToStandby:
      return "transitionToStandby";
    case ControllerAction::kForgetHaState:
      return "forget-ha-state";
    case ControllerAction::kAskPeersToCede:
      return "ask-peers-to-cede";
    case ControllerAction::kSetTimer:
      return "set-timer";
    case ControllerAction::kCedeDone:
      return "cede-done";
    case ControllerAction::kFailoverDone:
      return "failover-done";
  }
  return "?";
}

namespace {

ControllerAction Make(ControllerAction::Kind kind, std::string reason = "") {
  ControllerAction a;
  a.kind = kind;
  a.reason = std::move(reason);
  return a;
}

}  // namespace

ControllerCore::ControllerCore(ControllerCoreOptions opts)
    : opts_(std::move(opts)), rng_(opts_.jitter_seed) {}

ControllerCore::Actions ControllerCore::OnHealth(int64_t now, const HealthSnapshot& snap) {
  snap_ = snap;
  // INITIALIZING is only "not heard from yet" (failoverd just started), not a fault.
  if (snap_.state == HealthState::kUnhealthy || snap_.state == HealthState::kUnresponsive) {
    BackOff(now);
  }
  return Step(now);
}

ControllerCore::Actions ControllerCore::OnTick(int64_t now) { return Step(now); }

ControllerCore::Actions ControllerCore::Cede(int64_t now, int64_t millis, uint64_t request) {
  if (graceful_) {
    Actions out;
    ControllerAction a = Make(ControllerAction::kCedeDone);
    a.request = request;
    a.status = Status::IllegalState(opts_.namenode_id + " failoverd: a graceful failover to " +
                                    opts_.namenode_id +
                                    " is in progress (an opposite haadmin -failover?); not ceding");
    out.push_back(std::move(a));
    return out;
  }
  cedes_.emplace_back(request, millis);
  return Step(now);
}

ControllerCore::Actions ControllerCore::GracefulFailover(int64_t now, uint64_t request) {
  Status refuse;
  if (graceful_) {
    refuse = Status::IllegalState(opts_.namenode_id + " failoverd: a graceful failover to " +
                                  opts_.namenode_id + " is already in progress");
  } else if (!cedes_.empty()) {
    refuse = Status::IllegalState(opts_.namenode_id + " failoverd: " + opts_.namenode_id +
                                  " is being asked to cede (a failover away from it is in "
                                  "progress); not taking over");
  }
  if (!refuse.ok()) {
    Actions out;
    ControllerAction a = Make(ControllerAction::kFailoverDone);
    a.request = request;
    a.status = refuse;
    out.push_back(std::move(a));
    return out;
  }
  graceful_ = true;
  graceful_request_ = request;
  graceful_started_ = false;
  graceful_acquiring_ = false;
  graceful_start_at_ = now + opts_.test_graceful_delay_ms * kNanosPerMilli;
  return Step(now);
}

ControllerCore::Actions ControllerCore::OnLeaseRound(int64_t now, uint64_t round, bool granted,
                                                     int64_t deadline, const std::string& why) {
  if (!round_out_ || round != round_) return Step(now);  // a round we no longer wait for
  round_out_ = false;
  lease_deadline_ = deadline;
  Actions out;
  switch (round_purpose_) {
    case Purpose::kContend:
      if (granted) BecomeActive(now, deadline, &out);
      break;
    case Purpose::kGraceful:
      if (granted) {
        graceful_acquiring_ = false;
        BecomeActive(now, deadline, &out);
      } else if (now >= graceful_give_up_) {
        FinishGraceful(
            Status::Unavailable(opts_.namenode_id +
                                " failoverd: graceful failover: lease not obtained: " + why),
            &out);
      } else {
        graceful_retry_at_ = now + opts_.graceful_retry_ms * kNanosPerMilli;
      }
      break;
    case Purpose::kKeep: {
      // The keeper of an activation: hand each fresh deadline over at once. A round that
      // ended after the deadline it was meant to extend is a new lease: the activation
      // fails (a grantor may have served someone else in between).
      const bool late = now >= round_old_deadline_;
      if (granted && !late) {
        keeper_renew_out_ = true;
        ControllerAction a = Make(ControllerAction::kRenewLease, "renewal during activation");
        a.deadline = deadline;
        a.during_activation = true;
        handed_deadline_ = std::max(handed_deadline_, deadline);
        out.push_back(std::move(a));
      }
      if (late) lapsed_ = true;
      break;
    }
    case Purpose::kRenew:
      if (!active_) break;
      if (granted && now >= round_old_deadline_) {
        Demote(now, "the lease lapsed during its renewal", false, &out);
      } else if (granted) {
        next_renew_ = round_started_ + opts_.renew_interval_ms * kNanosPerMilli;
        quick_out_ = true;
        quick_is_standby_ = false;
        ControllerAction a = Make(ControllerAction::kRenewLease);
        a.deadline = Hand(deadline);
        out.push_back(std::move(a));
      } else {
        const int64_t left = deadline > now ? (deadline - now) / kNanosPerMilli : 0;
        if (left <= opts_.demote_guard_ms) {
          Demote(now,
                 "lease renewal missed the majority, " + std::to_string(left) + " ms left: " + why,
                 false, &out);
        } else {
          next_renew_ = round_started_ + opts_.acquire_interval_ms * kNanosPerMilli;
        }
      }
      break;
  }
  Actions more = Step(now);
  out.insert(out.end(), more.begin(), more.end());
  return out;
}

ControllerCore::Actions ControllerCore::OnTransitionToActiveDone(int64_t now, const Status& s) {
  Actions out;
  if (!to_active_out_) return Step(now);
  to_active_out_ = false;
  activation_replied_ = true;
  activation_status_ = s;
  snap_.ha_state.clear();
  out.push_back(Make(ControllerAction::kForgetHaState));
  Actions more = Step(now);
  out.insert(out.end(), more.begin(), more.end());
  return out;
}

ControllerCore::Actions ControllerCore::OnRenewLeaseDone(int64_t now, bool during_activation,
                                                         const Status& s) {
  Actions out;
  if (during_activation) {
    // A refusal is only noted: the namenode finished meanwhile and found its deadline
    // passed, or it knows no renewals before it is active. The check after the
    // transition decides.
    keeper_renew_out_ = false;
  } else if (quick_out_ && !quick_is_standby_) {
    quick_out_ = false;
    if (active_ && s.code() == StatusCode::kIllegalState) {
      // The namenode refuses: it is no longer active (fenced by a newer epoch, ...).
      Demote(now, "namenode refused the lease renewal: " + s.message(), false, &out);
    }
  }
  Actions more = Step(now);
  out.insert(out.end(), more.begin(), more.end());
  return out;
}

ControllerCore::Actions ControllerCore::OnStandbyDone(int64_t now, const Status& s,
                                                      bool process_gone) {
  Actions out;
  if (!quick_out_ || !quick_is_standby_) return Step(now);
  quick_out_ = false;
  if (standby_why_ == StandbyWhy::kDemote) {
    const bool released_early = released_while_demoting_;
    released_while_demoting_ = false;
    if (released_early) {
      // Released at the namenode's deadline while this call was out (see Step).
    } else if (s.ok() || process_gone) {
      Release(&out);
    } else {
      // The namenode stops serving at its deadline by itself; the lease must stay ours
      // until then.
      release_at_deadline_ = true;
    }
    if (cede_running_) {
      ControllerAction a = Make(ControllerAction::kCedeDone);
      a.request = cedes_.front().first;
      if (release_at_deadline_) {
        const int64_t left = handed_deadline_ > now ? (handed_deadline_ - now) / kNanosPerMilli : 0;
        a.status = Status::IllegalState(opts_.namenode_id +
                                        " could not be demoted; its lease runs out in " +
                                        std::to_string(left) + " ms");
      } else if (released_early && !s.ok() && !process_gone) {
        a.status = Status::IllegalState(opts_.namenode_id +
                                        " could not be demoted; its lease ran out: " + s.message());
      }
      out.push_back(std::move(a));
      cedes_.pop_front();
      cede_running_ = false;
    }
  }
  // What the monitor heard of the namenode's role predates this transition.
  snap_.ha_state.clear();
  out.push_back(Make(ControllerAction::kForgetHaState));
  Actions more = Step(now);
  out.insert(out.end(), more.begin(), more.end());
  return out;
}

ControllerCore::Actions ControllerCore::OnPeersCeded(int64_t now, const Status& s) {
  Actions out;
  if (!peers_out_) return Step(now);
  peers_out_ = false;
  if (!s.ok()) {
    FinishGraceful(s, &out);
  } else {
    graceful_acquiring_ = true;
    graceful_give_up_ = now + opts_.graceful_acquire_timeout_ms * kNanosPerMilli;
    graceful_retry_at_ = now;
  }
  Actions more = Step(now);
  out.insert(out.end(), more.begin(), more.end());
  return out;
}

ControllerCore::Actions ControllerCore::Step(int64_t now) {
  Actions out;
  if (to_active_out_ || activation_replied_) {
    // An activation: keep the lease fresh; finish once the keeper is idle.
    if (!round_out_ && !keeper_renew_out_) {
      if (activation_replied_) {
        FinishActivation(now, &out);
      } else if (now >= next_keep_) {
        next_keep_ = now + opts_.renew_interval_ms * kNanosPerMilli;
        StartRound(now, Purpose::kKeep, &out);
      }
    }
  }
  if (to_active_out_ || activation_replied_) {
    // Still activating.
  } else if (!Busy()) {
    if (graceful_) {
      if (!graceful_started_ && now >= graceful_start_at_) {
        graceful_started_ = true;
        if (snap_.state != HealthState::kHealthy) {
          FinishGraceful(
              Status::IllegalState(opts_.namenode_id + " is not healthy (" +
                                   HealthStateName(snap_.state) +
                                   (snap_.reason.empty() ? "" : ": " + snap_.reason) + ")"),
              &out);
        } else if (active_) {
          FinishGraceful(Status::OK(), &out);
        } else {
          ceded_until_ = 0;
          peers_out_ = true;
          out.push_back(Make(ControllerAction::kAskPeersToCede));
        }
      } else if (graceful_acquiring_ && now >= graceful_retry_at_) {
        StartRound(now, Purpose::kGraceful, &out);
      }
    } else if (!cedes_.empty() && !cede_running_) {
      cede_running_ = true;
      ceded_until_ = now + cedes_.front().second * kNanosPerMilli;
      if (active_ || lease_deadline_ != 0) {
        Demote(now, "ceding", false, &out, /*backoff=*/false);
      } else {
        ControllerAction a = Make(ControllerAction::kCedeDone);
        a.request = cedes_.front().first;
        out.push_back(std::move(a));
        cedes_.pop_front();
        cede_running_ = false;
      }
    } else if (active_) {
      StepActive(now, &out);
    } else {
      StepStandby(now, &out);
    }
  }
  // A demotion that has not answered by the namenode's deadline (a hung namenode answers
  // only at the call's timeout, if ever): the namenode stops serving at that deadline by
  // itself, so the lease need not wait for the call.
  if (quick_out_ && quick_is_standby_ && standby_why_ == StandbyWhy::kDemote &&
      !released_while_demoting_ && handed_deadline_ != 0 && now >= handed_deadline_) {
    Release(&out);
    released_while_demoting_ = true;
  }
  ControllerAction t = Make(ControllerAction::kSetTimer);
  t.at = NextTimer(now);
  if (t.at != 0) out.push_back(std::move(t));
  return out;
}

void ControllerCore::StepActive(int64_t now, Actions* out) {
  // 0. The lease ran out under us (renewals failed past the guard): someone else may
  // have been active since, so the namenode must not serve again under a renewed lease
  // without a fresh epoch.
  if (!holds_lease(now)) {
    Demote(now, "the lease lapsed", snap_.process_gone, out);
    return;
  }
  // 0b. The namenode's own deadline passed (no renewal vouched for it: its health answers
  // stopped): it has stopped serving; it must not be revived without a fresh epoch.
  if (now >= handed_deadline_) {
    const int64_t ago = snap_.healthy_at != 0 ? (now - snap_.healthy_at) / kNanosPerMilli : -1;
    Demote(now,
           "the namenode's deadline passed; last healthy answer asked for " + std::to_string(ago) +
               " ms ago",
           snap_.process_gone, out);
    return;
  }
  // 1. The namenode is not healthy: demote before the deadline, release after.
  if (snap_.state != HealthState::kHealthy) {
    Demote(now, std::string("namenode ") + HealthStateName(snap_.state) + ": " + snap_.reason,
           snap_.process_gone, out);
    return;
  }
  // 2. Renew on schedule, while health vouches for the namenode; the outcome hands the
  // new deadline to the namenode.
  if (now >= next_renew_ && HealthFresh(now)) StartRound(now, Purpose::kRenew, out);
}

void ControllerCore::StepStandby(int64_t now, Actions* out) {
  // 1. A lease we could not release when demoting: release once the namenode's own
  // deadline (the same as ours) has passed, or at once if its process is gone.
  if (release_at_deadline_ && (snap_.process_gone || now >= handed_deadline_)) {
    Release(out);
  }
  const bool contending = opts_.automatic && snap_.state == HealthState::kHealthy &&
                          now >= ceded_until_ && now >= backoff_until_ && !release_at_deadline_ &&
                          HealthFresh(now);
  // 2. The namenode says it is active but we do not hold the lease for it: demote it,
  // never adopt it (it may have been superseded and would serve stale reads).
  if (snap_.ha_state == "active") {
    quick_out_ = true;
    quick_is_standby_ = true;
    standby_why_ = StandbyWhy::kAdopt;
    out->push_back(
        Make(ControllerAction::kTransitionToStandby, "namenode was active without our lease"));
    return;
  }
  // 3. An unhealthy namenode not active under our lease recovers through a transition to
  // standby (it reloads its namespace and tails again). Always safe: it holds no lease.
  if (snap_.state == HealthState::kUnhealthy && now >= next_recover_) {
    next_recover_ = now + opts_.recover_interval_ms * kNanosPerMilli;
    quick_out_ = true;
    quick_is_standby_ = true;
    standby_why_ = StandbyWhy::kRecover;
    out->push_back(Make(ControllerAction::kTransitionToStandby,
                        "namenode unhealthy (" + snap_.reason + "): recover"));
    return;
  }
  // 4. Contend for the lease.
  if (!contending || now < next_try_) return;
  const int64_t jitter =
      std::uniform_int_distribution<int64_t>(0, opts_.acquire_interval_ms / 4)(rng_);
  next_try_ = now + (opts_.acquire_interval_ms + jitter) * kNanosPerMilli;
  StartRound(now, Purpose::kContend, out);
}

void ControllerCore::StartRound(int64_t now, Purpose p, Actions* out) {
  round_out_ = true;
  round_purpose_ = p;
  round_started_ = now;
  round_old_deadline_ = lease_deadline_;
  ControllerAction a = Make(ControllerAction::kStartLeaseRound);
  a.round = ++round_;
  out->push_back(std::move(a));
}

void ControllerCore::BecomeActive(int64_t now, int64_t deadline, Actions* out) {
  to_active_out_ = true;
  activation_replied_ = false;
  lapsed_ = false;
  next_keep_ = now + opts_.renew_interval_ms * kNanosPerMilli;
  ControllerAction a = Make(ControllerAction::kTransitionToActive, "won the lease");
  a.deadline = Hand(deadline);
  out->push_back(std::move(a));
}

void ControllerCore::FinishActivation(int64_t now, Actions* out) {
  activation_replied_ = false;
  Status s = activation_status_;
  if (s.ok() && (lapsed_ || !holds_lease(now))) {
    s = Status::TimedOut("the lease lapsed while the namenode became active");
  }
  if (s.ok()) {
    active_ = true;
    ++became_active_;
    next_renew_ = 0;  // hand the freshest deadline over right away
    if (graceful_) FinishGraceful(Status::OK(), out);
    return;
  }
  // Undo: the namenode must not act on the lease we are about to drop.
  Demote(now, "transitionToActive failed: " + s.message(), false, out);
  next_try_ = now + opts_.retry_after_failure_ms * kNanosPerMilli;
  if (graceful_) {
    FinishGraceful(s.Prepend(opts_.namenode_id + " failoverd: could not become active"), out);
  }
}

bool ControllerCore::HealthFresh(int64_t now) const {
  if (opts_.health_fresh_ms <= 0) return true;
  return snap_.healthy_at != 0 && now - snap_.healthy_at <= opts_.health_fresh_ms * kNanosPerMilli;
}

int64_t ControllerCore::Hand(int64_t deadline) {
  int64_t d = deadline;
  if (opts_.health_fresh_ms > 0) {
    // The round obtained (deadline - round start) of lease; vouch for no more than that
    // past the last moment the namenode is known to have been healthy.
    d = std::min(d, snap_.healthy_at + (deadline - round_started_));
  }
  handed_deadline_ = std::max(handed_deadline_, d);
  return d;
}

void ControllerCore::BackOff(int64_t now) {
  backoff_until_ = std::max(backoff_until_, now + opts_.unhealthy_backoff_ms * kNanosPerMilli);
}

void ControllerCore::Demote(int64_t now, const std::string& reason, bool process_gone, Actions* out,
                            bool backoff) {
  if (backoff) BackOff(now);
  if (active_) ++left_active_;
  active_ = false;
  if (process_gone) {
    Release(out);
    if (cede_running_) {
      ControllerAction a = Make(ControllerAction::kCedeDone);
      a.request = cedes_.front().first;
      out->push_back(std::move(a));
      cedes_.pop_front();
      cede_running_ = false;
    }
    return;
  }
  quick_out_ = true;
  quick_is_standby_ = true;
  standby_why_ = StandbyWhy::kDemote;
  out->push_back(Make(ControllerAction::kTransitionToStandby, "demote: " + reason));
}

void ControllerCore::Release(Actions* out) {
  release_at_deadline_ = false;
  lease_deadline_ = 0;
  handed_deadline_ = 0;
  round_out_ = false;  // a round still out is abandoned (its outcome is ignored)
  out->push_back(Make(ControllerAction::kReleaseLease));
}

void ControllerCore::FinishGraceful(const Status& s, Actions* out) {
  graceful_ = false;
  graceful_started_ = false;
  graceful_acquiring_ = false;
  ControllerAction a = Make(ControllerAction::kFailoverDone);
  a.request = graceful_request_;
  a.status = s;
  out->push_back(std::move(a));
}

int64_t ControllerCore::NextTimer(int64_t now) const {
  int64_t best = 0;
  auto consider = [&](int64_t t) {
    if (t > now && (best == 0 || t < best)) best = t;
  };
  if (to_active_out_) consider(next_keep_);
  if (graceful_ && !graceful_started_) consider(graceful_start_at_);
  if (graceful_acquiring_) consider(graceful_retry_at_);
  if (quick_out_ && quick_is_standby_ && standby_why_ == StandbyWhy::kDemote &&
      !released_while_demoting_ && handed_deadline_ != 0) {
    consider(handed_deadline_);
  }
  if (active_) {
    consider(next_renew_);
    consider(lease_deadline_);
    consider(handed_deadline_);
  } else {
    if (release_at_deadline_) consider(handed_deadline_);
    consider(next_try_);
    consider(ceded_until_);
    consider(backoff_until_);
    consider(next_recover_);
  }
  return best;
}

}  // namespace qj::fo
