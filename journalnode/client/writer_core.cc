// WriterCore: see writer_core.h.
//
// Write path. Appended edits sit in buffer_ (encoded) until every node in the segment has
// acknowledged them. For each node the core keeps `sent` (last txid handed to the driver
// for it) and `acked` (last txid it fdatasync'ed); while fewer than max_inflight_batches
// calls to it are unanswered it gets the next batch [sent+1, ...] up to max_batch_bytes,
// so batches are pipelined and whatever arrives meanwhile forms the next one (group
// commit). The committed txid is the majority-th highest `acked`. A failed batch starts a
// new generation for that node (answers to older batches are ignored) and resends from
// what the node says it expects (OutOfSync.expectedTxId), or from `acked` after a network
// error; a node that needs txids no longer buffered, or refuses the segment, leaves the
// pipeline until the next segment. StaleEpoch anywhere fences the writer.
#include "journalnode/client/writer_core.h"

#include <glog/logging.h>

#include <algorithm>
#include <functional>

#include "common/clock.h"
#include "common/sim_plant.h"
#include "journalnode/client/recovery.h"

namespace qj::jn {

namespace {

constexpr int64_t kRetryBackoffMs = 50;
// A full buffer drops nodes that lag the commit point and made no progress for this long.
constexpr int64_t kStallMs = 100;

bool IsTransient(const Status& s) {
  return s.code() == StatusCode::kNetworkError || s.code() == StatusCode::kTimedOut ||
         s.code() == StatusCode::kUnavailable;
}

}  // namespace

bool IsDefiniteRefusal(StatusCode c) {
  return c == StatusCode::kInvalidArgument || c == StatusCode::kAlreadyExists ||
         c == StatusCode::kNotFormatted || c == StatusCode::kPermissionDenied ||
         c == StatusCode::kNotSupported;
}

const char* WriterCallName(WriterCall c) {
  switch (c) {
    case WriterCall::kGetJournalState:
      return "getJournalState";
    case WriterCall::kNewEpoch:
      return "newEpoch";
    case WriterCall::kPrepareRecovery:
      return "prepareRecovery";
    case WriterCall::kAcceptRecovery:
      return "acceptRecovery";
    case WriterCall::kFinalizeLogSegment:
      return "finalizeLogSegment";
    case WriterCall::kStartLogSegment:
      return "startLogSegment";
    case WriterCall::kJournal:
      return "journal";
    case WriterCall::kHeartbeat:
      return "heartbeat";
  }
  return "?";
}

std::string WriterRequest::ToString() const {
  std::string s = std::string(WriterCallName(call)) + "#" + std::to_string(id) + " to jn" +
                  std::to_string(node) + " e" + std::to_string(header.epoch) + " c" +
                  std::to_string(header.committed_txid);
  switch (call) {
    case WriterCall::kNewEpoch:
      s += " proposal " + std::to_string(epoch);
      break;
    case WriterCall::kPrepareRecovery:
    case WriterCall::kStartLogSegment:
      s += " seg " + std::to_string(segment_txid);
      break;
    case WriterCall::kJournal:
      s += " " + std::to_string(first_txid) + ".." + std::to_string(last_txid);
      break;
    case WriterCall::kFinalizeLogSegment:
      s += " " + std::to_string(segment_txid) + "-" + std::to_string(last_txid);
      break;
    case WriterCall::kAcceptRecovery:
      s += " " + segment.ToString() + " from jn" + std::to_string(from_node);
      break;
    default:
      break;
  }
  return s;
}

WriterCoreOptions WriterCoreOptions::From(const QuorumOptions& q, const NamespaceInfo& ns) {
  WriterCoreOptions o;
  o.nodes = static_cast<int>(q.journalnodes.size());
  o.name = q.name;
  o.journal_id = q.journal_id;
  o.ns = ns;
  o.rpc_timeout_ms = q.rpc_timeout_ms;
  o.write_timeout_ms = q.write_timeout_ms;
  o.recovery_timeout_ms = q.recovery_timeout_ms;
  o.accept_recovery_timeout_ms = q.accept_recovery_timeout_ms;
  o.max_queue_bytes = q.max_queue_bytes;
  o.max_batch_bytes = q.max_batch_bytes;
  o.max_inflight_batches = q.max_inflight_batches;
  o.heartbeat_interval_ms = q.heartbeat_interval_ms;
  o.max_epoch_attempts = q.max_epoch_attempts;
  for (const HostPort& hp : q.journalnodes) o.node_names.push_back(hp.ToString());
  return o;
}

WriterCore::WriterCore(WriterCoreOptions opts) : opts_(std::move(opts)) {
  nodes_.resize(static_cast<size_t>(std::max(1, opts_.nodes)));
  stats_.acked_txid.assign(nodes_.size(), -1);
  stats_.in_pipeline.assign(nodes_.size(), false);
}

std::string WriterCore::Who() const {
  return opts_.name + " " + opts_.journal_id + " epoch=" + std::to_string(epoch_);
}

std::string WriterCore::NodeName(int i) const {
  if (i >= 0 && static_cast<size_t>(i) < opts_.node_names.size()) {
    return "jn" + std::to_string(i) + " " + opts_.node_names[static_cast<size_t>(i)];
  }
  return "jn" + std::to_string(i);
}

WriterOutput WriterCore::TakeOutput() {
  out_.wake_at_ns = NextWake(last_now_);
  WriterOutput o = std::move(out_);
  out_ = WriterOutput();
  return o;
}

void WriterCore::Fail(const Status& s) {
  if (!health_.ok()) return;
  health_ = s.ok() ? Status::IllegalState("writer failed") : s;
  LOG(WARNING) << Who() << ": writer failed: " << health_;
  // Whatever client operation was under way ends with the failure.
  if (phase_.kind != PhaseKind::kNone) {
    const PhaseKind k = phase_.kind;
    phase_ = Phase();
    if (k == PhaseKind::kStartSegment) {
      Done(WriterOp::kStartSegment, health_);
    } else if (k == PhaseKind::kFinalizeSegment) {
      Done(WriterOp::kFinalizeSegment, health_);
    } else {
      Done(WriterOp::kOpen, health_);
    }
  }
  if (finalize_waiting_) {
    finalize_waiting_ = false;
    Done(WriterOp::kFinalizeSegment, health_);
  }
}

int64_t WriterCore::Send(WriterRequest r, Pending p, int64_t timeout_ms) {
  r.id = next_id_++;
  r.timeout_ms = timeout_ms;
  p.call = r.call;
  p.node = r.node;
  pending_[r.id] = p;
  const int64_t id = r.id;
  out_.sends.push_back(std::move(r));
  return id;
}

template <typename MakeFn>
void WriterCore::StartPhase(PhaseKind kind, const std::string& what, int need,
                            int64_t phase_timeout_ms, int64_t call_timeout_ms, int64_t now,
                            MakeFn make) {
  phase_ = Phase();
  phase_.kind = kind;
  phase_.seq = ++phase_seq_;
  phase_.what = what;
  phase_.need = need;
  phase_.timeout_ms = phase_timeout_ms;
  phase_.deadline_ns = now + phase_timeout_ms * kNanosPerMilli;
  phase_.replies.resize(nodes_.size());
  for (size_t i = 0; i < nodes_.size(); ++i) {
    WriterRequest r = make(static_cast<int>(i));
    r.node = static_cast<int>(i);
    Pending p{Purpose::kPhase, r.call, r.node, phase_.seq, 0, r.segment_txid, r.last_txid};
    Send(std::move(r), p, call_timeout_ms);
  }
}

void WriterCore::JudgePhase(int64_t now) {
  if (phase_.kind == PhaseKind::kNone) return;
  int ok = 0, failed = 0;
  const Status* decisive = nullptr;
  // The failures' common definite refusal, if they all gave the same one.
  const Status* unanimous = nullptr;
  bool all_same_refusal = true;
  for (const auto& r : phase_.replies) {
    if (!r) continue;
    if (r->status.ok()) {
      ++ok;
    } else {
      ++failed;
      if (r->status.IsStaleEpoch() && decisive == nullptr) decisive = &r->status;
      const StatusCode c = r->status.code();
      if (!IsDefiniteRefusal(c) || (unanimous != nullptr && unanimous->code() != c)) {
        all_same_refusal = false;
      } else if (unanimous == nullptr) {
        unanimous = &r->status;
      }
    }
  }
  if (!all_same_refusal) unanimous = nullptr;
  const int total = static_cast<int>(phase_.replies.size());
  const bool timed_out = now >= phase_.deadline_ns;
  Status verdict;
  if (ok >= phase_.need) {
    verdict = Status::OK();
  } else if (decisive != nullptr) {
    verdict = decisive->Prepend(phase_.what);
  } else if (total - failed < phase_.need || timed_out) {
    std::string detail;
    for (size_t i = 0; i < phase_.replies.size(); ++i) {
      const auto& r = phase_.replies[i];
      detail += "; " + NodeName(static_cast<int>(i)) + ": " +
                (!r               ? std::string("no answer")
                 : r->status.ok() ? "ok"
                                  : r->status.ToString());
    }
    const std::string msg = phase_.what + ": " + std::to_string(ok) + " of " +
                            std::to_string(total) + " succeeded, need " +
                            std::to_string(phase_.need) + detail;
    if (timed_out && total - failed >= phase_.need) {
      verdict = Status::TimedOut(msg + " (after " + std::to_string(phase_.timeout_ms) + " ms)");
    } else if (unanimous != nullptr) {
      verdict = Status(unanimous->code(), phase_.what + ": " + unanimous->message() + " (" +
                                              std::to_string(failed) + " of " +
                                              std::to_string(total) + " journalnodes said so)");
    } else {
      verdict = Status::Unavailable(msg);
    }
  } else {
    return;  // no verdict yet
  }
  const PhaseKind kind = phase_.kind;
  auto replies = std::move(phase_.replies);
  phase_ = Phase();
  PhaseDone(kind, verdict, std::move(replies), now);
}

void WriterCore::PhaseDone(PhaseKind kind, const Status& s,
                           std::vector<std::optional<WriterReply>> replies, int64_t now) {
  switch (kind) {
    case PhaseKind::kStates:
      OnStates(s, replies, now);
      return;
    case PhaseKind::kNewEpoch:
      OnNewEpoch(s, replies, now);
      return;
    case PhaseKind::kPrepare:
      OnPrepare(s, replies, now);
      return;
    case PhaseKind::kAccept: {
      if (!s.ok()) {
        Fail(s);
        Done(WriterOp::kOpen, health_);
        return;
      }
      out_.recovered = SegmentState{chosen_.start_txid, recovered_end_, chosen_.in_progress};
      const WriterHeader fh{epoch_, recovered_end_};
      const int64_t start = chosen_.start_txid, end = recovered_end_;
      StartPhase(PhaseKind::kFinalizeRecovery, Who() + ": finalizeLogSegment", majority(),
                 opts_.recovery_timeout_ms, opts_.rpc_timeout_ms, now, [&](int) {
                   WriterRequest r;
                   r.call = WriterCall::kFinalizeLogSegment;
                   r.header = fh;
                   r.segment_txid = start;
                   r.last_txid = end;
                   return r;
                 });
      return;
    }
    case PhaseKind::kFinalizeRecovery:
      if (!s.ok()) {
        Fail(s);
        Done(WriterOp::kOpen, health_);
        return;
      }
      Recovered(recovered_end_);
      return;
    case PhaseKind::kStartSegment: {
      const int64_t first_txid = starting_segment_;
      starting_segment_ = -1;
      int successes = 0;
      for (const auto& r : replies) successes += (r && r->status.ok()) ? 1 : 0;
      if (successes < majority()) {
        Fail(s);
        Done(WriterOp::kStartSegment, health_);
        return;
      }
      segment_start_ = first_txid;
      if (last_txid_ == 0) last_txid_ = first_txid - 1;
      buffer_.clear();
      buffer_bytes_ = 0;
      for (size_t i = 0; i < nodes_.size(); ++i) {
        Node& n = nodes_[i];
        n.in_pipeline = true;
        n.started = false;
        n.needs_start = false;
        n.retry_at_ns = 0;
        n.acked = n.sent = n.max_sent = first_txid - 1;
        n.last_progress_ns = now;
        n.generation++;
        n.inflight = 0;
        n.probing = false;
        if (n.start_answer_txid == first_txid) ApplyStartAnswer(static_cast<int>(i), now);
      }
      VLOG(1) << Who() << ": started segment " << first_txid;
      Done(WriterOp::kStartSegment, health_);
      return;
    }
    case PhaseKind::kFinalizeSegment: {
      int successes = 0;
      for (const auto& r : replies) successes += (r && r->status.ok()) ? 1 : 0;
      if (successes < majority()) {
        Fail(s);
        Done(WriterOp::kFinalizeSegment, health_);
        return;
      }
      buffer_.clear();
      buffer_bytes_ = 0;
      for (auto& n : nodes_) {
        n.in_pipeline = false;
        n.generation++;
        n.inflight = 0;
      }
      VLOG(1) << Who() << ": finalized segment " << finalize_start_ << "-" << finalize_end_;
      Done(WriterOp::kFinalizeSegment, Status::OK());
      return;
    }
    case PhaseKind::kNone:
      return;
  }
}

// --- Open: becoming writer and recovering the newest segment. ---

void WriterCore::Open(int64_t now) {
  last_now_ = now;
  if (opened_ || phase_.kind != PhaseKind::kNone || !health_.ok()) {
    Done(WriterOp::kOpen, Status::IllegalState(Who() + ": Open called twice"));
    return;
  }
  StartPhase(PhaseKind::kStates, opts_.name + " " + opts_.journal_id + ": getJournalState",
             majority(), opts_.recovery_timeout_ms, opts_.rpc_timeout_ms, now, [](int) {
               WriterRequest r;
               r.call = WriterCall::kGetJournalState;
               return r;
             });
}

void WriterCore::OnStates(const Status& s, const std::vector<std::optional<WriterReply>>& r,
                          int64_t now) {
  if (!s.ok()) {
    int not_formatted = 0;
    for (const auto& x : r) {
      if (x && x->status.code() == StatusCode::kNotFormatted) ++not_formatted;
    }
    Fail(not_formatted >= majority()
             ? Status::NotFormatted(opts_.name + " " + opts_.journal_id +
                                    ": journal is not formatted on a majority")
             : s);
    Done(WriterOp::kOpen, health_);
    return;
  }
  for (const auto& x : r) {
    if (!x || !x->status.ok()) continue;
    max_promised_ = std::max(max_promised_, x->state.promised_epoch);
    known_committed_ = std::max(known_committed_, x->state.committed_txid);
  }
  epoch_attempts_ = 0;
  ProposeEpoch(now);
}

void WriterCore::ProposeEpoch(int64_t now) {
  ++epoch_attempts_;
  proposal_ = max_promised_ + 1;
  const int64_t proposal = proposal_;
  const NamespaceInfo ns = opts_.ns;
  StartPhase(PhaseKind::kNewEpoch,
             opts_.name + " " + opts_.journal_id + ": newEpoch " + std::to_string(proposal),
             majority(), opts_.recovery_timeout_ms, opts_.rpc_timeout_ms, now, [&](int) {
               WriterRequest r;
               r.call = WriterCall::kNewEpoch;
               r.ns = ns;
               r.epoch = proposal;
               return r;
             });
}

void WriterCore::OnNewEpoch(const Status& s, const std::vector<std::optional<WriterReply>>& r,
                            int64_t now) {
  if (!s.ok()) {
    if (!s.IsStaleEpoch() || epoch_attempts_ >= opts_.max_epoch_attempts) {
      Fail(s);
      Done(WriterOp::kOpen, health_);
      return;
    }
    for (const auto& x : r) {
      if (x && x->status.IsStaleEpoch()) {
        max_promised_ = std::max(max_promised_, x->status.promised_epoch());
      }
    }
    max_promised_ = std::max(max_promised_, proposal_);
    LOG(INFO) << opts_.name << " " << opts_.journal_id << ": lost the race for epoch " << proposal_
              << ", retrying";
    ProposeEpoch(now);
    return;
  }
  epoch_ = proposal_;
  newest_segment_ = -1;
  for (const auto& x : r) {
    if (x && x->status.ok()) newest_segment_ = std::max(newest_segment_, x->newest_segment);
  }
  LOG(INFO) << Who() << ": became writer; newest segment starts at " << newest_segment_;
  if (newest_segment_ < 0) {
    if (known_committed_ > 0) {
      Fail(Status::IllegalState(Who() + ": no segments on a majority, but txid " +
                                std::to_string(known_committed_) + " was reported committed"));
      Done(WriterOp::kOpen, health_);
      return;
    }
    Recovered(0);
    return;
  }
  const WriterHeader h{epoch_, known_committed_};
  const int64_t seg = newest_segment_;
  StartPhase(PhaseKind::kPrepare, Who() + ": prepareRecovery " + std::to_string(seg), majority(),
             opts_.recovery_timeout_ms, opts_.rpc_timeout_ms, now, [&](int) {
               WriterRequest q;
               q.call = WriterCall::kPrepareRecovery;
               q.header = h;
               q.segment_txid = seg;
               return q;
             });
}

void WriterCore::OnPrepare(const Status& s, const std::vector<std::optional<WriterReply>>& r,
                           int64_t now) {
  if (!s.ok()) {
    Fail(s);
    Done(WriterOp::kOpen, health_);
    return;
  }
  answers_.assign(nodes_.size(), std::nullopt);
  for (size_t i = 0; i < r.size(); ++i) {
    if (r[i] && r[i]->status.ok()) answers_[i] = r[i]->prepare;
  }
  auto choice = ChooseRecovery(newest_segment_, answers_, known_committed_);
  if (!choice.ok()) {
    Fail(choice.status().Prepend(Who()));
    Done(WriterOp::kOpen, health_);
    return;
  }
  LOG(INFO) << Who() << ": recovery of segment " << newest_segment_ << " chose "
            << choice->ToString();
  recovered_end_ = choice->end_txid;
  if (choice->node < 0) {
    Recovered(recovered_end_);
    return;
  }
  chosen_ = choice->segment;
  const WriterHeader h{epoch_, known_committed_};
  const SegmentState seg = choice->segment;
  const int from = choice->node;
  const int64_t origin = answers_[from] ? answers_[from]->origin_epoch : 0;
  const int64_t accept_timeout = std::max(opts_.accept_recovery_timeout_ms, opts_.rpc_timeout_ms);
  StartPhase(PhaseKind::kAccept, Who() + ": acceptRecovery", majority(),
             std::max(opts_.recovery_timeout_ms, accept_timeout), accept_timeout, now, [&](int) {
               WriterRequest q;
               q.call = WriterCall::kAcceptRecovery;
               q.header = h;
               q.segment = seg;
               q.from_node = from;
               q.origin_epoch = origin;
               return q;
             });
}

void WriterCore::Recovered(int64_t end) {
  last_txid_ = end;
  committed_txid_ = end;
  opened_ = true;
  LOG(INFO) << Who() << ": recovered; log ends at txid " << end;
  Done(WriterOp::kOpen, Status::OK());
}

// --- Segments. ---

Status WriterCore::StartSegment(int64_t first_txid, int64_t now) {
  last_now_ = now;
  QJ_RETURN_IF_ERROR(health_);
  if (!opened_ || closed_) return Status::IllegalState(Who() + ": writer not open");
  if (busy()) return Status::IllegalState(Who() + ": another segment call is under way");
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
  starting_segment_ = first_txid;
  const WriterHeader h = Header();
  const int32_t layout = opts_.ns.layout_version;
  StartPhase(PhaseKind::kStartSegment, Who() + ": startLogSegment " + std::to_string(first_txid),
             majority(), opts_.write_timeout_ms, opts_.rpc_timeout_ms, now, [&](int) {
               WriterRequest r;
               r.call = WriterCall::kStartLogSegment;
               r.header = h;
               r.segment_txid = first_txid;
               r.layout_version = layout;
               return r;
             });
  return Status::OK();
}

void WriterCore::OnSegmentStartAnswer(int i, int64_t txid, const Status& s, int64_t now) {
  nodes_[i].start_answer_txid = txid;
  nodes_[i].start_answer = s;
  if (segment_start_ == txid) ApplyStartAnswer(i, now);
}

void WriterCore::ApplyStartAnswer(int i, int64_t now) {
  Node& n = nodes_[i];
  if (!n.in_pipeline || n.started) return;
  const Status& s = n.start_answer;
  if (s.ok()) {
    n.started = true;
    return;
  }
  if (s.IsStaleEpoch()) {
    Fail(s.Prepend(Who() + ": fenced by a newer writer"));
    return;
  }
  n.generation++;
  n.inflight = 0;
  n.sent = n.acked;
  if (IsTransient(s)) {
    n.needs_start = true;
    n.retry_at_ns = now + kRetryBackoffMs * kNanosPerMilli;
    VLOG(1) << Who() << ": " << NodeName(i) << " missed startLogSegment " << segment_start_
            << ", will retry: " << s;
  } else {
    LOG(WARNING) << Who() << ": " << NodeName(i) << " left out of segment " << segment_start_
                 << ": " << s;
    n.in_pipeline = false;
    CheckPipelineMajority("jn" + std::to_string(i) + ": " + s.ToString());
  }
}

void WriterCore::CheckPipelineMajority(const std::string& why) {
  int in_pipeline = 0;
  for (const Node& x : nodes_) in_pipeline += x.in_pipeline ? 1 : 0;
  if (in_pipeline < majority()) {
    Fail(Status::OutOfSync(Who() + ": only " + std::to_string(in_pipeline) + " of " +
                           std::to_string(nodes_.size()) +
                           " journalnodes remain in the segment; last: " + why));
  }
}

Status WriterCore::FinalizeSegment(int64_t now) {
  last_now_ = now;
  QJ_RETURN_IF_ERROR(health_);
  if (busy()) return Status::IllegalState(Who() + ": another segment call is under way");
  if (segment_start_ < 0) return Status::IllegalState(Who() + ": no segment open");
  if (last_txid_ < segment_start_) {
    return Status::InvalidArgument(Who() + ": segment " + std::to_string(segment_start_) +
                                   " holds no edits; append one before finalizing");
  }
  finalize_start_ = segment_start_;
  finalize_end_ = last_txid_;
  finalize_waiting_ = true;
  finalize_deadline_ns_ = now + opts_.write_timeout_ms * kNanosPerMilli;
  Pump(now);
  return Status::OK();
}

void WriterCore::Close(int64_t now) {
  last_now_ = now;
  if (closed_) return;
  if (health_.ok() && opened_) {
    for (size_t i = 0; i < nodes_.size(); ++i) {
      WriterRequest r;
      r.call = WriterCall::kHeartbeat;
      r.node = static_cast<int>(i);
      r.header = Header();
      Send(std::move(r), Pending{Purpose::kHeartbeat, r.call, r.node}, opts_.rpc_timeout_ms);
    }
  }
  closed_ = true;
  if (health_.ok()) health_ = Status::IllegalState(Who() + ": writer closed");
}

void WriterCore::OnFenced(const Status& stale_epoch) {
  if (stale_epoch.IsStaleEpoch()) Fail(stale_epoch.Prepend(Who() + ": fenced by a newer writer"));
}

// --- The write path. ---

Status WriterCore::Append(int64_t txid, std::string record, int64_t now, bool* queued) {
  return AppendRecord(txid, &record, now, queued);
}

Status WriterCore::AppendRecord(int64_t txid, std::string* record, int64_t now, bool* queued) {
  last_now_ = now;
  *queued = false;
  QJ_RETURN_IF_ERROR(health_);
  if (segment_start_ < 0 || finalize_waiting_) {
    return Status::IllegalState(Who() + ": Append with no segment open");
  }
  if (txid != last_txid_ + 1) {
    return Status::InvalidArgument(Who() + ": Append of txid " + std::to_string(txid) +
                                   ", expected " + std::to_string(last_txid_ + 1));
  }
  // Back-pressure: while the buffer is full, drop lagging nodes to make room, else the
  // driver waits for the majority to commit and calls again.
  if (!buffer_.empty() && buffer_bytes_ + record->size() > opts_.max_queue_bytes) {
    MakeRoom(now);
    if (!buffer_.empty() && buffer_bytes_ + record->size() > opts_.max_queue_bytes) return health_;
  }
  buffer_bytes_ += record->size();
  appended_bytes_ += static_cast<int64_t>(record->size());
  buffer_.push_back(Entry{txid, std::move(*record), now, appended_bytes_});
  last_txid_ = txid;
  *queued = true;
  if (opts_.batch_on_events) Pump(now);
  return Status::OK();
}

void WriterCore::Tick(int64_t now) {
  last_now_ = now;
  JudgePhase(now);
  Pump(now);
}

bool WriterCore::HasUnsentWork() const {
  if (!health_.ok() || closed_ || !opened_) return false;
  if (finalize_waiting_ && committed_txid_ >= finalize_end_) return true;
  if (segment_start_ < 0) return false;
  for (const Node& n : nodes_) {
    if (n.in_pipeline && (n.needs_start || n.sent < last_txid_)) return true;
  }
  return false;
}

void WriterCore::OnReply(int64_t request_id, const WriterReply& reply, int64_t now) {
  last_now_ = now;
  auto it = pending_.find(request_id);
  if (it == pending_.end()) return;  // a duplicate: the call was answered already
  const Pending p = it->second;
  pending_.erase(it);
  if (closed_) return;
  switch (p.purpose) {
    case Purpose::kPhase:
      // startLogSegment answers count for the pipeline even after the phase ended.
      if (p.call == WriterCall::kStartLogSegment && health_.ok()) {
        OnSegmentStartAnswer(p.node, p.first, reply.status, now);
      }
      if (p.phase_seq == phase_.seq && phase_.kind != PhaseKind::kNone) {
        phase_.replies[p.node] = reply;
        JudgePhase(now);
      }
      break;
    case Purpose::kBatch:
      if (health_.ok()) OnJournalReply(p, reply, now);
      break;
    case Purpose::kStartRetry:
      if (health_.ok()) OnStartReply(p, reply, now);
      break;
    case Purpose::kHeartbeat:
      nodes_[p.node].heartbeat_inflight = false;
      if (reply.status.IsStaleEpoch()) {
        Fail(reply.status.Prepend(Who() + ": fenced by a newer writer"));
      }
      break;
  }
  if (opts_.batch_on_events) Pump(now);
}

void WriterCore::Pump(int64_t now) {
  if (!health_.ok() || closed_ || !opened_) return;
  // A majority that does not ack the oldest uncommitted edit in time fails the writer.
  if (committed_txid_ < last_txid_ && !buffer_.empty()) {
    const int64_t idx = committed_txid_ + 1 - BufferFrontTxid();
    if (idx >= 0 && idx < static_cast<int64_t>(buffer_.size()) &&
        now - buffer_[idx].append_ns > opts_.write_timeout_ms * kNanosPerMilli) {
      Fail(Status::TimedOut(Who() + ": txid " + std::to_string(committed_txid_ + 1) +
                            " not acknowledged by a majority within " +
                            std::to_string(opts_.write_timeout_ms) + " ms"));
      return;
    }
  }
  if (finalize_waiting_) {
    if (committed_txid_ >= finalize_end_) {
      finalize_waiting_ = false;
      segment_start_ = -1;  // no more batches for this segment
      const WriterHeader h = Header();
      const int64_t start = finalize_start_, end = finalize_end_;
      StartPhase(
          PhaseKind::kFinalizeSegment,
          Who() + ": finalizeLogSegment " + std::to_string(start) + "-" + std::to_string(end),
          majority(), opts_.write_timeout_ms, opts_.rpc_timeout_ms, now, [&](int) {
            WriterRequest r;
            r.call = WriterCall::kFinalizeLogSegment;
            r.header = h;
            r.segment_txid = start;
            r.last_txid = end;
            return r;
          });
      return;
    }
    if (now >= finalize_deadline_ns_) {
      finalize_waiting_ = false;
      // The threaded writer returns TimedOut from WaitCommitted and goes on.
      Done(WriterOp::kFinalizeSegment,
           Status::TimedOut(Who() + ": txid " + std::to_string(finalize_end_) +
                            " not committed in time for finalize"));
    }
  }
  const int64_t hb_ns = opts_.heartbeat_interval_ms * kNanosPerMilli;
  std::vector<std::pair<int64_t, std::pair<int64_t, std::shared_ptr<const std::string>>>> built;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    Node& n = nodes_[i];
    const int node = static_cast<int>(i);
    if (segment_start_ >= 0 && n.in_pipeline && n.needs_start) {
      if (n.inflight == 0 && now >= n.retry_at_ns) {
        WriterRequest r;
        r.call = WriterCall::kStartLogSegment;
        r.node = node;
        r.header = Header();
        r.segment_txid = segment_start_;
        r.layout_version = opts_.ns.layout_version;
        Pending p{Purpose::kStartRetry, r.call, node, 0, n.generation, segment_start_,
                  segment_start_ - 1};
        Send(std::move(r), p, opts_.rpc_timeout_ms);
        n.inflight++;
        n.last_call_ns = now;
      }
      continue;
    }
    if (segment_start_ >= 0 && n.in_pipeline && n.sent < last_txid_ && now >= n.retry_at_ns &&
        !(n.probing && n.inflight > 0) && n.inflight < std::max(1, opts_.max_inflight_batches)) {
      if (n.sent + 1 < BufferFrontTxid()) {
        LOG(WARNING) << Who() << ": " << NodeName(node) << " needs txid " << n.sent + 1
                     << ", no longer buffered (buffer starts at " << BufferFrontTxid()
                     << "); out until the next segment";
        n.in_pipeline = false;
        continue;
      }
      const int64_t first = n.sent + 1;
      std::shared_ptr<const std::string> records;
      int64_t last = 0;
      for (const auto& b : built) {
        if (b.first == first) {
          last = b.second.first;
          records = b.second.second;
          break;
        }
      }
      if (records == nullptr) {
        auto bytes = std::make_shared<std::string>();
        size_t idx = static_cast<size_t>(first - BufferFrontTxid());
        const size_t idx0 = idx;
        while (idx < buffer_.size() &&
               (bytes->empty() ||
                bytes->size() + buffer_[idx].bytes.size() <= opts_.max_batch_bytes)) {
          bytes->append(buffer_[idx].bytes);
          ++idx;
        }
        last = first + static_cast<int64_t>(idx - idx0) - 1;
        records = std::move(bytes);
        built.push_back({first, {last, records}});
      }
      WriterRequest r;
      r.call = WriterCall::kJournal;
      r.node = node;
      r.header = Header();
      r.segment_txid = segment_start_;
      r.first_txid = first;
      r.last_txid = last;
      r.records = records;
      Pending p{Purpose::kBatch, r.call, node, 0, n.generation, first, last};
      Send(std::move(r), p, opts_.rpc_timeout_ms);
      n.sent = last;
      n.max_sent = std::max(n.max_sent, last);
      n.inflight++;
      n.last_call_ns = now;
    } else if (hb_ns > 0 && n.inflight == 0 && !n.heartbeat_inflight &&
               now - n.last_call_ns >= hb_ns) {
      WriterRequest r;
      r.call = WriterCall::kHeartbeat;
      r.node = node;
      r.header = Header();
      Send(std::move(r), Pending{Purpose::kHeartbeat, r.call, node}, opts_.rpc_timeout_ms);
      n.heartbeat_inflight = true;
      n.last_call_ns = now;
    }
  }
}

void WriterCore::OnJournalReply(const Pending& b, const WriterReply& r, int64_t now) {
  if (r.status.IsStaleEpoch()) {
    Fail(r.status.Prepend(Who() + ": fenced by a newer writer"));
    return;
  }
  Node& n = nodes_[b.node];
  if (b.generation != n.generation) return;
  n.inflight--;
  if (r.status.ok()) {
    if (b.last > n.acked) n.last_progress_ns = now;
    n.acked = std::max(n.acked, b.last);
    if (n.probing)
      LOG(INFO) << Who() << ": " << NodeName(b.node) << " caught up to txid " << b.last;
    n.probing = false;
    AdvanceCommit(now);
    return;
  }
  // Every later batch in flight will fail too: start a new generation from what the
  // journalnode says it expects, or from its last ack.
  n.generation++;
  n.inflight = 0;
  n.probing = true;
  const int64_t expected = r.expected_txid;
  const bool oos = r.status.IsOutOfSync();
  // Its segment was opened by us and holds only what we sent, and the journalnode
  // expects txid E only once E-1 is fdatasync'ed: E-1 is durable there (the answer
  // that said so may have been lost).
  if (oos && n.started && expected - 1 > n.acked && expected - 1 <= n.max_sent &&
      expected - 1 >= segment_start_) {
    n.acked = expected - 1;
    AdvanceCommit(now);
  }
  // (A node that refuses exactly the txid it asked for is not going to take it.)
  if (oos && expected > 0 && expected != b.first && expected <= last_txid_ + 1 &&
      expected >= BufferFrontTxid() && expected >= segment_start_) {
    n.sent = expected - 1;
    VLOG(1) << Who() << ": " << NodeName(b.node) << " expects txid " << expected << ", resending";
  } else if (oos && expected > 0 && expected < BufferFrontTxid()) {
    LOG(WARNING) << Who() << ": " << NodeName(b.node) << " expects txid " << expected
                 << ", no longer buffered; out until the next segment";
    n.in_pipeline = false;
  } else if (oos && expected < 0 && n.acked < segment_start_ && segment_start_ >= 0) {
    // It never got startLogSegment (e.g. the request was lost): open it there first.
    n.needs_start = true;
    n.started = false;
    n.sent = n.acked;
    n.probing = false;
    VLOG(1) << Who() << ": " << NodeName(b.node)
            << " has no open segment, retrying startLogSegment";
  } else if (oos) {
    LOG(WARNING) << Who() << ": " << NodeName(b.node)
                 << " out of sync, out until the next segment: " << r.status;
    n.in_pipeline = false;
  } else {
    n.sent = n.acked;
    n.retry_at_ns = now + kRetryBackoffMs * kNanosPerMilli;
    VLOG(1) << Who() << ": " << NodeName(b.node) << " batch " << b.first << "-" << b.last
            << " failed: " << r.status;
  }
  CheckPipelineMajority("jn" + std::to_string(b.node) + ": " + r.status.ToString());
}

void WriterCore::OnStartReply(const Pending& b, const WriterReply& r, int64_t now) {
  if (r.status.IsStaleEpoch()) {
    Fail(r.status.Prepend(Who() + ": fenced by a newer writer"));
    return;
  }
  Node& n = nodes_[b.node];
  if (b.generation != n.generation) return;
  n.inflight--;
  if (r.status.ok()) {
    n.needs_start = false;
    n.started = true;
    LOG(INFO) << Who() << ": " << NodeName(b.node) << " joined segment " << b.first << " late";
  } else if (IsTransient(r.status)) {
    n.retry_at_ns = now + kRetryBackoffMs * kNanosPerMilli;
  } else {
    LOG(WARNING) << Who() << ": " << NodeName(b.node) << " refused segment " << b.first
                 << ", out until the next segment: " << r.status;
    n.in_pipeline = false;
    n.needs_start = false;
  }
}

void WriterCore::AdvanceCommit(int64_t now) {
  std::vector<int64_t> acked;
  for (const Node& n : nodes_) acked.push_back(n.in_pipeline ? n.acked : -1);
  std::sort(acked.begin(), acked.end(), std::greater<int64_t>());
  // Planted bug (h), simulator build only: the highest single ack counts as committed.
  const int64_t candidate = acked[QJ_PLANTED(kOneAck) ? 0 : majority() - 1];
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
      stats_.bytes += static_cast<int64_t>(buffer_[idx].bytes.size());
      if (!timed) {
        // Commit latency of the oldest edit this advance commits.
        timed = true;
        const int64_t us = std::max<int64_t>(0, (now - buffer_[idx].append_ns) / 1000);
        int b = 0;
        while ((int64_t{2} << b) <= us) ++b;
        auto& hist = stats_.commit_latency_log2_us_histogram;
        if (hist.size() <= static_cast<size_t>(b)) hist.resize(b + 1);
        hist[b]++;
        stats_.commit_latency_us_sum += us;
      }
    }
    committed_txid_ = candidate;
  }
  TrimBuffer();
}

void WriterCore::TrimBuffer() {
  int64_t keep_after = committed_txid_;
  for (const Node& n : nodes_) {
    if (n.in_pipeline) keep_after = std::min(keep_after, n.acked);
  }
  while (!buffer_.empty() && buffer_.front().txid <= keep_after) {
    buffer_bytes_ -= buffer_.front().bytes.size();
    buffer_.pop_front();
  }
}

void WriterCore::MakeRoom(int64_t now) {
  // The buffer is full: nodes that lag behind the commit point and have not advanced for
  // kStallMs leave the pipeline (the majority goes on; they rejoin at the next segment),
  // and what they held is dropped. A node that merely has a batch in flight is not
  // dropped: with a minority paused, dropping a slow-but-live node would stall the
  // majority.
  for (size_t i = 0; i < nodes_.size(); ++i) {
    Node& n = nodes_[i];
    if (n.in_pipeline && n.acked < committed_txid_ &&
        now - n.last_progress_ns >= kStallMs * kNanosPerMilli) {
      LOG(WARNING) << Who() << ": " << NodeName(static_cast<int>(i)) << " lags at txid " << n.acked
                   << " (committed " << committed_txid_ << "), buffer of " << buffer_bytes_
                   << " bytes full; out until the next segment";
      n.in_pipeline = false;
      n.generation++;
      n.inflight = 0;
    }
  }
  TrimBuffer();
}

int64_t WriterCore::NextWake(int64_t now) const {
  int64_t at = -1;
  auto consider = [&](int64_t t) {
    if (t < now) t = now;
    if (at < 0 || t < at) at = t;
  };
  if (phase_.kind != PhaseKind::kNone) consider(phase_.deadline_ns);
  if (!health_.ok() || closed_ || !opened_) return at;
  if (finalize_waiting_) consider(finalize_deadline_ns_);
  if (committed_txid_ < last_txid_ && !buffer_.empty()) {
    const int64_t idx = committed_txid_ + 1 - BufferFrontTxid();
    if (idx >= 0 && idx < static_cast<int64_t>(buffer_.size())) {
      consider(buffer_[idx].append_ns + opts_.write_timeout_ms * kNanosPerMilli + 1);
    }
  }
  // Only times at which Pump (or a waiting Append) would act: a time already past that
  // nothing acts on would have the driver tick in a loop.
  const int64_t hb_ns = opts_.heartbeat_interval_ms * kNanosPerMilli;
  for (const Node& n : nodes_) {
    if (n.retry_at_ns > now) consider(n.retry_at_ns);
    // Pump sends no heartbeat to a node waiting to retry its startLogSegment (it retries at
    // retry_at_ns); waking for one would wake again at once, a spin until then.
    const bool awaiting_start = segment_start_ >= 0 && n.in_pipeline && n.needs_start;
    if (hb_ns > 0 && !awaiting_start && n.inflight == 0 && !n.heartbeat_inflight) {
      consider(n.last_call_ns + hb_ns);
    }
    // Once a lagging node's stall deadline has passed, the next Append that finds the
    // buffer full drops it (MakeRoom); nothing happens on a wake-up after it, so waking
    // for it again would spin.
    const int64_t stall_at = n.last_progress_ns + kStallMs * kNanosPerMilli;
    if (!buffer_.empty() && n.in_pipeline && n.acked < committed_txid_ && stall_at > now) {
      consider(stall_at);
    }
  }
  return at;
}

WriterStats WriterCore::stats(int64_t now) const {
  if (now < 0) now = last_now_;
  WriterStats s = stats_;
  s.queued_bytes.assign(nodes_.size(), 0);
  s.lag_ms.assign(nodes_.size(), 0);
  for (size_t i = 0; i < nodes_.size(); ++i) {
    s.acked_txid[i] = nodes_[i].acked;
    s.in_pipeline[i] = nodes_[i].in_pipeline;
    if (!nodes_[i].in_pipeline || buffer_.empty()) continue;
    // The buffer holds every edit some node in the pipeline lacks, with dense txids.
    const int64_t first = std::max(nodes_[i].acked + 1, BufferFrontTxid());
    const int64_t idx = first - BufferFrontTxid();
    if (idx >= static_cast<int64_t>(buffer_.size())) continue;
    const Entry& oldest = buffer_[static_cast<size_t>(idx)];
    s.queued_bytes[i] =
        buffer_.back().cum_bytes - oldest.cum_bytes + static_cast<int64_t>(oldest.bytes.size());
    s.lag_ms[i] = std::max<int64_t>(0, (now - oldest.append_ns) / kNanosPerMilli);
  }
  return s;
}

}  // namespace qj::jn
