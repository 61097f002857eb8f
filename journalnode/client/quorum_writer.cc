// The quorum writer the daemons use: a thin driver of WriterCore. Contract in
// quorum_writer.h; the protocol (epoch, recovery, batching, commit index, catch-up,
// heartbeats, the queue bound, the write timeout) is the core's, in writer_core.cc.
//
// The driver turns the core's events and actions into threads, channels and real time:
//   - client calls (Append, StartSegment, FinalizeSegment, Open) feed the core on the
//     caller's thread and, for the segment calls, block until the core reports them done;
//   - replies arrive on the channels' receiver threads and are fed to the core there;
//   - one loop thread ("qj-writer") issues the requests the core asks for, in the core's
//     order (a journalnode's batches must reach its channel in txid order, so only one
//     thread at a time issues them: dispatching_), and calls Tick() when the core's timer
//     is due, after Appends, and after replies that leave a node lacking edits
//     (HasUnsentWork): the core forms batches then (batch_on_events off), so that what
//     other callers append until the loop runs joins the batch;
//   - except for a lone edit: an Append that finds the pipeline idle (everything before
//     it committed, nothing queued or being issued) calls Tick() and issues the batch on
//     its own thread, saving the hand-off to the loop (the single-edit latency). Under
//     load edits find the pipeline busy and batch as above.
// One mutex (mu_) guards the core and the driver's state. It is never held while calling
// into a channel: a channel may run a callback, which takes mu_, on the calling thread.
// Commit waiters are woken after it is released: the receiver thread whose reply advanced
// the commit takes the satisfied waiters out of the map under mu_ and hands each its own
// record after unlocking; a woken WaitCommitted returns without taking mu_ again. The
// committed txid and "failed" are published in atomics, so committed_txid(), health() of
// a healthy writer and WaitCommitted of an already committed txid take no lock.
//
// Purge is the only call the core does not make: no protocol step depends on it. The
// driver runs it as a plain quorum call and hands a StaleEpoch refusal to the core.
#include <glog/logging.h>
#include <pthread.h>

#include <algorithm>
#include <chrono>

#include "common/edit_record.h"
#include "journalnode/client/quorum_call.h"
#include "journalnode/client/quorum_writer_impl.h"

namespace qj::jn {
namespace internal {

namespace {

// The loop wakes at least this often even with no timer set, so that a clock seam that
// does not follow real time (tests) cannot leave the core's timers unserved for long.
constexpr int64_t kMaxLoopSleepMs = 50;
// A blocked Append retries this often: the core drops a stalled node only when asked to
// make room, and the stall ripens with time, not with an event.
constexpr int64_t kAppendRetryMs = 10;

size_t OpIndex(WriterOp op) { return static_cast<size_t>(op); }

WriterCoreOptions CoreOptions(const QuorumOptions& q, const NamespaceInfo& ns) {
  WriterCoreOptions o = WriterCoreOptions::From(q, ns);
  // Batches are formed by the loop's Tick, after an Append or a reply wakes it: whatever
  // other callers appended meanwhile joins the batch (group commit).
  o.batch_on_events = false;
  return o;
}

}  // namespace

QuorumWriterImpl::QuorumWriterImpl(QuorumOptions opts, NamespaceInfo ns)
    : opts_(std::move(opts)), channels_(MakeChannels(opts_)), core_(CoreOptions(opts_, ns)) {}

std::string QuorumWriterImpl::Who() const {
  MutexLock l(&mu_);
  return core_.Who();
}

Status QuorumWriterImpl::ClosedStatus() const {
  return Status::IllegalState(core_.Who() + ": writer closed");
}

int64_t QuorumWriterImpl::epoch() const {
  MutexLock l(&mu_);
  return core_.epoch();
}

int64_t QuorumWriterImpl::last_txid() const {
  MutexLock l(&mu_);
  return core_.last_txid();
}

int64_t QuorumWriterImpl::committed_txid() const {
  return committed_pub_.load(std::memory_order_acquire);
}

Status QuorumWriterImpl::health() const {
  if (!failed_.load(std::memory_order_acquire)) return Status::OK();
  MutexLock l(&mu_);
  return failure_;
}

WriterStats QuorumWriterImpl::stats() const {
  MutexLock l(&mu_);
  return core_.stats(NowNs());
}

// --- Events in, actions out. ---

void QuorumWriterImpl::Hand(CommitWaiter* w) {
  MutexLock l(&w->mu);
  w->handed = true;
  w->cv.Signal();
}

void QuorumWriterImpl::AfterEventLocked(WakeList* defer, bool caller_dispatches) {
  WriterOutput out = core_.TakeOutput();
  bool wake_loop = false;
  // An ack trims the buffer: a blocked Append may fit now.
  bool wake_state = blocked_appends_ > 0;
  if (!out.sends.empty()) {
    if (!caller_dispatches) wake_loop = true;
    for (WriterRequest& r : out.sends) outbox_.push_back(std::move(r));
  }
  for (const auto& [op, s] : out.done) {
    done_[OpIndex(op)] = s;
    wake_state = true;
  }
  if (out.wake_at_ns >= 0 && (wake_at_ns_ < 0 || out.wake_at_ns < wake_at_ns_)) wake_loop = true;
  if (kick_) wake_loop = true;
  wake_at_ns_ = out.wake_at_ns;
  const int64_t committed = core_.committed_txid();
  if (committed > notified_commit_) {
    notified_commit_ = committed;
    committed_pub_.store(committed, std::memory_order_release);
    auto it = commit_waiters_.begin();
    for (; it != commit_waiters_.end() && it->first <= committed; ++it) {
      CommitWaiter* w = it->second;
      w->committed = true;
      if (defer != nullptr) {
        defer->push_back(w);
      } else {
        Hand(w);
      }
    }
    commit_waiters_.erase(commit_waiters_.begin(), it);
  }
  if (failure_.ok() && !closing_ && !core_.health().ok()) {
    failure_ = core_.health();
    failed_.store(true, std::memory_order_release);
    WakeAllWaitersLocked();
  }
  if (wake_state) state_cv_.SignalAll();
  if (wake_loop) loop_cv_.Signal();
}

void QuorumWriterImpl::WakeAllWaitersLocked() {
  state_cv_.SignalAll();
  // Each re-checks under mu_ (failure, Close).
  for (auto& [txid, w] : commit_waiters_) Hand(w);
  commit_waiters_.clear();
}

Status QuorumWriterImpl::WaitDoneLocked(WriterOp op) {
  std::optional<Status>& done = done_[OpIndex(op)];
  while (!done.has_value() && !closing_) state_cv_.Wait(&mu_);
  if (!done.has_value()) return ClosedStatus();
  Status s = std::move(*done);
  done.reset();
  return s;
}

void QuorumWriterImpl::DispatchOutboxLocked(std::vector<WriterRequest>* sending) {
  sending->assign(std::make_move_iterator(outbox_.begin()), std::make_move_iterator(outbox_.end()));
  outbox_.clear();
  dispatching_ = true;
  mu_.Unlock();
  for (const WriterRequest& r : *sending) Dispatch(r);
  sending->clear();
  mu_.Lock();
  dispatching_ = false;
}

void QuorumWriterImpl::Loop() {
  pthread_setname_np(pthread_self(), "qj-writer");
  std::vector<WriterRequest> sending;
  mu_.Lock();
  while (true) {
    // While an Append issues requests, what it leaves in the outbox is the loop's: it
    // signals loop_cv_ when done.
    if (!outbox_.empty() && !dispatching_) {
      DispatchOutboxLocked(&sending);
      continue;
    }
    if (stop_loop_) break;
    const int64_t now = NowNs();
    if (kick_ || (wake_at_ns_ >= 0 && now >= wake_at_ns_)) {
      const bool due = !kick_;
      kick_ = false;
      core_.Tick(now);
      AfterEventLocked();
      if (due && outbox_.empty() && wake_at_ns_ >= 0 && wake_at_ns_ <= now) {
        // The core asked to be woken again at once yet did nothing: do not spin on it.
        loop_cv_.WaitFor(&mu_, std::chrono::milliseconds(1));
      }
      continue;
    }
    int64_t sleep_ns = kMaxLoopSleepMs * kNanosPerMilli;
    if (wake_at_ns_ >= 0) sleep_ns = std::min(sleep_ns, wake_at_ns_ - now);
    loop_cv_.WaitFor(&mu_, std::chrono::nanoseconds(sleep_ns));
  }
  mu_.Unlock();
}

void QuorumWriterImpl::OnReply(int64_t id, const WriterReply& reply) {
  // Reused by this receiver thread: no allocation per reply once warm.
  thread_local WakeList wake;
  wake.clear();
  {
    MutexLock l(&mu_);
    if (!final_heartbeats_.empty() && final_heartbeats_.erase(id) > 0 &&
        final_heartbeats_.empty()) {
      state_cv_.SignalAll();
    }
    core_.OnReply(id, reply, NowNs());
    // The loop forms the next batch on Tick: wake it when a node lacks edits (what others
    // appended meanwhile joins that batch), not for a reply that leaves nothing to send
    // (e.g. a lone edit's acks); timers are the loop's own wake-ups.
    if (core_.HasUnsentWork()) kick_ = true;
    AfterEventLocked(&wake);
  }
  // Out of commit_waiters_, so nothing else hands them; each caller waits until handed,
  // so each record lives until then.
  for (CommitWaiter* w : wake) Hand(w);
  wake.clear();
}

void QuorumWriterImpl::Dispatch(const WriterRequest& r) {
  JournalChannel& c = *channels_[static_cast<size_t>(r.node)];
  const int64_t id = r.id;
  // Each channel call answers with its own Reply<T>; the core takes one WriterReply.
  auto answer = [this, id](auto fill) {
    return [this, id, fill](auto reply) {
      WriterReply w;
      w.status = std::move(reply.status);
      w.expected_txid = reply.expected_txid;
      fill(&w, reply.value);
      OnReply(id, w);
    };
  };
  auto nothing = [](WriterReply*, const Void&) {};
  switch (r.call) {
    case WriterCall::kGetJournalState:
      c.GetJournalState(answer([](WriterReply* w, const JournalState& v) { w->state = v; }));
      return;
    case WriterCall::kNewEpoch:
      c.NewEpoch(r.ns, r.epoch,
                 answer([](WriterReply* w, int64_t newest) { w->newest_segment = newest; }));
      return;
    case WriterCall::kPrepareRecovery:
      c.PrepareRecovery(r.header, r.segment_txid,
                        answer([](WriterReply* w, const PrepareResult& v) { w->prepare = v; }));
      return;
    case WriterCall::kAcceptRecovery:
      c.AcceptRecovery(r.header, r.segment,
                       channels_[static_cast<size_t>(r.from_node)]->address().ToString(),
                       r.origin_epoch, r.timeout_ms, answer(nothing));
      return;
    case WriterCall::kFinalizeLogSegment:
      c.FinalizeLogSegment(r.header, r.segment_txid, r.last_txid, answer(nothing));
      return;
    case WriterCall::kStartLogSegment:
      c.StartLogSegment(r.header, r.segment_txid, r.layout_version, answer(nothing));
      return;
    case WriterCall::kJournal:
      c.Journal(r.header, r.segment_txid, r.first_txid,
                static_cast<int32_t>(r.last_txid - r.first_txid + 1), r.records, answer(nothing));
      return;
    case WriterCall::kHeartbeat:
      c.Heartbeat(r.header, answer(nothing));
      return;
  }
}

// --- Client calls. ---

Status QuorumWriterImpl::Open() {
  loop_ = std::thread([this] { Loop(); });
  MutexLock l(&mu_);
  core_.Open(NowNs());
  AfterEventLocked();
  return WaitDoneLocked(WriterOp::kOpen);
}

Status QuorumWriterImpl::StartSegment(int64_t first_txid) {
  MutexLock l(&mu_);
  if (closing_) return ClosedStatus();
  done_[OpIndex(WriterOp::kStartSegment)].reset();
  QJ_RETURN_IF_ERROR(core_.StartSegment(first_txid, NowNs()));
  AfterEventLocked();
  return WaitDoneLocked(WriterOp::kStartSegment);
}

Status QuorumWriterImpl::FinalizeSegment() {
  MutexLock l(&mu_);
  if (closing_) return ClosedStatus();
  done_[OpIndex(WriterOp::kFinalizeSegment)].reset();
  QJ_RETURN_IF_ERROR(core_.FinalizeSegment(NowNs()));
  AfterEventLocked();
  return WaitDoneLocked(WriterOp::kFinalizeSegment);
}

Status QuorumWriterImpl::Append(int64_t txid, uint16_t op, std::string_view payload) {
  if (payload.size() > kMaxPayloadSize) {
    return Status::InvalidArgument(Who() + ": payload of txid " + std::to_string(txid) + " is " +
                                   std::to_string(payload.size()) + " bytes, above the limit");
  }
  std::string record;
  AppendRecord(&record, txid, op, payload);  // encoded outside the lock
  MutexLock l(&mu_);
  while (true) {
    if (closing_) return ClosedStatus();
    bool queued = false;
    const int64_t now = NowNs();
    const Status s = core_.AppendRecord(txid, &record, now, &queued);
    if (queued && !kick_ && !dispatching_ && outbox_.empty() &&
        core_.committed_txid() == txid - 1) {
      // A lone edit: batch and send it from here (see the top of this file).
      core_.Tick(now);
      AfterEventLocked(nullptr, /*caller_dispatches=*/true);
      if (!outbox_.empty() && !dispatching_) {
        thread_local std::vector<WriterRequest> sending;
        DispatchOutboxLocked(&sending);
        if (!outbox_.empty()) loop_cv_.Signal();
      }
      return s;
    }
    if (queued) kick_ = true;
    AfterEventLocked();
    if (!s.ok() || queued) return s;
    // The buffer is full: wait for commits and acks to make room.
    ++blocked_appends_;
    state_cv_.WaitFor(&mu_, std::chrono::milliseconds(kAppendRetryMs));
    --blocked_appends_;
  }
}

Status QuorumWriterImpl::WaitCommitted(int64_t txid, int64_t timeout_ms) {
  if (committed_pub_.load(std::memory_order_acquire) >= txid) return Status::OK();
  const int64_t deadline = NowNs() + timeout_ms * kNanosPerMilli;
  while (true) {
    CommitWaiter me;
    {
      MutexLock l(&mu_);
      if (core_.committed_txid() >= txid) return Status::OK();
      QJ_RETURN_IF_ERROR(failure_);
      if (closing_) return ClosedStatus();
      if (txid > core_.last_txid()) {
        return Status::InvalidArgument(core_.Who() + ": WaitCommitted(" + std::to_string(txid) +
                                       ") past the last appended txid " +
                                       std::to_string(core_.last_txid()));
      }
      if (NowNs() >= deadline) {
        return Status::TimedOut(core_.Who() + ": txid " + std::to_string(txid) +
                                " not committed after " + std::to_string(timeout_ms) +
                                " ms (committed " + std::to_string(core_.committed_txid()) + ")");
      }
      commit_waiters_.emplace(txid, &me);
    }
    bool handed;
    {
      MutexLock wl(&me.mu);
      // Also stops waiting when the published commit covers txid without a hand (it
      // cannot, as every advance hands its waiters; a guard, read at every wake-up).
      while (!me.handed && committed_pub_.load(std::memory_order_acquire) < txid &&
             opts_.clock->WaitUntil(&me.cv, &me.mu, deadline)) {
      }
      handed = me.handed;
    }
    if (handed && me.committed) return Status::OK();
    if (!handed) {
      // Deadline (or the guard): leave the map, unless a waker already took the record
      // out, in which case it hands it soon and the record must live until then.
      bool registered = false;
      {
        MutexLock l(&mu_);
        for (auto [it, end] = commit_waiters_.equal_range(txid); it != end; ++it) {
          if (it->second == &me) {
            commit_waiters_.erase(it);
            registered = true;
            break;
          }
        }
      }
      if (!registered) {
        MutexLock wl(&me.mu);
        while (!me.handed) me.cv.Wait(&me.mu);
      }
    }
    // Handed by a failure or Close, or the deadline passed: the checks above decide.
  }
}

Status QuorumWriterImpl::Purge(int64_t min_txid_to_keep) {
  WriterHeader h;
  std::string who;
  {
    MutexLock l(&mu_);
    if (closing_) return ClosedStatus();
    QJ_RETURN_IF_ERROR(failure_);
    h = core_.header();
    who = core_.Who();
  }
  const auto chans = ChannelPointers(channels_);
  auto r = CallQuorum<Void>(
      chans, MajorityOf(chans.size()), opts_.write_timeout_ms,
      who + ": purgeLogs " + std::to_string(min_txid_to_keep),
      [&](JournalChannel& c, ReplyCallback<Void> cb) { c.PurgeLogs(h, min_txid_to_keep, cb); },
      /*wait_all=*/false, opts_.clock);
  if (r.status.IsStaleEpoch()) {
    MutexLock l(&mu_);
    core_.OnFenced(r.status);
    AfterEventLocked();
  }
  if (r.successes() >= MajorityOf(chans.size())) return Status::OK();
  return r.status;
}

void QuorumWriterImpl::Close() {
  {
    MutexLock l(&mu_);
    if (closing_) return;
    closing_ = true;
    WakeAllWaitersLocked();
    // The core sends the last commit point to every node (best effort, when healthy) so
    // that readers see every committed edit without waiting for the next writer; wait for
    // those answers up to one call timeout before the channels stop.
    const size_t before = outbox_.size();
    core_.Close(NowNs());
    AfterEventLocked();
    for (size_t i = before; i < outbox_.size(); ++i) final_heartbeats_.insert(outbox_[i].id);
    if (loop_.joinable()) {
      // Bounded in real time, not on opts_.clock: it bounds shutdown, whatever the clock.
      state_cv_.WaitFor(&mu_, std::chrono::milliseconds(opts_.rpc_timeout_ms),
                        [this]() REQUIRES(mu_) { return final_heartbeats_.empty(); });
    }
    stop_loop_ = true;
    loop_cv_.SignalAll();
  }
  if (loop_.joinable()) loop_.join();
  for (auto& c : channels_) c->Stop();
}

}  // namespace internal

Result<std::unique_ptr<QuorumWriter>> QuorumWriter::Open(const QuorumOptions& opts,
                                                         const NamespaceInfo& ns) {
  if (opts.journalnodes.empty() || opts.journal_id.empty()) {
    return Status::InvalidArgument("QuorumWriter::Open: no journalnodes or no journal id");
  }
  auto w = std::make_unique<internal::QuorumWriterImpl>(opts, ns);
  Status s = w->Open();
  if (!s.ok()) {
    w->Close();
    return s;
  }
  return std::unique_ptr<QuorumWriter>(std::move(w));
}

}  // namespace qj::jn
