// Quorum calls: issue one call to every journalnode and wait for enough successes.
//
// CallQuorum() issues the call on every channel and returns as soon as `need` calls have
// succeeded (OK), as soon as a decisive failure arrives (StaleEpoch: a newer writer exists,
// waiting longer cannot help), as soon as so many have failed that `need` successes are
// impossible (Unavailable, naming every node's failure; or, when every node that failed
// gave the same definite answer such as InvalidArgument or NotFormatted, that answer with its
// code), or at the timeout (TimedOut).
// The replies that arrived are returned in every case; late replies are dropped.
// With wait_all, it waits for every reply (or the timeout) before judging, for callers
// that want the whole picture (status tables, format).
//
// The timeout runs on `clock` (the real clock unless the caller passes its own).
//
// Thread-safety: the function blocks the caller only; replies are collected under the
// call's own mutex. Must be called with no lock held that a channel callback takes.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "common/thread_annotations.h"
#include "journalnode/client/journal_channel.h"
#include "journalnode/client/writer_core.h"

namespace qj::jn {

template <typename T>
struct QuorumResult {
  Status status;
  // replies[i] is journalnode i's reply if it arrived before the call returned.
  std::vector<std::optional<Reply<T>>> replies;
  int successes() const {
    int n = 0;
    for (const auto& r : replies) n += (r && r->ok()) ? 1 : 0;
    return n;
  }
};

inline int MajorityOf(size_t n) { return static_cast<int>(n / 2 + 1); }

// When every failed reply is the same definite refusal (IsDefiniteRefusal), that answer;
// null otherwise.
template <typename T>
const Status* UnanimousAnswer(const std::vector<std::optional<Reply<T>>>& replies) {
  const Status* first = nullptr;
  for (const auto& r : replies) {
    if (!r || r->ok()) continue;
    const StatusCode c = r->status.code();
    if (!IsDefiniteRefusal(c) || (first != nullptr && first->code() != c)) return nullptr;
    if (first == nullptr) first = &r->status;
  }
  return first;
}

// issue(channel, callback) starts the call on one channel.
template <typename T, typename IssueFn>
QuorumResult<T> CallQuorum(const std::vector<JournalChannel*>& channels, int need,
                           int64_t timeout_ms, const std::string& what, IssueFn issue,
                           bool wait_all = false, const Clock* clock = RealClock::Get()) {
  struct State {
    Mutex mu;
    CondVar cv;  // signalled by every reply callback
    std::vector<std::optional<Reply<T>>> replies GUARDED_BY(mu);
  };
  auto st = std::make_shared<State>();
  {
    MutexLock l(&st->mu);
    st->replies.resize(channels.size());
  }
  for (size_t i = 0; i < channels.size(); ++i) {
    issue(*channels[i], [st, i](Reply<T> r) {
      MutexLock l(&st->mu);
      st->replies[i] = std::move(r);
      st->cv.SignalAll();
    });
  }
  QuorumResult<T> out;
  const int64_t deadline = clock->MonotonicNanos() + timeout_ms * kNanosPerMilli;
  MutexLock l(&st->mu);
  while (true) {
    int ok = 0, failed = 0;
    const Status* decisive = nullptr;
    for (const auto& r : st->replies) {
      if (!r) continue;
      if (r->ok()) {
        ++ok;
      } else {
        ++failed;
        if (r->status.IsStaleEpoch() && decisive == nullptr) decisive = &r->status;
      }
    }
    const int total = static_cast<int>(channels.size());
    const bool timed_out = clock->MonotonicNanos() >= deadline;
    if (wait_all && ok + failed < total && !timed_out) {
      clock->WaitUntil(&st->cv, &st->mu, deadline);
      continue;
    }
    if (ok >= need) {
      out.status = Status::OK();
      break;
    }
    if (decisive != nullptr) {
      out.status = decisive->Prepend(what);
      break;
    }
    if (total - failed < need || timed_out) {
      std::string detail;
      for (size_t i = 0; i < st->replies.size(); ++i) {
        detail += "; " + channels[i]->address().ToString() + ": ";
        detail += !st->replies[i]        ? std::string("no answer")
                  : st->replies[i]->ok() ? std::string("ok")
                                         : st->replies[i]->status.ToString();
      }
      std::string msg = what + ": " + std::to_string(ok) + " of " + std::to_string(total) +
                        " succeeded, need " + std::to_string(need) + detail;
      if (timed_out && total - failed >= need) {
        out.status = Status::TimedOut(msg + " (after " + std::to_string(timeout_ms) + " ms)");
      } else if (const Status* same = UnanimousAnswer(st->replies)) {
        out.status =
            Status(same->code(), what + ": " + same->message() + " (" + std::to_string(failed) +
                                     " of " + std::to_string(total) + " journalnodes said so)");
      } else {
        out.status = Status::Unavailable(msg);
      }
      break;
    }
    clock->WaitUntil(&st->cv, &st->mu, deadline);
  }
  out.replies = st->replies;
  return out;
}

}  // namespace qj::jn
