// Tailer: the standby's thread that reads committed edits from the journalnodes
// (QuorumReader, including the in-progress segment) and hands each to an apply callback,
// in txid order with no gaps.
//
// The callback applies one record (under the namenode's lock) and returns its status; a
// failure (undecodable or inapplicable edit: divergence) stops the tailer, and health()
// then reports it. Read errors (journalnodes unreachable) are retried with a short
// backoff and logged, not fatal; `on_read_ok` (optional) runs after every read that a
// majority answered, empty or not, so the owner can tell how long reads have failed.
//
// The tailer keeps one QuorumReader (its journal channels and their connections) from its
// first Start until it is destroyed: a Start after a Stop reads on the same connections, and
// so does CatchUpStopped, which transitionToActive uses to apply what the tailer had not
// read yet.
//
// Thread-safety: Start/Stop/CatchUpStopped from one thread at a time, ordered by the caller
// (transitionToActive runs CatchUpStopped on a helper thread it joins); health() and
// next_txid() from any thread. The callback runs on the tailer thread. Time (log
// throttling, progress lines) is read from the QuorumOptions' clock.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/edit_record.h"
#include "common/mutex.h"
#include "common/status.h"
#include "journalnode/client/quorum_writer.h"

namespace qj::nn {

class Tailer {
 public:
  using ApplyFn = std::function<Status(const std::vector<EditRecord>& batch)>;

  Tailer(jn::QuorumOptions opts, ApplyFn apply, int64_t poll_interval_ms = 10,
         std::function<void()> on_read_ok = nullptr);
  ~Tailer();

  // Starts tailing at from_txid (the first txid not yet applied).
  void Start(int64_t from_txid) EXCLUDES(mu_);
  // Stops the thread and waits for it; the last applied batch is complete.
  void Stop() EXCLUDES(mu_);
  bool running() const { return thread_.joinable(); }

  // OK, or why tailing stopped.
  Status health() const EXCLUDES(mu_);
  // The next txid the tailer will ask for.
  int64_t next_txid() const { return next_txid_.load(); }

  // CatchUp (below) on this tailer's reader, while the tailer is stopped (IllegalState
  // while it runs). `apply` is called on the calling thread.
  Status CatchUpStopped(int64_t from_txid, int64_t to_txid, const ApplyFn& apply,
                        int64_t timeout_ms);

  // Reads and applies committed edits [from_txid, to_txid] with `reader`, retrying empty
  // or failed reads until timeout_ms (TimedOut naming the txid reached). Used by
  // transitionToActive to apply what the standby had not tailed yet. The timeout and the
  // progress lines are timed on `clock`.
  static Status CatchUp(jn::QuorumReader* reader, int64_t from_txid, int64_t to_txid,
                        const ApplyFn& apply, int64_t timeout_ms,
                        const Clock* clock = RealClock::Get());

 private:
  void Run() EXCLUDES(mu_);

  const jn::QuorumOptions opts_;
  const ApplyFn apply_;
  const int64_t poll_interval_ms_;
  const std::function<void()> on_read_ok_;
  // Created by the first Start; used by the tailer thread while it runs and by
  // CatchUpStopped (controlling thread) while it does not (the join orders the two).
  std::unique_ptr<jn::QuorumReader> reader_;
  std::thread thread_;
  std::atomic<int64_t> next_txid_{1};
  mutable Mutex mu_;
  // Notified by Stop() to end a poll sleep early.
  CondVar cv_;
  bool stop_ GUARDED_BY(mu_) = false;
  Status health_ GUARDED_BY(mu_);
};

}  // namespace qj::nn
