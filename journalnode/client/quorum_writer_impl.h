// Internal to journalnode/client: the QuorumWriter the daemons use, a thin driver of
// WriterCore (writer_core.h), which makes every protocol decision. Users include
// quorum_writer.h only.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "common/mutex.h"
#include "common/thread_annotations.h"
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
  Status Open() EXCLUDES(mu_);

  int64_t epoch() const override EXCLUDES(mu_);
  int64_t last_txid() const override EXCLUDES(mu_);
  int64_t committed_txid() const override EXCLUDES(mu_);
  Status health() const override EXCLUDES(mu_);
  Status StartSegment(int64_t first_txid) override EXCLUDES(mu_);
  Status Append(int64_t txid, uint16_t op, std::string_view payload) override EXCLUDES(mu_);
  Status WaitCommitted(int64_t txid, int64_t timeout_ms) override EXCLUDES(mu_);
  Status FinalizeSegment() override EXCLUDES(mu_);
  Status Purge(int64_t min_txid_to_keep) override EXCLUDES(mu_);
  WriterStats stats() const override EXCLUDES(mu_);
  void Close() override EXCLUDES(mu_);

 private:
  int64_t NowNs() const { return opts_.clock->MonotonicNanos(); }
  std::string Who() const EXCLUDES(mu_);
  Status ClosedStatus() const REQUIRES(mu_);
  // A WaitCommitted caller, on its own stack while it waits. Registered in
  // commit_waiters_ under mu_; whoever takes it out of the map (a commit that satisfies
  // it, a failure, Close) hands it exactly once, possibly after releasing mu_, and that
  // hand is the last touch of the record by anyone but its caller (as rpc.cc's
  // WorkerPool hands an idle worker its task).
  struct CommitWaiter {
    Mutex mu;
    CondVar cv;
    bool handed GUARDED_BY(mu) = false;
    // Set under the writer's mu_ before the record is handed, read by its caller after
    // it sees `handed`: the commit covers its txid (else: re-check under mu_).
    bool committed = false;
  };
  using WakeList = std::vector<CommitWaiter*>;
  static void Hand(CommitWaiter* w);

  // Collects the core's output after an event: queues its sends for the loop, records
  // finished client operations, remembers the timer, and wakes whoever the event
  // concerns (commit waiters, a blocked Append, the loop). The commit waiters a new
  // commit satisfies are taken out of commit_waiters_ and, with `defer`, appended to it
  // for the caller to Hand after it releases mu_ (so that a woken caller does not block
  // on mu_ at once); without, handed here.
  // With `caller_dispatches`, sends the event produced do not wake the loop: the caller
  // issues them itself (DispatchOutboxLocked).
  void AfterEventLocked(WakeList* defer = nullptr, bool caller_dispatches = false) REQUIRES(mu_);
  // Issues every queued request, in order, with mu_ released; returns with it held. Only
  // one thread at a time (dispatching_).
  void DispatchOutboxLocked(std::vector<WriterRequest>* sending) REQUIRES(mu_);
  // Waits until the core reports client operation `op` done (or Close).
  Status WaitDoneLocked(WriterOp op) REQUIRES(mu_);
  void WakeAllWaitersLocked() REQUIRES(mu_);
  // The loop thread: sends what the core asked for, in order, and fires its timer.
  void Loop() EXCLUDES(mu_);
  // Issues one request on its channel; the reply comes back through OnReply.
  void Dispatch(const WriterRequest& r) EXCLUDES(mu_);
  void OnReply(int64_t id, const WriterReply& reply) EXCLUDES(mu_);

  const QuorumOptions opts_;
  std::vector<std::unique_ptr<JournalChannel>> channels_;

  mutable Mutex mu_;
  WriterCore core_ GUARDED_BY(mu_);
  // Signalled when sends are queued, the timer moves earlier, or the loop must stop.
  CondVar loop_cv_;
  // Signalled when a client operation is done, room may have appeared in the core's
  // buffer (commits, acks), the writer fails, or Close; waited on by StartSegment,
  // FinalizeSegment, Open, a blocked Append and Close.
  CondVar state_cv_;
  // WaitCommitted callers, by the txid each waits for, each with its own record: a commit
  // wakes only the callers it satisfies (with many concurrent clients, one shared
  // condition variable woke every waiter on every commit).
  std::multimap<int64_t, CommitWaiter*> commit_waiters_ GUARDED_BY(mu_);
  // The core's committed txid, published for readers that do not take mu_
  // (committed_txid(), WaitCommitted's fast path). Written under mu_; only grows.
  std::atomic<int64_t> committed_pub_{0};
  // True once failure_ is set (set once, never cleared): health() reads failure_ under
  // mu_ only then, so a healthy writer's health() takes no lock.
  std::atomic<bool> failed_{false};
  // Requests the core made that the loop has not issued yet, in the core's order (batches
  // to one journalnode must reach its channel in txid order).
  std::deque<WriterRequest> outbox_ GUARDED_BY(mu_);
  // A thread is issuing requests taken from outbox_: the loop, or an Append that found
  // the pipeline idle. One at a time, so that a journalnode's batches reach its channel in
  // txid order.
  bool dispatching_ GUARDED_BY(mu_) = false;
  int64_t wake_at_ns_ GUARDED_BY(mu_) = -1;
  // An Append or a reply since the loop's last Tick: the core forms batches on the next.
  bool kick_ GUARDED_BY(mu_) = false;
  // By WriterOp.
  std::array<std::optional<Status>, 3> done_ GUARDED_BY(mu_);
  int64_t notified_commit_ GUARDED_BY(mu_) = 0;
  // The first failure the core reported before Close (Close itself is not a failure).
  Status failure_ GUARDED_BY(mu_);
  int blocked_appends_ GUARDED_BY(mu_) = 0;
  bool closing_ GUARDED_BY(mu_) = false;
  bool stop_loop_ GUARDED_BY(mu_) = false;
  // Close's final heartbeats not answered yet.
  std::unordered_set<int64_t> final_heartbeats_ GUARDED_BY(mu_);
  std::thread loop_;
};

}  // namespace qj::jn::internal
