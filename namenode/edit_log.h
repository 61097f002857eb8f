// EditLog: the active namenode's journal, a QuorumWriter plus segment rolling.
//
//   Open()         new epoch on a majority, recovery of the last segment (last_txid() is
//                  then the end of the committed log)
//   StartSegment() opens the first segment at last_txid() + 1 and writes a NOOP edit as
//                  its first record, so that no segment is ever empty (as HDFS's
//                  OP_START_LOG_SEGMENT)
//   Append()       queues one edit at txid last_txid() + 1 and returns that txid; every
//                  `segment_txns` edits the segment is finalized and the next one
//                  opened (both wait for a majority)
//   WaitCommitted  blocks until a txid is durable on a majority
//   Finalize()     finalizes the open segment (on clean hand-over or shutdown)
//   Roll()         finalizes the open segment and opens the next one now (rollEdits)
//
// Failure: once the writer fails (fenced by a newer epoch, majority lost), health() stays
// non-OK and every call returns that status; the owner must stop serving and discard any
// state built from edits that were not committed.
//
// Thread-safety: Append, StartSegment and Finalize must be serialized by the caller (the
// namenode holds its namespace lock); WaitCommitted, health and the getters may be called
// from any thread. last_txid() is kept here rather than asked of the writer: the caller
// reads it under its namespace lock on every mutation, and the writer's mutex is the one
// its reply threads and commit waiters contend on.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "journalnode/client/quorum_writer.h"
#include "namenode/edit_ops.h"

namespace qj::nn {

class EditLog {
 public:
  static Result<std::unique_ptr<EditLog>> Open(const jn::QuorumOptions& opts,
                                               const jn::NamespaceInfo& ns, int64_t segment_txns);
  ~EditLog();

  int64_t epoch() const { return writer_->epoch(); }
  // The last txid appended (after Open: the end of the recovered log).
  int64_t last_txid() const { return last_txid_.load(std::memory_order_acquire); }
  int64_t committed_txid() const { return writer_->committed_txid(); }
  // Takes no lock while the writer is healthy (the writer publishes its failure in an
  // atomic): the namenode asks once per mutation, under its namespace lock.
  Status health() const { return writer_->health(); }

  Status StartSegment();
  // Queues `edit` as txid last_txid() + 1 and returns that txid. The txid stays the last
  // one even when the segment rolls (the next segment's NOOP comes after it).
  Result<int64_t> Append(const EncodedEdit& edit);
  Status WaitCommitted(int64_t txid, int64_t timeout_ms) {
    return writer_->WaitCommitted(txid, timeout_ms);
  }
  Status Finalize();
  // Finalizes the open segment (waits for a majority) and opens the next one; returns the
  // new segment's first txid. IllegalState if no segment is open.
  Result<int64_t> Roll();
  Status Purge(int64_t min_txid_to_keep) { return writer_->Purge(min_txid_to_keep); }
  jn::WriterStats stats() const { return writer_->stats(); }
  void Close() { writer_->Close(); }

 private:
  EditLog(std::unique_ptr<jn::QuorumWriter> w, int64_t segment_txns, std::string name)
      : writer_(std::move(w)),
        segment_txns_(segment_txns),
        name_(std::move(name)),
        last_txid_(writer_->last_txid()) {}

  // Appends one record at last_txid() + 1 and advances last_txid().
  Status AppendNext(uint16_t op, std::string_view payload);

  std::unique_ptr<jn::QuorumWriter> writer_;
  const int64_t segment_txns_;
  const std::string name_;
  int64_t segment_start_ = -1;  // -1: no open segment
  // Written only by the (serialized) appending calls; read from any thread.
  std::atomic<int64_t> last_txid_;
};

}  // namespace qj::nn
