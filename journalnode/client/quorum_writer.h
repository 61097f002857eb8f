// The quorum writer and reader: the namenode's (and the tools') side of the journal.
//
// CONTRACT between journalnode/client (implements it) and namenode/, tools, benchmarks
// (use it). Change it only together with every user.
//
// Writer lifecycle (DESIGN §4):
//   auto w = QuorumWriter::Open(opts, ns);   // new epoch on a majority + recovery of the
//                                             // last unfinalized segment + finalize it
//   w->last_txid();                           // the whole recovered log is committed
//   w->StartSegment(w->last_txid() + 1);
//   w->Append(txid, op, payload) ...;         // dense txids; queued, pipelined, group-committed
//   w->WaitCommitted(txid, timeout);          // durable on a majority
//   w->FinalizeSegment();  w->Close();
//
// Once a writer fails (a newer epoch fenced it, a majority did not ack within the write
// timeout, a journalnode reported the journal out of sync for a majority), health() stays
// non-OK forever and every call returns that status: the owner must stop serving and, to
// write again, Open() a new writer (which takes a new epoch and recovers).
//
// Thread-safety: all methods may be called from any thread. Append() calls must be made
// in txid order (the caller serializes them, e.g. under its namespace lock).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/cluster_config.h"
#include "common/edit_record.h"
#include "common/rpc/rpc.h"
#include "common/status.h"
#include "journalnode/client/journal_transport.h"
#include "journalnode/protocol_types.h"

namespace qj::jn {

struct QuorumOptions {
  std::vector<HostPort> journalnodes;
  std::string journal_id;
  // Who is speaking, for log lines ("nn1").
  std::string name = "writer";
  // Connect and per-call timeout for one journalnode.
  int64_t rpc_timeout_ms = 2000;
  // TLS towards the journalnodes (rpc.h); off by default.
  rpc::TlsOptions tls;
  // A batch not acknowledged by a majority within this time fails the writer.
  int64_t write_timeout_ms = 10000;
  // newEpoch / prepare / accept / finalize phases.
  int64_t recovery_timeout_ms = 20000;
  // acceptRecovery only, per journalnode and for the phase: a journalnode that lacks the
  // chosen copy downloads it before it answers, which for a large segment takes far longer
  // than rpc_timeout_ms (HDFS: dfs.qjournal.accept-recovery.timeout.ms, 120 s).
  int64_t accept_recovery_timeout_ms = 120000;
  // Bound on bytes queued but not yet acknowledged, per journalnode. A journalnode past
  // it is dropped from the pipeline and caught up later; the majority goes on.
  size_t max_queue_bytes = 64u << 20;
  // Upper bound on one journal() call.
  size_t max_batch_bytes = 1u << 20;
  // journal() calls in flight per journalnode. Each call costs the journalnode one
  // fdatasync, so edits that arrive while this many are in flight wait and form the next,
  // larger batch (group commit); 2 keeps the network busy while the disk syncs. Unbounded
  // pipelining would send every edit alone and cap throughput at one edit per fdatasync.
  int max_inflight_batches = 2;
  // When idle, send a heartbeat this often, carrying the committed txid so readers see
  // the latest edits promptly (0 disables; not recommended).
  int64_t heartbeat_interval_ms = 20;
  Clock* clock = RealClock::Get();
  // Builds the transport to journalnode i; empty means Thrift over TCP with rpc_timeout_ms.
  // Tests wrap it with NewFaultyTransport() to drop or delay requests and responses.
  TransportFactory transport_factory;
  // newEpoch attempts (each lost race to a competing writer retries higher) before Open()
  // gives up.
  int max_epoch_attempts = 5;
};

// Figures for benchmarks and status pages.
struct WriterStats {
  int64_t batches = 0;
  int64_t edits = 0;
  int64_t bytes = 0;
  // Histogram of batch sizes in edits, bucket i counts batches of [2^i, 2^(i+1)) edits.
  std::vector<int64_t> batch_size_log2_histogram;
  // Per journalnode: last acknowledged txid (-1 if none) and whether it is in the pipeline.
  std::vector<int64_t> acked_txid;
  std::vector<bool> in_pipeline;
  // Per journalnode in the pipeline: record bytes appended that it has not acknowledged,
  // and how long ago the oldest of them was appended (0 when it has everything).
  std::vector<int64_t> queued_bytes;
  std::vector<int64_t> lag_ms;
  // Commit latency: for each advance of the committed txid, the time from Append to
  // commit of the oldest edit it committed. Bucket i counts [2^i, 2^(i+1)) microseconds.
  std::vector<int64_t> commit_latency_log2_us_histogram;
  int64_t commit_latency_us_sum = 0;
};

class QuorumWriter {
 public:
  virtual ~QuorumWriter() = default;

  // Becomes the writer: a new epoch promised by a majority, recovery of the last
  // unfinalized segment (prepare/accept), and its finalization. Returns a writer with no
  // segment open.
  static Result<std::unique_ptr<QuorumWriter>> Open(const QuorumOptions& opts,
                                                    const NamespaceInfo& ns);

  virtual int64_t epoch() const = 0;
  // Last txid of the log after recovery (0 for an empty log); then the last appended.
  virtual int64_t last_txid() const = 0;
  // Highest txid known committed on a majority. Cheap: no lock.
  virtual int64_t committed_txid() const = 0;
  // OK while the writer can write; the failure reason forever after. Cheap while OK: no
  // lock (callers ask on every mutation).
  virtual Status health() const = 0;

  // Opens segment `first_txid` (== last_txid() + 1) on a majority. On an empty log
  // (last_txid() 0) any first_txid >= 1: the log then starts there (a journal initialized
  // after an existing image, namenode --initialize_shared_edits).
  virtual Status StartSegment(int64_t first_txid) = 0;
  // Queues one edit; txid must be last_txid() + 1. Blocks only while the queue is full.
  virtual Status Append(int64_t txid, uint16_t op, std::string_view payload) = 0;
  // Blocks until `txid` is committed on a majority (OK), the writer fails, or the
  // timeout passes (TimedOut; the writer goes on).
  virtual Status WaitCommitted(int64_t txid, int64_t timeout_ms) = 0;
  // Waits for every appended edit to commit, then finalizes the open segment on a majority.
  // A segment with no edits cannot be finalized (InvalidArgument, nothing is sent).
  virtual Status FinalizeSegment() = 0;
  // Deletes finalized segments ending below min_txid_to_keep on every reachable node.
  virtual Status Purge(int64_t min_txid_to_keep) = 0;
  virtual WriterStats stats() const = 0;
  // Stops the writer's threads. Does not finalize. Idempotent.
  virtual void Close() = 0;
};

// Reads committed edits (only committed ones: a journalnode serves txids up to the
// committed txid it has heard of). Thread-compatible; one per tailer.
class QuorumReader {
 public:
  virtual ~QuorumReader() = default;
  static std::unique_ptr<QuorumReader> Create(const QuorumOptions& opts);

  // Up to max_txns committed edits starting at from_txid, in txid order and dense; empty
  // when none are committed yet. Tries journalnodes in turn (most up to date first).
  virtual Result<std::vector<EditRecord>> ReadCommitted(int64_t from_txid, int max_txns) = 0;
  // The highest committed txid reported by any reachable journalnode.
  virtual Result<int64_t> CommittedTxId() = 0;
};

// Administrative calls on every journalnode of the quorum.
// Formats the journal on every journalnode (all must answer; refuses to clobber a
// formatted journal unless force).
Status FormatJournal(const QuorumOptions& opts, const NamespaceInfo& ns, bool force);
// True if a majority report the journal formatted.
Result<bool> IsJournalFormatted(const QuorumOptions& opts);

}  // namespace qj::jn
