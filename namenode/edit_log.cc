#include "namenode/edit_log.h"

#include <glog/logging.h>

namespace qj::nn {

Result<std::unique_ptr<EditLog>> EditLog::Open(const jn::QuorumOptions& opts,
                                               const jn::NamespaceInfo& ns, int64_t segment_txns) {
  QJ_ASSIGN_OR_RETURN(std::unique_ptr<jn::QuorumWriter> w, jn::QuorumWriter::Open(opts, ns));
  LOG(INFO) << opts.name << " " << opts.journal_id << " epoch=" << w->epoch()
            << ": writer open, recovered log ends at txid " << w->last_txid();
  return std::unique_ptr<EditLog>(
      new EditLog(std::move(w), segment_txns < 1 ? 1 : segment_txns, opts.name));
}

EditLog::~EditLog() { writer_->Close(); }

Status EditLog::AppendNext(uint16_t op, std::string_view payload) {
  const int64_t txid = last_txid() + 1;
  QJ_RETURN_IF_ERROR(writer_->Append(txid, op, payload));
  last_txid_.store(txid, std::memory_order_release);
  return Status::OK();
}

Status EditLog::StartSegment() {
  const int64_t first = last_txid() + 1;
  QJ_RETURN_IF_ERROR(writer_->StartSegment(first));
  segment_start_ = first;
  EncodedEdit noop = EncodeEdit(NoopEdit{});
  QJ_RETURN_IF_ERROR(AppendNext(noop.op, noop.payload));
  VLOG(1) << name_ << " epoch=" << epoch() << ": segment " << first << " open";
  return Status::OK();
}

Result<int64_t> EditLog::Append(const EncodedEdit& edit) {
  if (segment_start_ < 1) return Status::IllegalState(name_ + ": append with no open segment");
  const int64_t txid = last_txid() + 1;
  QJ_RETURN_IF_ERROR(AppendNext(edit.op, edit.payload));
  if (txid - segment_start_ + 1 >= segment_txns_) {
    // Rolling waits for this segment to commit on a majority; the caller's lock holds
    // other writers back for that one round trip, every segment_txns edits.
    QJ_RETURN_IF_ERROR(writer_->FinalizeSegment());
    VLOG(1) << name_ << " epoch=" << epoch() << ": segment " << segment_start_ << "-" << txid
            << " finalized";
    segment_start_ = -1;
    QJ_RETURN_IF_ERROR(StartSegment());
  }
  return txid;
}

Status EditLog::Finalize() {
  if (segment_start_ < 0) return Status::OK();
  QJ_RETURN_IF_ERROR(writer_->FinalizeSegment());
  LOG(INFO) << name_ << " epoch=" << epoch() << ": segment " << segment_start_ << "-" << last_txid()
            << " finalized";
  segment_start_ = -1;
  return Status::OK();
}

Result<int64_t> EditLog::Roll() {
  if (segment_start_ < 0) return Status::IllegalState(name_ + ": roll with no open segment");
  QJ_RETURN_IF_ERROR(Finalize());
  QJ_RETURN_IF_ERROR(StartSegment());
  return segment_start_;
}

}  // namespace qj::nn
