#include "journalnode/client/lease_client.h"

#include <glog/logging.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>

namespace qj::jn {

int64_t LeaseDeadlineNanos(int64_t t0_nanos, const LeaseClientOptions& opts) {
  const double valid_ms = static_cast<double>(opts.duration_ms) * (1.0 - opts.drift) -
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

namespace {

// One round's replies, shared with callbacks that may arrive after the round is over.
struct RoundState {
  std::mutex mu;
  std::condition_variable cv;  // notified by every reply callback
  LeaseRound round;
  std::vector<std::string> errors;
  explicit RoundState(int n) : round(n) {}
};

struct ReleaseState {
  std::mutex mu;
  std::condition_variable cv;  // notified by every release callback
  int pending = 0;
};

}  // namespace

LeaseClient::LeaseClient(LeaseClientOptions opts,
                         std::vector<std::unique_ptr<LeaseGrantor>> grantors, const Clock* clock)
    : opts_(std::move(opts)), grantors_(std::move(grantors)), clock_(clock) {
  CHECK(!grantors_.empty());
  CHECK_GT(opts_.duration_ms, 0);
}

LeaseClient::~LeaseClient() = default;

Result<int64_t> LeaseClient::AcquireOrRenew() {
  std::lock_guard<std::mutex> round_lock(round_mu_);
  const int n = static_cast<int>(grantors_.size());
  auto state = std::make_shared<RoundState>(n);
  // 1. t0 before anything is sent: every grant's expiry lies after t0 + duration.
  const int64_t t0 = clock_->MonotonicNanos();
  for (int i = 0; i < n; ++i) {
    std::string name = grantors_[i]->name();
    grantors_[i]->AcquireAsync(opts_.journal_id, opts_.holder_id, opts_.duration_ms,
                               [state, i, name](GrantReply reply) {
                                 std::lock_guard<std::mutex> l(state->mu);
                                 if (!reply.status.ok())
                                   state->errors.push_back(name + ": " + reply.status.ToString());
                                 state->round.Add(i, reply);
                                 state->cv.notify_all();
                               });
  }
  // 2. Wait for a decision; stragglers after the timeout count as not granted.
  LeaseRound::Outcome outcome;
  std::vector<int> granted_by;
  std::string other, errors;
  {
    std::unique_lock<std::mutex> l(state->mu);
    state->cv.wait_for(l, std::chrono::milliseconds(opts_.round_timeout_ms),
                       [&] { return state->round.outcome() != LeaseRound::Outcome::kPending; });
    outcome = state->round.outcome();
    granted_by = state->round.granted_by();
    other = state->round.other_holder();
    for (const auto& e : state->errors) errors += (errors.empty() ? "" : "; ") + e;
  }
  // 3. Granted: the new deadline counts from t0 (never from the replies' arrival).
  if (outcome == LeaseRound::Outcome::kGranted) {
    const int64_t deadline = LeaseDeadlineNanos(t0, opts_);
    std::lock_guard<std::mutex> l(mu_);
    deadline_nanos_ = std::max(deadline_nanos_, deadline);
    last_other_holder_.clear();
    return deadline_nanos_;
  }
  // 4. Not granted. While an earlier lease is still valid its grants must stay (they back
  // the current deadline); otherwise hand back the minority we got.
  bool held;
  {
    std::lock_guard<std::mutex> l(mu_);
    last_other_holder_ = other;
    held = clock_->MonotonicNanos() < deadline_nanos_;
  }
  if (!held && !granted_by.empty()) ReleaseGrantors(granted_by, /*wait=*/false);
  std::string msg = opts_.holder_id + ": lease on " + opts_.journal_id +
                    " not granted by a majority (" + std::to_string(granted_by.size()) + "/" +
                    std::to_string(n) + ")";
  if (!other.empty()) msg += ", held by " + other;
  if (!errors.empty()) msg += "; " + errors;
  if (outcome == LeaseRound::Outcome::kPending) return Status::TimedOut(msg);
  return Status::Unavailable(msg);
}

void LeaseClient::ReleaseGrantors(const std::vector<int>& indexes, bool wait) {
  auto st = std::make_shared<ReleaseState>();
  st->pending = static_cast<int>(indexes.size());
  for (int i : indexes) {
    std::string name = grantors_[i]->name();
    grantors_[i]->ReleaseAsync(opts_.journal_id, opts_.holder_id, [st, name](Status s) {
      if (!s.ok()) VLOG(1) << "lease: release at " << name << " failed: " << s;
      std::lock_guard<std::mutex> l(st->mu);
      --st->pending;
      st->cv.notify_all();
    });
  }
  if (!wait) return;
  std::unique_lock<std::mutex> l(st->mu);
  st->cv.wait_for(l, std::chrono::milliseconds(opts_.round_timeout_ms),
                  [&] { return st->pending == 0; });
}

void LeaseClient::Release() {
  std::lock_guard<std::mutex> round_lock(round_mu_);
  {
    std::lock_guard<std::mutex> l(mu_);
    deadline_nanos_ = 0;
  }
  std::vector<int> all(grantors_.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
  ReleaseGrantors(all, /*wait=*/true);
}

bool LeaseClient::IsHeld() const {
  std::lock_guard<std::mutex> l(mu_);
  return clock_->MonotonicNanos() < deadline_nanos_;
}

int64_t LeaseClient::deadline_nanos() const {
  std::lock_guard<std::mutex> l(mu_);
  return deadline_nanos_;
}

int64_t LeaseClient::RemainingMs() const {
  std::lock_guard<std::mutex> l(mu_);
  const int64_t left = deadline_nanos_ - clock_->MonotonicNanos();
  return left > 0 ? left / kNanosPerMilli : 0;
}

std::string LeaseClient::last_other_holder() const {
  std::lock_guard<std::mutex> l(mu_);
  return last_other_holder_;
}

}  // namespace qj::jn
