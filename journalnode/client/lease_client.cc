#include "journalnode/client/lease_client.h"

#include <glog/logging.h>

#include <algorithm>
#include <utility>

#include "journalnode/client/quorum_call.h"

namespace qj::jn {

int64_t LeaseDeadlineNanos(int64_t t0_nanos, const LeaseClientOptions& opts) {
  const double valid_ms =
      static_cast<double>(opts.duration_ms) * (QJ_PLANTED(kLeaseNoDrift) ? 1.0 : 1.0 - opts.drift) -
      static_cast<double>(opts.margin_ms);
  // Truncation rounds the deadline down, towards safety.
  return t0_nanos + std::max<int64_t>(0, static_cast<int64_t>(valid_ms * kNanosPerMilli));
}

void LeaseRound::Add(int index, const GrantReply& reply) {
  if (std::find(seen_.begin(), seen_.end(), index) != seen_.end()) return;
  seen_.push_back(index);
  if (reply.status.ok() && reply.granted) {
    ++granted_;
    granted_by_.push_back(index);
    return;
  }
  ++failed_;
  if (reply.status.ok() && !reply.holder.empty() && other_holder_.empty()) {
    other_holder_ = reply.holder;
  }
}

LeaseRound::Outcome LeaseRound::outcome() const {
  if (granted_ >= majority()) return Outcome::kGranted;
  if (n_ - failed_ < majority()) return Outcome::kDenied;
  return Outcome::kPending;
}

LeaseClientCore::LeaseClientCore(LeaseClientOptions opts, int num_grantors)
    : opts_(std::move(opts)), n_(num_grantors), round_(num_grantors) {}

uint64_t LeaseClientCore::StartRound(int64_t t0_nanos) {
  ++round_id_;
  open_ = true;
  t0_ = t0_nanos;
  round_ = LeaseRound(n_);
  return round_id_;
}

bool LeaseClientCore::OnReply(uint64_t round, int index, const GrantReply& reply) {
  if (!open_ || round != round_id_ || index < 0 || index >= n_) return false;
  round_.Add(index, reply);
  return round_.outcome() != LeaseRound::Outcome::kPending;
}

LeaseClientCore::RoundEnd LeaseClientCore::FinishRound(int64_t now_nanos) {
  LeaseClientCore::RoundEnd end;
  open_ = false;
  end.outcome = round_.outcome();
  end.other_holder = round_.other_holder();
  end.granted = round_.granted();
  if (end.outcome == LeaseRound::Outcome::kGranted) {
    // The new deadline counts from t0 (never from the replies' arrival).
    deadline_nanos_ = std::max(deadline_nanos_, LeaseDeadlineNanos(t0_, opts_));
    last_other_holder_.clear();
  } else {
    last_other_holder_ = end.other_holder;
    // While an earlier lease is still valid its grants must stay (they back the current
    // deadline); otherwise hand back the minority this round got.
    if (!IsHeld(now_nanos)) end.release = round_.granted_by();
  }
  end.deadline_nanos = deadline_nanos_;
  return end;
}

std::vector<int> LeaseClientCore::Release() {
  deadline_nanos_ = 0;
  open_ = false;
  std::vector<int> all(n_);
  for (int i = 0; i < n_; ++i) all[i] = i;
  return all;
}

int64_t LeaseClientCore::RemainingMs(int64_t now_nanos) const {
  const int64_t left = deadline_nanos_ - now_nanos;
  return left > 0 ? left / kNanosPerMilli : 0;
}

namespace {

// One round's replies, shared with callbacks that may arrive after the round is over
// (those are never read).
struct RoundState {
  Mutex mu;
  CondVar cv;  // signalled by every reply callback
  std::vector<std::pair<int, GrantReply>> replies GUARDED_BY(mu);
  std::vector<std::string> errors GUARDED_BY(mu);
};

struct ReleaseState {
  Mutex mu;
  CondVar cv;  // signalled by every release callback
  int pending GUARDED_BY(mu) = 0;
};

}  // namespace

LeaseClient::LeaseClient(LeaseClientOptions opts,
                         std::vector<std::unique_ptr<LeaseGrantor>> grantors, const Clock* clock)
    : opts_(std::move(opts)),
      grantors_(std::move(grantors)),
      clock_(clock),
      core_(opts_, static_cast<int>(grantors_.size())) {
  CHECK(!grantors_.empty());
  CHECK_GT(opts_.duration_ms, 0);
}

LeaseClient::~LeaseClient() = default;

Result<int64_t> LeaseClient::AcquireOrRenew() {
  MutexLock round_lock(&round_mu_);
  const int n = static_cast<int>(grantors_.size());
  auto state = std::make_shared<RoundState>();
  // 1. t0 before anything is sent: every grant's expiry lies after t0 + duration.
  uint64_t round;
  {
    MutexLock l(&mu_);
    round = core_.StartRound(clock_->MonotonicNanos());
  }
  for (int i = 0; i < n; ++i) {
    std::string name = grantors_[i]->name();
    grantors_[i]->AcquireAsync(opts_.journal_id, opts_.holder_id, opts_.duration_ms,
                               [state, i, name](GrantReply reply) {
                                 MutexLock l(&state->mu);
                                 if (!reply.status.ok())
                                   state->errors.push_back(name + ": " + reply.status.ToString());
                                 state->replies.emplace_back(i, std::move(reply));
                                 state->cv.SignalAll();
                               });
  }
  // 2. Feed replies to the core until it decides; stragglers after the timeout count as
  // not granted.
  const int64_t give_up = clock_->MonotonicNanos() + opts_.round_timeout_ms * kNanosPerMilli;
  std::string errors;
  {
    MutexLock l(&state->mu);
    size_t fed = 0;
    bool decided = false;
    while (!decided) {
      while (fed < state->replies.size()) {
        MutexLock cl(&mu_);
        decided = core_.OnReply(round, state->replies[fed].first, state->replies[fed].second);
        ++fed;
        if (decided) break;
      }
      if (decided) break;
      if (!clock_->WaitUntil(&state->cv, &state->mu, give_up)) break;
    }
    for (const auto& e : state->errors) errors += (errors.empty() ? "" : "; ") + e;
  }
  LeaseClientCore::RoundEnd end;
  {
    MutexLock l(&mu_);
    end = core_.FinishRound(clock_->MonotonicNanos());
  }
  // 3. Granted: the deadline (from t0) is in force.
  if (end.outcome == LeaseRound::Outcome::kGranted) return end.deadline_nanos;
  // 4. Not granted: the earlier deadline, if any, stays; hand back what the core says.
  if (!end.release.empty()) ReleaseGrantors(end.release, /*wait=*/false);
  std::string msg = opts_.holder_id + ": lease on " + opts_.journal_id +
                    " not granted by a majority (" + std::to_string(end.granted) + "/" +
                    std::to_string(n) + ")";
  if (!end.other_holder.empty()) msg += ", held by " + end.other_holder;
  if (!errors.empty()) msg += "; " + errors;
  if (end.outcome == LeaseRound::Outcome::kPending) return Status::TimedOut(msg);
  return Status::Unavailable(msg);
}

void LeaseClient::ReleaseGrantors(const std::vector<int>& indexes, bool wait) {
  auto st = std::make_shared<ReleaseState>();
  {
    MutexLock l(&st->mu);
    st->pending = static_cast<int>(indexes.size());
  }
  for (int i : indexes) {
    std::string name = grantors_[i]->name();
    grantors_[i]->ReleaseAsync(opts_.journal_id, opts_.holder_id, [st, name](Status s) {
      if (!s.ok()) VLOG(1) << "lease: release at " << name << " failed: " << s;
      MutexLock l(&st->mu);
      --st->pending;
      st->cv.SignalAll();
    });
  }
  if (!wait) return;
  const int64_t give_up = clock_->MonotonicNanos() + opts_.round_timeout_ms * kNanosPerMilli;
  MutexLock l(&st->mu);
  while (st->pending > 0) {
    if (!clock_->WaitUntil(&st->cv, &st->mu, give_up)) break;
  }
}

void LeaseClient::Release() {
  MutexLock round_lock(&round_mu_);
  std::vector<int> all;
  {
    MutexLock l(&mu_);
    all = core_.Release();
  }
  ReleaseGrantors(all, /*wait=*/true);
}

bool LeaseClient::IsHeld() const {
  MutexLock l(&mu_);
  return core_.IsHeld(clock_->MonotonicNanos());
}

int64_t LeaseClient::deadline_nanos() const {
  MutexLock l(&mu_);
  return core_.deadline_nanos();
}

int64_t LeaseClient::RemainingMs() const {
  MutexLock l(&mu_);
  return core_.RemainingMs(clock_->MonotonicNanos());
}

std::string LeaseClient::last_other_holder() const {
  MutexLock l(&mu_);
  return core_.last_other_holder();
}

}  // namespace qj::jn
