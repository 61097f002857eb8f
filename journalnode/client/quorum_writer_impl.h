// Internal to journalnode/client: the QuorumWriter the daemons use, a thin driver of
// WriterCore (writer_core.h), which makes every protocol decision. Users include
// quorum_writer.h only.
#pragma once

#include <array>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "journalnode/client/journal_channel.h"
#include "journalnode/client/quorum_writer.h"
#include "journalnode/client/writer_core.h"

namespace qj::jn::internal {

// Threads, locking and the event flow: see the top of quorum_writer.cc.
class QuorumWriterImpl final : public QuorumWriter {
 public:
  QuorumWriterImpl(QuorumOptions opts, NamespaceInfo ns);
  ~QuorumWriterImpl() override { Close(); }

  // Starts the loop and runs the core's Open (new epoch, recovery) to its end.
  Status Open();

  int64_t epoch() const override;
  int64_t last_txid() const override;
  int64_t committed_txid() const override;
  Status health() const override;
  Status StartSegment(int64_t first_txid) override;
  Status Append(int64_t txid, uint16_t op, std::string_view payload) override;
  Status WaitCommitted(int64_t txid, int64_t timeout_ms) override;
  Status FinalizeSegment() override;
  Status Purge(int64_t min_txid_to_keep) override;
  WriterStats stats() const override;
  void Close() override;

 private:
  int64_t NowNs() const { return opts_.clock->MonotonicNanos(); }
  std::string Who() const;
  Status ClosedStatus() const;
  // Collects the core's output after an event: queues its sends for the loop, records
  // finished client operations, remembers the timer, and wakes whoever the event
  // concerns (commit waiters, a blocked Append, the loop). REQUIRES mu_.
  void AfterEventLocked();
  // Waits until the core reports client operation `op` done (or Close). REQUIRES mu_.
  Status WaitDoneLocked(std::unique_lock<std::mutex>& l, WriterOp op);
  void WakeAllWaitersLocked();
  // The loop thread: sends what the core asked for, in order, and fires its timer.
  void Loop();
  // Issues one request on its channel; the reply comes back through OnReply.
  void Dispatch(const WriterRequest& r);
  void OnReply(int64_t id, const WriterReply& reply);

  const QuorumOptions opts_;
  std::vector<std::unique_ptr<JournalChannel>> channels_;

  mutable std::mutex mu_;
  WriterCore core_;  // GUARDED_BY(mu_)
  // Notified when sends are queued, the timer moves earlier, or the loop must stop.
  std::condition_variable loop_cv_;
  // Notified when a client operation is done, room may have appeared in the core's
  // buffer (commits, acks), the writer fails, or Close; waited on by StartSegment,
  // FinalizeSegment, Open, a blocked Append and Close.
  std::condition_variable state_cv_;
  // WaitCommitted callers, by the txid each waits for, each with its own condition
  // variable: a commit wakes only the callers it satisfies (with many concurrent clients,
  // one shared condition variable woke every waiter on every commit).
  std::multimap<int64_t, std::condition_variable*> commit_waiters_;  // GUARDED_BY(mu_)
  // Requests the core made that the loop has not issued yet, in the core's order (batches
  // to one journalnode must reach its channel in txid order).
  std::deque<WriterRequest> outbox_;                          // GUARDED_BY(mu_)
  int64_t wake_at_ns_ = -1;                                   // GUARDED_BY(mu_)
  // An Append or a reply since the loop's last Tick: the core forms batches on the next.
  bool kick_ = false;                                         // GUARDED_BY(mu_)
  std::array<std::optional<Status>, 3> done_;                 // GUARDED_BY(mu_), by WriterOp
  int64_t notified_commit_ = 0;                               // GUARDED_BY(mu_)
  // The first failure the core reported before Close (Close itself is not a failure).
  Status failure_;                                            // GUARDED_BY(mu_)
  int blocked_appends_ = 0;                                   // GUARDED_BY(mu_)
  bool closing_ = false;                                      // GUARDED_BY(mu_)
  bool stop_loop_ = false;                                    // GUARDED_BY(mu_)
  // Close's final heartbeats not answered yet.
  std::unordered_set<int64_t> final_heartbeats_;              // GUARDED_BY(mu_)
  std::thread loop_;
};

}  // namespace qj::jn::internal
