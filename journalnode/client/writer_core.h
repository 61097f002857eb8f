// WriterCore: the quorum writer's protocol (DESIGN §4) as a state machine with no threads,
// no clock reads and no I/O.
//
// CONTRACT between the core (journalnode/client/writer_core.cc) and its two drivers: the
// threaded QuorumWriter the daemons use (quorum_writer.cc: channels, real time, blocking
// calls) and the seeded simulator (tests/sim/journal_net_sim.cc). Every protocol decision
// is made here, once. The driver feeds events and executes the actions the core returns:
//
//   events in                                   actions out (TakeOutput)
//   Open / StartSegment / Append /              sends: requests to journalnode i
//     FinalizeSegment / Close (client calls)    done: a client operation finished (status)
//   OnReply(request id, reply)                  wake_at_ns: call Tick() by then at the latest
//   Tick(now)                                   notes: recovery facts for observers
//
// committed_txid() and health() are read directly. Every event carries the driver's
// monotonic time in nanoseconds; the core never reads a clock.
//
// What the driver owes the core (what JournalChannel does for the threaded writer):
//   - every request gets exactly one reply: the journalnode's answer, or a transient
//     failure (NetworkError/TimedOut) no later than request.timeout_ms after the send;
//     duplicates and answers after a failure was reported are dropped;
//   - requests carry an IPC serial above the previous one to that journalnode.
// The network may reorder requests; the protocol stays safe (the journalnode's serial and
// txid checks refuse what arrives out of order, and the core resends).
//
// Protocol:
//   Open: getJournalState on a majority -> newEpoch(max promised + 1) on a majority
//     (retried higher after a lost race, max_epoch_attempts times) -> prepareRecovery of the
//     newest segment -> ChooseRecovery (recovery.h) -> acceptRecovery on a majority ->
//     finalizeLogSegment of the chosen copy. Each phase succeeds on `need` OKs, fails at
//     once on StaleEpoch, fails when `need` OKs became impossible or at its timeout.
//   Write path: edits sit in a buffer until every node in the pipeline acked them; each
//     node gets batches [sent+1 ..] of at most max_batch_bytes, at most max_inflight_batches
//     in flight; the committed txid is the majority-th highest ack and rides in every
//     request header; a failed batch starts a new generation for that node (later answers
//     of older batches are ignored) and resends from what the node expects; a node past
//     max_queue_bytes that lags and stalls leaves the pipeline; a majority that does not ack
//     within write_timeout_ms fails the writer; idle nodes get heartbeats.
// Once failed, health() stays non-OK and every call returns it.
//
// Thread-compatible: the threaded driver calls it under its own mutex.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "journalnode/client/quorum_writer.h"
#include "journalnode/protocol_types.h"

namespace qj::jn {

enum class WriterCall : uint8_t {
  kGetJournalState,
  kNewEpoch,
  kPrepareRecovery,
  kAcceptRecovery,
  kFinalizeLogSegment,
  kStartLogSegment,
  kJournal,
  kHeartbeat,
};
const char* WriterCallName(WriterCall c);

// A refusal that is the journalnodes' definite answer to the request (not a transport
// problem): when every node that failed a quorum call gave the same one, the call fails
// with that code, so that it reaches the operator once ("NotFormatted: ...") instead of an
// Unavailable wrapping it per node.
bool IsDefiniteRefusal(StatusCode c);

struct WriterRequest {
  int64_t id = 0;  // unique within one core; the reply names it
  int node = 0;
  WriterCall call = WriterCall::kHeartbeat;
  WriterHeader header;         // calls of the writer's epoch
  NamespaceInfo ns;            // kNewEpoch
  int64_t epoch = 0;           // kNewEpoch: the proposal
  int64_t segment_txid = -1;   // kPrepareRecovery, kStartLogSegment, kJournal, kFinalize
  int64_t first_txid = -1;     // kJournal
  int64_t last_txid = -1;      // kJournal: last txid of the batch; kFinalize: end
  int32_t layout_version = 1;  // kStartLogSegment
  std::shared_ptr<const std::string> records;  // kJournal: encoded records
  SegmentState segment;                        // kAcceptRecovery: the chosen copy
  int from_node = -1;                          // kAcceptRecovery: a journalnode holding it
  int64_t origin_epoch = 0;                    // kAcceptRecovery
  int64_t timeout_ms = 0;                      // the driver fails the call after this long
  std::string ToString() const;
};

struct WriterReply {
  Status status;
  int64_t expected_txid = -1;   // OutOfSync: the txid the node expects next, -1 if none
  JournalState state;           // kGetJournalState
  int64_t newest_segment = -1;  // kNewEpoch: start of the node's newest segment
  PrepareResult prepare;        // kPrepareRecovery
};

enum class WriterOp : uint8_t { kOpen, kStartSegment, kFinalizeSegment };

struct WriterOutput {
  std::vector<WriterRequest> sends;
  std::vector<std::pair<WriterOp, Status>> done;
  // Recovery chose `segment` ending the log at its end, and a majority accepted it: from
  // now on those edits are committed (observers, e.g. the simulator's truth, read them).
  std::optional<SegmentState> recovered;
  int64_t wake_at_ns = -1;  // -1: no timer needed
};

struct WriterCoreOptions {
  int nodes = 3;
  std::string name = "writer";
  std::string journal_id;
  NamespaceInfo ns;
  int64_t rpc_timeout_ms = 2000;
  int64_t write_timeout_ms = 10000;
  int64_t recovery_timeout_ms = 20000;
  int64_t accept_recovery_timeout_ms = 120000;
  size_t max_queue_bytes = 64u << 20;
  size_t max_batch_bytes = 1u << 20;
  int max_inflight_batches = 2;
  int64_t heartbeat_interval_ms = 20;
  int max_epoch_attempts = 5;
  // Whether Append and OnReply send what they allow at once (true: the simulator), or only
  // the next Tick() does (false: the threaded driver, which ticks from its loop right
  // after). Deferring lets every edit appended until the loop runs join the batch: with
  // many concurrent callers, sending at once formed batches a quarter smaller.
  bool batch_on_events = true;
  // How log lines and error messages name journalnode i ("127.0.0.1:8485"); "jn<i>" when
  // missing.
  std::vector<std::string> node_names;
  static WriterCoreOptions From(const QuorumOptions& q, const NamespaceInfo& ns);
};

class WriterCore {
 public:
  explicit WriterCore(WriterCoreOptions opts);

  // --- Client events. ---
  // Becomes the writer (new epoch, recovery, finalize). Finishes with done(kOpen).
  void Open(int64_t now);
  // Opens segment first_txid (== last_txid() + 1; on an empty log, last_txid() 0, any
  // first_txid >= 1) on a majority; done(kStartSegment).
  // A refusal up front (bad txid, failed writer) is returned and nothing is sent.
  Status StartSegment(int64_t first_txid, int64_t now);
  // Queues one encoded record (common/edit_record.h) of txid last_txid() + 1. *queued is
  // false (and OK returned) while the buffer is full: call again after later events.
  Status Append(int64_t txid, std::string record, int64_t now, bool* queued);
  // The same, moving from *record only when it is queued (a driver that waits for room
  // retries with the same bytes).
  Status AppendRecord(int64_t txid, std::string* record, int64_t now, bool* queued);
  // Once every appended edit commits (within write_timeout_ms), finalizes the open
  // segment on a majority; done(kFinalizeSegment).
  Status FinalizeSegment(int64_t now);
  // Best effort: the commit point to every node in a heartbeat; then the core is closed.
  void Close(int64_t now);
  // A call made outside the core (purgeLogs, which no protocol step waits for) was
  // refused with StaleEpoch: the writer is fenced and fails.
  void OnFenced(const Status& stale_epoch);

  // --- Driver events. ---
  void OnReply(int64_t request_id, const WriterReply& reply, int64_t now);
  void Tick(int64_t now);
  // Whether a Tick could issue a call that no timer of NextWake covers: a node in the
  // pipeline that lacks appended edits or a segment start, or a finalize whose edits have
  // committed. When false, a Tick before the next wake-up time issues nothing, so a
  // driver forming batches on Tick (batch_on_events off) need not run one after a reply.
  // Conservative: true may still issue nothing (a node's window of batches is full).
  bool HasUnsentWork() const;

  WriterOutput TakeOutput();

  int64_t epoch() const { return epoch_; }
  int64_t last_txid() const { return last_txid_; }
  int64_t committed_txid() const { return committed_txid_; }
  int64_t segment_start() const { return segment_start_; }
  const Status& health() const { return health_; }
  bool opened() const { return opened_; }
  bool closed() const { return closed_; }
  // A client operation (Open, StartSegment, FinalizeSegment) is under way.
  bool busy() const { return phase_.kind != PhaseKind::kNone || finalize_waiting_; }
  // The header of calls in the writer's epoch: the epoch and the committed txid.
  WriterHeader header() const { return Header(); }
  // now: for lag_ms (the time of the last event when missing).
  WriterStats stats(int64_t now = -1) const;
  std::string Who() const;

 private:
  enum class PhaseKind : uint8_t {
    kNone,
    kStates,
    kNewEpoch,
    kPrepare,
    kAccept,
    kFinalizeRecovery,
    kStartSegment,
    kFinalizeSegment,
  };
  // One quorum call (CallQuorum in quorum_call.h, without the waiting).
  struct Phase {
    PhaseKind kind = PhaseKind::kNone;
    int64_t seq = 0;  // replies of an older phase are not counted
    std::string what;
    int need = 0;
    int64_t deadline_ns = 0;
    int64_t timeout_ms = 0;
    std::vector<std::optional<WriterReply>> replies;
  };
  struct Entry {
    int64_t txid;
    std::string bytes;
    int64_t append_ns;
    // Record bytes appended up to and including this entry (queued-bytes stats).
    int64_t cum_bytes = 0;
  };
  struct Node {
    int64_t acked = -1;
    int64_t sent = -1;
    bool in_pipeline = false;
    int64_t generation = 0;
    int inflight = 0;
    bool probing = false;
    int64_t retry_at_ns = 0;
    int64_t last_call_ns = 0;
    int64_t last_progress_ns = 0;
    bool needs_start = false;
    int64_t max_sent = -1;
    bool started = false;
    int64_t start_answer_txid = -1;
    Status start_answer;
    bool heartbeat_inflight = false;
  };
  enum class Purpose : uint8_t { kPhase, kBatch, kStartRetry, kHeartbeat };
  struct Pending {
    Purpose purpose;
    WriterCall call;
    int node;
    int64_t phase_seq = 0;
    int64_t generation = 0;
    int64_t first = 0, last = 0;
  };

  int majority() const { return static_cast<int>(nodes_.size() / 2 + 1); }
  WriterHeader Header() const { return WriterHeader{epoch_, committed_txid_}; }
  int64_t Send(WriterRequest r, Pending p, int64_t timeout_ms);
  // Starts a quorum call: `make(i)` builds the request to node i.
  template <typename MakeFn>
  void StartPhase(PhaseKind kind, const std::string& what, int need, int64_t phase_timeout_ms,
                  int64_t call_timeout_ms, int64_t now, MakeFn make);
  // Judges the current phase; on a verdict, clears it and moves the protocol on.
  void JudgePhase(int64_t now);
  void PhaseDone(PhaseKind kind, const Status& s, std::vector<std::optional<WriterReply>> replies,
                 int64_t now);
  void Done(WriterOp op, const Status& s) { out_.done.emplace_back(op, s); }
  void Fail(const Status& s);
  std::string NodeName(int i) const;

  // Open's steps.
  void OnStates(const Status& s, const std::vector<std::optional<WriterReply>>& r, int64_t now);
  void ProposeEpoch(int64_t now);
  void OnNewEpoch(const Status& s, const std::vector<std::optional<WriterReply>>& r, int64_t now);
  void OnPrepare(const Status& s, const std::vector<std::optional<WriterReply>>& r, int64_t now);
  void Recovered(int64_t end);

  // The write path (quorum_writer.cc, same names).
  void Pump(int64_t now);
  void OnSegmentStartAnswer(int i, int64_t txid, const Status& s, int64_t now);
  void ApplyStartAnswer(int i, int64_t now);
  void CheckPipelineMajority(const std::string& why);
  void OnJournalReply(const Pending& b, const WriterReply& r, int64_t now);
  void OnStartReply(const Pending& b, const WriterReply& r, int64_t now);
  void AdvanceCommit(int64_t now);
  void TrimBuffer();
  void MakeRoom(int64_t now);
  int64_t BufferFrontTxid() const { return buffer_.empty() ? last_txid_ + 1 : buffer_[0].txid; }
  int64_t NextWake(int64_t now) const;

  const WriterCoreOptions opts_;
  int64_t next_id_ = 1;
  int64_t phase_seq_ = 0;
  Phase phase_;
  std::unordered_map<int64_t, Pending> pending_;
  WriterOutput out_;
  int64_t last_now_ = 0;

  Status health_;
  bool opened_ = false;
  bool closed_ = false;
  int64_t epoch_ = 0;
  // Open's state between phases.
  int64_t max_promised_ = 0, known_committed_ = -1, proposal_ = 0, newest_segment_ = -1;
  int epoch_attempts_ = 0;
  std::vector<std::optional<PrepareResult>> answers_;
  SegmentState chosen_;
  int64_t recovered_end_ = 0;

  int64_t last_txid_ = 0;
  int64_t committed_txid_ = 0;
  int64_t segment_start_ = -1;
  int64_t starting_segment_ = -1;  // StartSegment under way
  bool finalize_waiting_ = false;  // FinalizeSegment waits for the last edits to commit
  int64_t finalize_deadline_ns_ = 0;
  int64_t finalize_start_ = -1, finalize_end_ = -1;
  std::deque<Entry> buffer_;
  size_t buffer_bytes_ = 0;
  int64_t appended_bytes_ = 0;  // every record byte appended, ever
  std::vector<Node> nodes_;
  WriterStats stats_;
};

}  // namespace qj::jn
