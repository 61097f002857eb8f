// NamenodeServer's administration calls (qjadmin -saveNamespace, -rollEdits, -report),
// kept apart from the serving path in namenode_server.cc.
#include <glog/logging.h>

#include <algorithm>
#include <mutex>
#include <shared_mutex>

#include "namenode/image.h"
#include "namenode/namenode_server.h"

namespace qj::nn {

Result<int64_t> NamenodeServer::SaveNamespace() {
  int64_t txid;
  {
    // Exclusive: no edit is applied while the image is written, and the checkpoint
    // thread (which saves under the shared lock) waits.
    WriterMutexLock l(&ns_mu_);
    if (ns_stale_.load() || ns_ == nullptr) {
      return Status::IllegalState(id_ +
                                  ": the namespace is not loaded or may hold uncommitted "
                                  "edits (the journal failed); no image saved");
    }
    txid = last_applied_txid_;
    if (edit_log_ != nullptr) {
      // The active applies edits before they commit: wait until everything applied is on
      // a majority, so the image holds committed edits only.
      Status st = edit_log_->WaitCommitted(txid, opts_.commit_timeout_ms);
      if (!st.ok()) {
        return Status(st.code(), id_ + ": saveNamespace: edits up to txid " + std::to_string(txid) +
                                     " not committed: " + st.message());
      }
    }
    if (txid > last_image_txid_.load() || LatestImageTxId() < txid) {
      QJ_RETURN_IF_ERROR(SaveImage(*ns_, txid, opts_.name_dir, opts_.file_ops));
    }
  }
  if (txid > last_image_txid_.load()) last_image_txid_ = txid;
  LOG(INFO) << id_ << ": saveNamespace: image at txid " << txid << " in " << opts_.name_dir;
  auto oldest = PurgeImages(opts_.name_dir, opts_.images_retained, opts_.file_ops);
  if (!oldest.ok()) LOG(WARNING) << id_ << ": purging old images: " << oldest.status();
  return txid;
}

Result<int64_t> NamenodeServer::RollEdits() {
  WriterMutexLock l(&ns_mu_);
  QJ_ASSIGN_OR_RETURN(std::shared_ptr<EditLog> log, ServingLogLocked());
  auto first = log->Roll();
  if (!first.ok()) {
    OnJournalFailure(first.status());
    return first.status();
  }
  // The new segment's opening NOOP is applied like any edit (it changes nothing).
  last_applied_txid_ = log->last_txid();
  LOG(INFO) << id_ << ": rollEdits: new segment starts at txid " << *first;
  return *first;
}

NamenodeServer::AdminReport NamenodeServer::GetAdminReport() const {
  AdminReport r;
  r.status = GetStatus();
  {
    ReaderMutexLock l(&ns_mu_);
    if (ns_ != nullptr) r.inode_count = ns_->inode_count();
    if (edit_log_ != nullptr) {
      r.last_written_txid = edit_log_->last_txid();
      r.committed_txid = edit_log_->committed_txid();
    }
  }
  r.image_txid = LatestImageTxId();
  if (r.image_txid >= 0) {
    auto info = opts_.file_ops->Stat(opts_.name_dir + "/" + ImageFileName(r.image_txid));
    if (info.ok()) r.image_age_ms = std::max<int64_t>(0, clock()->WallMillis() - info->mtime_ms);
  }
  return r;
}

}  // namespace qj::nn
