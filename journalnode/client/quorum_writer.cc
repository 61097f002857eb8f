// The quorum writer: becoming writer, recovery (see recovery.h for the choice) and the
// pipelined, group-committed write path. Contract in quorum_writer.h.
//
// Threads: the caller's threads (Append, WaitCommitted, StartSegment, ...), one batching
// thread ("qj-writer") that forms batches and heartbeats, and each channel's sender and
// receiver threads, which run the reply callbacks. One mutex (mu_) guards all writer
// state; it is never held while calling into a channel (a channel may run a callback,
// which takes mu_, on the calling thread).
//
// Write path. Appended edits sit in buffer_ (encoded) until every node in the segment has
// acknowledged them. For each node the batching thread keeps `sent` (last txid handed to
// its channel) and `acked` (last txid it fdatasync'ed); whenever the node's channel has
// nothing queued and fewer than max_inflight_batches calls are unanswered, it gets the
// next batch [sent+1, ...] up to max_batch_bytes, so batches are pipelined and whatever
// arrived meanwhile forms the next one (group commit). The
// committed txid is the majority-th highest `acked`. A failed batch starts a new
// generation for that node (answers to older batches are ignored) and resends from what
// the node says it expects (OutOfSync.expectedTxId), or from `acked` after a network
// error; a node that needs txids no longer buffered, or refuses the segment, leaves the
// pipeline until the next segment. StaleEpoch anywhere fences the writer.
#include <glog/logging.h>
#include <pthread.h>

#include <algorithm>
#include <chrono>

#include "journalnode/client/quorum_call.h"
#include "journalnode/client/quorum_writer_impl.h"

namespace qj::jn::internal {

void QuorumWriterImpl::FailLocked(const Status& s) {
  if (!health_.ok()) return;
  health_ = s.ok() ? Status::IllegalState("writer failed") : s;
  LOG(WARNING) << Who() << ": writer failed: " << health_;
  loop_cv_.notify_all();
  WakeAllWaitersLocked();
}

void QuorumWriterImpl::WakeAllWaitersLocked() {
  commit_cv_.notify_all();
  for (auto& [txid, cv] : commit_waiters_) cv->notify_one();
}

// --- Segments. ---

Status QuorumWriterImpl::StartSegment(int64_t first_txid) {
  WriterHeader h;
  {
    std::lock_guard<std::mutex> l(mu_);
    QJ_RETURN_IF_ERROR(health_);
    if (segment_start_ >= 0) {
      return Status::IllegalState(Who() + ": segment " + std::to_string(segment_start_) +
                                  " is still open");
    }
    // An empty log (nothing ever written) may start after an existing image
    // (namenode --initialize_shared_edits).
    const bool empty_log_start = last_txid_ == 0 && first_txid > 1;
    if (first_txid != last_txid_ + 1 && !empty_log_start) {
      return Status::InvalidArgument(Who() + ": segment must start at " +
                                     std::to_string(last_txid_ + 1) + ", not " +
                                     std::to_string(first_txid));
    }
    h = HeaderLocked();
  }
  const auto chans = Channels();
  // A majority is enough; a node that has not answered yet stays in the pipeline (its
  // channel delivers startLogSegment before any batch, and a failure shows up there).
  auto r = CallQuorum<Void>(chans, MajorityOf(chans.size()), opts_.write_timeout_ms,
                            Who() + ": startLogSegment " + std::to_string(first_txid),
                            [&](JournalChannel& c, ReplyCallback<Void> cb) {
                              const int i = c.index();
                              c.StartLogSegment(h, first_txid, ns_.layout_version,
                                                [this, cb, i, first_txid](Reply<Void> rep) {
                                                  OnSegmentStartAnswer(i, first_txid, rep.status);
                                                  cb(std::move(rep));
                                                });
                            });
  std::lock_guard<std::mutex> l(mu_);
  if (r.successes() < MajorityOf(chans.size())) {
    FailLocked(r.status);
    return health_;
  }
  segment_start_ = first_txid;
  if (last_txid_ == 0) last_txid_ = first_txid - 1;
  buffer_.clear();
  buffer_bytes_ = 0;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    Node& n = nodes_[i];
    // A node that has not answered yet stays in: its channel delivers startLogSegment
    // before any batch, and its answer is applied when it comes.
    n.in_pipeline = true;
    n.started = false;
    n.needs_start = false;
    n.retry_at_ns = 0;
    n.acked = n.sent = n.max_sent = first_txid - 1;
    n.last_progress_ns = NowNs();
    n.generation++;
    n.inflight = 0;
    n.probing = false;
    if (n.start_answer_txid == first_txid) ApplyStartAnswerLocked(static_cast<int>(i));
  }
  VLOG(1) << Who() << ": started segment " << first_txid;
  return health_;
}

void QuorumWriterImpl::OnSegmentStartAnswer(int i, int64_t txid, const Status& s) {
  std::lock_guard<std::mutex> l(mu_);
  nodes_[i].start_answer_txid = txid;
  nodes_[i].start_answer = s;
  if (segment_start_ == txid) ApplyStartAnswerLocked(i);
}

void QuorumWriterImpl::ApplyStartAnswerLocked(int i) {
  Node& n = nodes_[i];
  if (!n.in_pipeline || n.started) return;
  const Status& s = n.start_answer;
  if (s.ok()) {
    n.started = true;
    return;
  }
  if (s.IsStaleEpoch()) {
    FailLocked(s.Prepend(Who() + ": fenced by a newer writer"));
    return;
  }
  // Batches sent behind it will fail too; start over once it has the segment.
  n.generation++;
  n.inflight = 0;
  n.sent = n.acked;
  if (IsTransient(s)) {
    n.needs_start = true;
    n.retry_at_ns = NowNs() + kRetryBackoffMs * kNanosPerMilli;
    VLOG(1) << Who() << ": jn" << i << " missed startLogSegment " << segment_start_
            << ", will retry: " << s;
  } else {
    LOG(WARNING) << Who() << ": jn" << i << " " << channels_[i]->address().ToString()
                 << " left out of segment " << segment_start_ << ": " << s;
    n.in_pipeline = false;
    CheckPipelineMajorityLocked("jn" + std::to_string(i) + ": " + s.ToString());
  }
}

void QuorumWriterImpl::CheckPipelineMajorityLocked(const std::string& why) {
  int in_pipeline = 0;
  for (const Node& x : nodes_) in_pipeline += x.in_pipeline ? 1 : 0;
  if (in_pipeline < MajorityOf(nodes_.size())) {
    FailLocked(Status::OutOfSync(Who() + ": only " + std::to_string(in_pipeline) + " of " +
                                 std::to_string(nodes_.size()) +
                                 " journalnodes remain in the segment; last: " + why));
  }
}

Status QuorumWriterImpl::FinalizeSegment() {
  int64_t start, end;
  {
    std::lock_guard<std::mutex> l(mu_);
    QJ_RETURN_IF_ERROR(health_);
    if (segment_start_ < 0) return Status::IllegalState(Who() + ": no segment open");
    if (last_txid_ < segment_start_) {
      return Status::InvalidArgument(Who() + ": segment " + std::to_string(segment_start_) +
                                     " holds no edits; append one before finalizing");
    }
    start = segment_start_;
    end = last_txid_;
  }
  QJ_RETURN_IF_ERROR(WaitCommitted(end, opts_.write_timeout_ms));
  WriterHeader h;
  {
    std::lock_guard<std::mutex> l(mu_);
    segment_start_ = -1;  // no more batches for this segment
    h = HeaderLocked();
  }
  const auto chans = Channels();
  auto r = CallQuorum<Void>(
      chans, MajorityOf(chans.size()), opts_.write_timeout_ms,
      Who() + ": finalizeLogSegment " + std::to_string(start) + "-" + std::to_string(end),
      [&](JournalChannel& c, ReplyCallback<Void> cb) { c.FinalizeLogSegment(h, start, end, cb); });
  std::lock_guard<std::mutex> l(mu_);
  if (r.successes() < MajorityOf(chans.size())) {
    FailLocked(r.status);
    return health_;
  }
  buffer_.clear();
  buffer_bytes_ = 0;
  for (auto& n : nodes_) {
    n.in_pipeline = false;
    n.generation++;
    n.inflight = 0;
  }
  WakeAllWaitersLocked();
  VLOG(1) << Who() << ": finalized segment " << start << "-" << end;
  return Status::OK();
}

Status QuorumWriterImpl::Purge(int64_t min_txid_to_keep) {
  QJ_RETURN_IF_ERROR(health());
  const WriterHeader h = Header();
  const auto chans = Channels();
  auto r = CallQuorum<Void>(
      chans, MajorityOf(chans.size()), opts_.write_timeout_ms,
      Who() + ": purgeLogs " + std::to_string(min_txid_to_keep),
      [&](JournalChannel& c, ReplyCallback<Void> cb) { c.PurgeLogs(h, min_txid_to_keep, cb); });
  if (r.status.IsStaleEpoch()) Fail(r.status);
  if (r.successes() >= MajorityOf(chans.size())) return Status::OK();
  return r.status;
}

// --- The write path. ---

Status QuorumWriterImpl::Append(int64_t txid, uint16_t op, std::string_view payload) {
  if (payload.size() > kMaxPayloadSize) {
    return Status::InvalidArgument(Who() + ": payload of txid " + std::to_string(txid) + " is " +
                                   std::to_string(payload.size()) + " bytes, above the limit");
  }
  std::unique_lock<std::mutex> l(mu_);
  QJ_RETURN_IF_ERROR(health_);
  if (segment_start_ < 0) return Status::IllegalState(Who() + ": Append with no segment open");
  if (txid != last_txid_ + 1) {
    return Status::InvalidArgument(Who() + ": Append of txid " + std::to_string(txid) +
                                   ", expected " + std::to_string(last_txid_ + 1));
  }
  // Back-pressure: while the buffer is full, drop lagging nodes to make room, else wait
  // for the majority to commit.
  while (true) {
    QJ_RETURN_IF_ERROR(health_);
    if (closing_) return Status::IllegalState(Who() + ": writer closed");
    if (buffer_.empty() || buffer_bytes_ + payload.size() <= opts_.max_queue_bytes) break;
    MakeRoomLocked();
    if (buffer_.empty() || buffer_bytes_ + payload.size() <= opts_.max_queue_bytes) break;
    // Woken by commits and acks; the timeout lets MakeRoomLocked see a stall ripen.
    commit_cv_.wait_for(l, std::chrono::milliseconds(10));
  }
  Entry e{txid, std::string(), NowNs()};
  AppendRecord(&e.bytes, txid, op, payload);
  buffer_bytes_ += e.bytes.size();
  appended_bytes_ += static_cast<int64_t>(e.bytes.size());
  e.cum_bytes = appended_bytes_;
  buffer_.push_back(std::move(e));
  last_txid_ = txid;
  loop_cv_.notify_all();
  return Status::OK();
}

Status QuorumWriterImpl::WaitCommitted(int64_t txid, int64_t timeout_ms) {
  std::unique_lock<std::mutex> l(mu_);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    if (committed_txid_ >= txid) return Status::OK();
    QJ_RETURN_IF_ERROR(health_);
    if (closing_) return Status::IllegalState(Who() + ": writer closed");
    if (txid > last_txid_) {
      return Status::InvalidArgument(Who() + ": WaitCommitted(" + std::to_string(txid) +
                                     ") past the last appended txid " + std::to_string(last_txid_));
    }
    std::condition_variable cv;
    auto it = commit_waiters_.emplace(txid, &cv);
    const std::cv_status woke = cv.wait_until(l, deadline);
    commit_waiters_.erase(it);
    if (woke == std::cv_status::timeout && committed_txid_ < txid) {
      QJ_RETURN_IF_ERROR(health_);
      return Status::TimedOut(Who() + ": txid " + std::to_string(txid) + " not committed after " +
                              std::to_string(timeout_ms) + " ms (committed " +
                              std::to_string(committed_txid_) + ")");
    }
  }
}

void QuorumWriterImpl::CollectWorkLocked(std::vector<Batch>* batches,
                                         std::vector<int>* heartbeats) {
  const int64_t now = NowNs();
  const int64_t hb_ns = opts_.heartbeat_interval_ms * kNanosPerMilli;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    Node& n = nodes_[i];
    const bool idle_channel = channels_[i]->queued_calls() == 0;
    if (segment_start_ >= 0 && n.in_pipeline && n.needs_start) {
      if (idle_channel && n.inflight == 0 && now >= n.retry_at_ns) {
        batches->push_back(
            Batch{static_cast<int>(i), n.generation, segment_start_, segment_start_ - 1, nullptr});
        n.inflight++;
        n.last_call_ns = now;
      }
      continue;
    }
    if (segment_start_ >= 0 && n.in_pipeline && n.sent < last_txid_ && idle_channel &&
        now >= n.retry_at_ns && !(n.probing && n.inflight > 0) &&
        n.inflight < std::max(1, opts_.max_inflight_batches)) {
      if (n.sent + 1 < BufferFrontTxid()) {
        LOG(WARNING) << Who() << ": jn" << i << " " << channels_[i]->address().ToString()
                     << " needs txid " << n.sent + 1 << ", no longer buffered (buffer starts at "
                     << BufferFrontTxid() << "); out until the next segment";
        n.in_pipeline = false;
        continue;
      }
      const int64_t first = n.sent + 1;
      // Nodes in step need the same batch: build it once and share the bytes.
      std::shared_ptr<const std::string> records;
      int64_t last = 0;
      for (const Batch& b : *batches) {
        if (b.records != nullptr && b.first == first) {
          records = b.records;
          last = b.last;
          break;
        }
      }
      if (records == nullptr) {
        auto built = std::make_shared<std::string>();
        size_t idx = static_cast<size_t>(first - BufferFrontTxid());
        while (idx < buffer_.size() &&
               (built->empty() ||
                built->size() + buffer_[idx].bytes.size() <= opts_.max_batch_bytes)) {
          built->append(buffer_[idx].bytes);
          ++idx;
        }
        last = first + static_cast<int64_t>(idx) -
               static_cast<int64_t>(first - BufferFrontTxid()) - 1;
        records = std::move(built);
      }
      batches->push_back(Batch{static_cast<int>(i), n.generation, first, last, records});
      n.sent = last;
      n.max_sent = std::max(n.max_sent, last);
      n.inflight++;
      n.last_call_ns = now;
    } else if (hb_ns > 0 && idle_channel && n.inflight == 0 && !n.heartbeat_inflight &&
               now - n.last_call_ns >= hb_ns) {
      heartbeats->push_back(static_cast<int>(i));
      n.heartbeat_inflight = true;
      n.last_call_ns = now;
    }
  }
}

void QuorumWriterImpl::BatchLoop() {
  pthread_setname_np(pthread_self(), "qj-writer");
  std::unique_lock<std::mutex> l(mu_);
  while (!closing_) {
    if (!health_.ok()) {
      loop_cv_.wait(l, [&] { return closing_; });
      break;
    }
    // A majority that does not ack the oldest uncommitted edit in time fails the writer.
    if (committed_txid_ < last_txid_ && !buffer_.empty()) {
      const int64_t idx = committed_txid_ + 1 - BufferFrontTxid();
      if (idx >= 0 && idx < static_cast<int64_t>(buffer_.size()) &&
          NowNs() - buffer_[idx].append_ns > opts_.write_timeout_ms * kNanosPerMilli) {
        FailLocked(Status::TimedOut(Who() + ": txid " + std::to_string(committed_txid_ + 1) +
                                    " not acknowledged by a majority within " +
                                    std::to_string(opts_.write_timeout_ms) + " ms"));
        continue;
      }
    }
    std::vector<Batch> batches;
    std::vector<int> heartbeats;
    CollectWorkLocked(&batches, &heartbeats);
    const WriterHeader h = HeaderLocked();
    const int64_t seg = segment_start_;
    if (!batches.empty() || !heartbeats.empty()) {
      l.unlock();
      for (const Batch& b : batches) {
        if (b.records == nullptr) {
          channels_[b.node]->StartLogSegment(h, seg, ns_.layout_version,
                                             [this, b](Reply<Void> r) { OnStartReply(b, r); });
          continue;
        }
        channels_[b.node]->Journal(h, seg, b.first, static_cast<int32_t>(b.last - b.first + 1),
                                   b.records, [this, b](Reply<Void> r) { OnJournalReply(b, r); });
      }
      for (int i : heartbeats) {
        channels_[i]->Heartbeat(h, [this, i](Reply<Void> r) { OnHeartbeatReply(i, r); });
      }
      l.lock();
      continue;
    }
    const int64_t wait_ms = opts_.heartbeat_interval_ms > 0
                                ? std::min<int64_t>(opts_.heartbeat_interval_ms, kRetryBackoffMs)
                                : kRetryBackoffMs;
    loop_cv_.wait_for(l, std::chrono::milliseconds(wait_ms));
  }
}

void QuorumWriterImpl::OnJournalReply(const Batch& b, const Reply<Void>& r) {
  std::lock_guard<std::mutex> l(mu_);
  if (r.status.IsStaleEpoch()) {
    FailLocked(r.status.Prepend(Who() + ": fenced by a newer writer"));
    return;
  }
  Node& n = nodes_[b.node];
  if (b.generation != n.generation) return;  // a batch from before a failure or segment
  n.inflight--;
  if (r.ok()) {
    if (b.last > n.acked) n.last_progress_ns = NowNs();
    n.acked = std::max(n.acked, b.last);
    if (n.probing) {
      LOG(INFO) << Who() << ": jn" << b.node << " caught up to txid " << b.last;
    }
    n.probing = false;
    AdvanceCommitLocked();
  } else {
    // Every later batch in flight will fail too: start a new generation from what the
    // journalnode says it expects, or from its last ack.
    n.generation++;
    n.inflight = 0;
    n.probing = true;
    const int64_t expected = r.expected_txid;
    // Its segment was opened by us and holds only what we sent, and the journalnode
    // expects txid E only once E-1 is fdatasync'ed: E-1 is durable there (the answer
    // that said so may have been lost).
    if (r.status.IsOutOfSync() && n.started && expected - 1 > n.acked &&
        expected - 1 <= n.max_sent && expected - 1 >= segment_start_) {
      n.acked = expected - 1;
      AdvanceCommitLocked();
    }
    // (A node that refuses exactly the txid it asked for is not going to take it.)
    if (r.status.IsOutOfSync() && expected > 0 && expected != b.first &&
        expected <= last_txid_ + 1 && expected >= BufferFrontTxid() && expected >= segment_start_) {
      n.sent = expected - 1;
      VLOG(1) << Who() << ": jn" << b.node << " expects txid " << expected << ", resending";
    } else if (r.status.IsOutOfSync() && expected > 0 && expected < BufferFrontTxid()) {
      LOG(WARNING) << Who() << ": jn" << b.node << " expects txid " << expected
                   << ", no longer buffered; out until the next segment";
      n.in_pipeline = false;
    } else if (r.status.IsOutOfSync() && expected < 0 && n.acked < segment_start_ &&
               segment_start_ >= 0) {
      // It never got startLogSegment (e.g. the request was lost): open it there first.
      n.needs_start = true;
      n.started = false;
      n.sent = n.acked;
      n.probing = false;
      VLOG(1) << Who() << ": jn" << b.node << " has no open segment, retrying startLogSegment";
    } else if (r.status.IsOutOfSync()) {
      LOG(WARNING) << Who() << ": jn" << b.node
                   << " out of sync, out until the next segment: " << r.status;
      n.in_pipeline = false;
    } else {
      n.sent = n.acked;
      n.retry_at_ns = NowNs() + kRetryBackoffMs * kNanosPerMilli;
      VLOG(1) << Who() << ": jn" << b.node << " batch " << b.first << "-" << b.last
              << " failed: " << r.status;
    }
    CheckPipelineMajorityLocked("jn" + std::to_string(b.node) + ": " + r.status.ToString());
  }
  loop_cv_.notify_all();
}

void QuorumWriterImpl::OnStartReply(const Batch& b, const Reply<Void>& r) {
  std::lock_guard<std::mutex> l(mu_);
  if (r.status.IsStaleEpoch()) {
    FailLocked(r.status.Prepend(Who() + ": fenced by a newer writer"));
    return;
  }
  Node& n = nodes_[b.node];
  if (b.generation != n.generation) return;
  n.inflight--;
  if (r.ok()) {
    n.needs_start = false;
    n.started = true;
    LOG(INFO) << Who() << ": jn" << b.node << " joined segment " << b.first << " late";
  } else if (IsTransient(r.status)) {
    n.retry_at_ns = NowNs() + kRetryBackoffMs * kNanosPerMilli;
  } else {
    LOG(WARNING) << Who() << ": jn" << b.node << " refused segment " << b.first
                 << ", out until the next segment: " << r.status;
    n.in_pipeline = false;
    n.needs_start = false;
  }
  loop_cv_.notify_all();
}

void QuorumWriterImpl::OnHeartbeatReply(int node, const Reply<Void>& r) {
  std::lock_guard<std::mutex> l(mu_);
  nodes_[node].heartbeat_inflight = false;
  if (r.status.IsStaleEpoch()) {
    FailLocked(r.status.Prepend(Who() + ": fenced by a newer writer"));
  } else if (!r.ok()) {
    VLOG(1) << Who() << ": heartbeat to jn" << node << " failed: " << r.status;
  }
}

void QuorumWriterImpl::AdvanceCommitLocked() {
  std::vector<int64_t> acked;
  for (const Node& n : nodes_) acked.push_back(n.in_pipeline ? n.acked : -1);
  std::sort(acked.begin(), acked.end(), std::greater<int64_t>());
  const int64_t candidate = acked[MajorityOf(acked.size()) - 1];
  if (candidate > committed_txid_) {
    const int64_t edits = candidate - committed_txid_;
    stats_.batches++;
    stats_.edits += edits;
    int bucket = 0;
    while ((int64_t{2} << bucket) <= edits) ++bucket;
    if (stats_.batch_size_log2_histogram.size() <= static_cast<size_t>(bucket)) {
      stats_.batch_size_log2_histogram.resize(bucket + 1);
    }
    stats_.batch_size_log2_histogram[bucket]++;
    bool timed = false;
    for (int64_t t = std::max(committed_txid_ + 1, BufferFrontTxid()); t <= candidate; ++t) {
      const size_t idx = static_cast<size_t>(t - BufferFrontTxid());
      if (idx >= buffer_.size()) break;
      stats_.bytes += buffer_[idx].bytes.size();
      if (!timed) {
        timed = true;
        const int64_t us = std::max<int64_t>(0, (NowNs() - buffer_[idx].append_ns) / 1000);
        int b = 0;
        while ((int64_t{2} << b) <= us) ++b;
        auto& hist = stats_.commit_latency_log2_us_histogram;
        if (hist.size() <= static_cast<size_t>(b)) hist.resize(b + 1);
        hist[b]++;
        stats_.commit_latency_us_sum += us;
      }
    }
    committed_txid_ = candidate;
    commit_cv_.notify_all();
    for (auto it = commit_waiters_.begin();
         it != commit_waiters_.end() && it->first <= committed_txid_; ++it) {
      it->second->notify_one();
    }
  }
  TrimBufferLocked();
}

void QuorumWriterImpl::TrimBufferLocked() {
  // Keep what some node in the pipeline still lacks; never drop uncommitted edits.
  int64_t keep_after = committed_txid_;
  for (const Node& n : nodes_) {
    if (n.in_pipeline) keep_after = std::min(keep_after, n.acked);
  }
  bool trimmed = false;
  while (!buffer_.empty() && buffer_.front().txid <= keep_after) {
    buffer_bytes_ -= buffer_.front().bytes.size();
    buffer_.pop_front();
    trimmed = true;
  }
  if (trimmed) commit_cv_.notify_all();
}

void QuorumWriterImpl::MakeRoomLocked() {
  // The buffer is full: nodes that lag behind the commit point and have not advanced for
  // kStallMs leave the pipeline (the majority goes on; they rejoin at the next segment),
  // and what they held is dropped. A node that merely has a batch in flight is not
  // dropped: with a minority paused, dropping a slow-but-live node would stall the
  // majority. Append waits (and retries this) meanwhile.
  constexpr int64_t kStallMs = 100;
  const int64_t now = NowNs();
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].in_pipeline && nodes_[i].acked < committed_txid_ &&
        now - nodes_[i].last_progress_ns >= kStallMs * kNanosPerMilli) {
      LOG(WARNING) << Who() << ": jn" << i << " lags at txid " << nodes_[i].acked << " (committed "
                   << committed_txid_ << "), buffer of " << buffer_bytes_
                   << " bytes full; out until the next segment";
      nodes_[i].in_pipeline = false;
      nodes_[i].generation++;
      nodes_[i].inflight = 0;
    }
  }
  TrimBufferLocked();
}

WriterStats QuorumWriterImpl::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  WriterStats s = stats_;
  s.queued_bytes.assign(nodes_.size(), 0);
  s.lag_ms.assign(nodes_.size(), 0);
  const int64_t now = NowNs();
  for (size_t i = 0; i < nodes_.size(); ++i) {
    s.acked_txid[i] = nodes_[i].acked;
    s.in_pipeline[i] = nodes_[i].in_pipeline;
    if (!nodes_[i].in_pipeline || buffer_.empty()) continue;
    // The buffer holds every edit some node in the pipeline lacks, with dense txids.
    const int64_t first = std::max(nodes_[i].acked + 1, BufferFrontTxid());
    const int64_t idx = first - BufferFrontTxid();
    if (idx >= static_cast<int64_t>(buffer_.size())) continue;
    const Entry& oldest = buffer_[static_cast<size_t>(idx)];
    s.queued_bytes[i] = buffer_.back().cum_bytes - oldest.cum_bytes +
                        static_cast<int64_t>(oldest.bytes.size());
    s.lag_ms[i] = std::max<int64_t>(0, (now - oldest.append_ns) / kNanosPerMilli);
  }
  return s;
}

void QuorumWriterImpl::Close() {
  bool flush = false;
  WriterHeader h;
  {
    std::lock_guard<std::mutex> l(mu_);
    flush = !closing_ && health_.ok() && epoch_ > 0;
    h = HeaderLocked();
  }
  if (flush) {
    // Best effort: hand the last commit point to the journalnodes so that readers can
    // see every committed edit without waiting for the next writer.
    const auto chans = Channels();
    (void)CallQuorum<Void>(chans, static_cast<int>(chans.size()), opts_.rpc_timeout_ms,
                           Who() + ": final heartbeat",
                           [&](JournalChannel& c, ReplyCallback<Void> cb) { c.Heartbeat(h, cb); });
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    closing_ = true;
    loop_cv_.notify_all();
    WakeAllWaitersLocked();
  }
  if (loop_.joinable()) loop_.join();
  for (auto& c : channels_) c->Stop();
}

}  // namespace qj::jn::internal
