// Internal to journalnode/client: the QuorumWriter implementation class, shared by
// quorum_writer.cc (segments and the write path) and writer_recovery.cc (becoming writer,
// recovery, Open). Users include quorum_writer.h only.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "journalnode/client/journal_channel.h"
#include "journalnode/client/quorum_writer.h"

namespace qj::jn::internal {

inline constexpr int64_t kRetryBackoffMs = 50;

// Failures that say nothing about the journalnode's state (it may not have seen the call).
inline bool IsTransient(const Status& s) {
  return s.code() == StatusCode::kNetworkError || s.code() == StatusCode::kTimedOut ||
         s.code() == StatusCode::kUnavailable;
}

// Threads, locking and the write path: see the top of quorum_writer.cc.
class QuorumWriterImpl final : public QuorumWriter {
 public:
  QuorumWriterImpl(QuorumOptions opts, NamespaceInfo ns)
      : opts_(std::move(opts)), ns_(std::move(ns)), channels_(MakeChannels(opts_)) {
    nodes_.resize(channels_.size());
    stats_.acked_txid.assign(channels_.size(), -1);
    stats_.in_pipeline.assign(channels_.size(), false);
    for (auto& c : channels_) {
      c->SetSentCallback([this] { loop_cv_.notify_all(); });
    }
  }
  ~QuorumWriterImpl() override { Close(); }

  Status BecomeWriterAndRecover();
  void StartLoop() {
    loop_ = std::thread([this] { BatchLoop(); });
  }

  int64_t epoch() const override { return epoch_; }
  int64_t last_txid() const override {
    std::lock_guard<std::mutex> l(mu_);
    return last_txid_;
  }
  int64_t committed_txid() const override {
    std::lock_guard<std::mutex> l(mu_);
    return committed_txid_;
  }
  Status health() const override {
    std::lock_guard<std::mutex> l(mu_);
    return health_;
  }
  Status StartSegment(int64_t first_txid) override;
  Status Append(int64_t txid, uint16_t op, std::string_view payload) override;
  Status WaitCommitted(int64_t txid, int64_t timeout_ms) override;
  Status FinalizeSegment() override;
  Status Purge(int64_t min_txid_to_keep) override;
  WriterStats stats() const override;
  void Close() override;

 private:
  struct Entry {
    int64_t txid;
    std::string bytes;  // the encoded record
    int64_t append_ns;
    // Record bytes this writer appended up to and including this entry (queued-bytes stats).
    int64_t cum_bytes = 0;
  };
  // The writer's view of one journalnode in the current segment.
  struct Node {
    int64_t acked = -1;        // highest txid durable on it (this segment)
    int64_t sent = -1;         // highest txid handed to its channel (this generation)
    bool in_pipeline = false;  // takes part in the current segment
    int64_t generation = 0;    // bumped on failure: replies of older batches are ignored
    int inflight = 0;          // journal calls of this generation not answered yet
    bool probing = false;      // after a failure: one batch at a time until it answers
    int64_t retry_at_ns = 0;   // no batch before this (after a failure)
    int64_t last_call_ns = 0;  // for idle heartbeats
    // When its acknowledged txid last advanced (or it joined the segment): a full buffer
    // drops only nodes that lag the commit point AND have made no progress for a while.
    int64_t last_progress_ns = 0;
    // Missed startLogSegment for a transient reason (network): retried before batches.
    bool needs_start = false;
    int64_t max_sent = -1;  // highest txid ever handed to its channel (this segment)
    // It answered OK to startLogSegment of the current segment: its open segment holds
    // only what this writer sent.
    bool started = false;
    // The latest startLogSegment answer (possibly arriving after StartSegment returned).
    int64_t start_answer_txid = -1;
    Status start_answer;
    bool heartbeat_inflight = false;  // at most one unanswered heartbeat per node
  };
  struct Batch {
    int node;
    int64_t generation;
    int64_t first;
    int64_t last;
    std::shared_ptr<const std::string> records;  // null: a startLogSegment retry
  };

  int64_t NowNs() const { return opts_.clock->MonotonicNanos(); }
  std::string Who() const {
    return opts_.name + " " + opts_.journal_id + " epoch=" + std::to_string(epoch_);
  }
  WriterHeader HeaderLocked() const { return WriterHeader{epoch_, committed_txid_}; }
  WriterHeader Header() const {
    std::lock_guard<std::mutex> l(mu_);
    return HeaderLocked();
  }
  std::vector<JournalChannel*> Channels() const { return ChannelPointers(channels_); }
  // Fails the writer for good. REQUIRES mu_.
  void FailLocked(const Status& s);
  void Fail(const Status& s) {
    std::lock_guard<std::mutex> l(mu_);
    FailLocked(s);
  }
  void BatchLoop();
  // Picks the batches and heartbeats to send now. REQUIRES mu_.
  void CollectWorkLocked(std::vector<Batch>* batches, std::vector<int>* heartbeats);
  void OnJournalReply(const Batch& b, const Reply<Void>& r);
  void OnStartReply(const Batch& b, const Reply<Void>& r);
  // Records node i's answer to startLogSegment(txid); applies it if that segment is open.
  void OnSegmentStartAnswer(int i, int64_t txid, const Status& s);
  void ApplyStartAnswerLocked(int i);
  // Fails the writer if fewer than a majority remain in the segment. REQUIRES mu_.
  void CheckPipelineMajorityLocked(const std::string& why);
  void OnHeartbeatReply(int node, const Reply<Void>& r);
  // Recomputes the committed txid from the nodes' acks and trims the buffer. REQUIRES mu_.
  void AdvanceCommitLocked();
  void TrimBufferLocked();
  void MakeRoomLocked();
  int64_t BufferFrontTxid() const { return buffer_.empty() ? last_txid_ + 1 : buffer_[0].txid; }

  const QuorumOptions opts_;
  const NamespaceInfo ns_;
  std::vector<std::unique_ptr<JournalChannel>> channels_;
  int64_t epoch_ = 0;  // set once by BecomeWriterAndRecover, read-only after

  mutable std::mutex mu_;
  // Notified by Append, replies, channel sends, failure, Close.
  std::condition_variable loop_cv_;
  // Notified when committed_txid_ advances, the buffer shrinks, or the writer fails.
  // Waited on by Append's back-pressure and the segment calls.
  std::condition_variable commit_cv_;
  // WaitCommitted callers, by the txid each waits for, each with its own condition
  // variable: a commit wakes only the callers it satisfies (with many concurrent clients,
  // one shared condition variable woke every waiter on every commit). Notified by
  // AdvanceCommitLocked (the satisfied ones) and WakeAllWaitersLocked (failure, Close,
  // finalize).
  std::multimap<int64_t, std::condition_variable*> commit_waiters_;  // GUARDED_BY(mu_)
  void WakeAllWaitersLocked();
  Status health_;               // GUARDED_BY(mu_)
  bool closing_ = false;        // GUARDED_BY(mu_)
  int64_t last_txid_ = 0;       // GUARDED_BY(mu_)
  int64_t committed_txid_ = 0;  // GUARDED_BY(mu_)
  int64_t segment_start_ = -1;  // GUARDED_BY(mu_), -1 when no segment is open
  std::deque<Entry> buffer_;    // GUARDED_BY(mu_): not yet acked by every node
  size_t buffer_bytes_ = 0;     // GUARDED_BY(mu_)
  int64_t appended_bytes_ = 0;  // GUARDED_BY(mu_): every record byte appended, ever
  std::vector<Node> nodes_;     // GUARDED_BY(mu_)
  WriterStats stats_;           // GUARDED_BY(mu_)
  std::thread loop_;
};

}  // namespace qj::jn::internal
