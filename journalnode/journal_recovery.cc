// Journal: recovery (prepareRecovery / acceptRecovery), segment copies between
// journalnodes, and background catch-up. Persistence order: journalnode/FORMAT.md.
#include <algorithm>

#include "journalnode/journal.h"

namespace qj::jn {
namespace {

std::string RecoveryTmpName(const SegmentState& s) {
  // edits_recovery_<start>-<end>.tmp
  return "edits_recovery_" + FinalizedName(s.start_txid, s.end_txid).substr(6) + ".tmp";
}

std::string CatchupTmpName(const SegmentState& s) {
  return "edits_catchup_" + FinalizedName(s.start_txid, s.end_txid).substr(6) + ".tmp";
}

}  // namespace

Result<PrepareResult> Journal::PrepareRecovery(const RequestHeader& h, int64_t segment_txid) {
  std::lock_guard<std::mutex> io(io_mu_);
  QJ_RETURN_IF_ERROR(CheckRequest(h));
  // The writer being recovered must not append behind the coordinator's back.
  AbortOpenSegment("recovery");
  std::optional<SegmentState> accepted;
  int64_t accepted_epoch = -1;
  Status s = ReadAccepted(segment_txid, &accepted, &accepted_epoch);
  if (!s.ok()) return Fail(s);
  std::lock_guard<std::mutex> l(mu_);
  PrepareResult r;
  r.last_writer_epoch = writer_epoch_;
  r.committed_txid = committed_txid_;
  auto it = segments_.find(segment_txid);
  std::optional<SegmentState> copy;
  // An empty in-progress segment counts as no segment (as in HDFS).
  if (it != segments_.end() && it->second.state.end_txid >= segment_txid) copy = it->second.state;
  if (accepted && !(copy && !copy->in_progress)) {
    if (!copy || copy->end_txid != accepted->end_txid) {
      return ErrorLocked(Status::IllegalState("accepted proposal " + accepted->ToString() +
                                              " (epoch " + std::to_string(accepted_epoch) +
                                              ") does not match the copy on disk " +
                                              (copy ? copy->ToString() : std::string("(none)"))));
    }
    r.accepted_in_epoch = accepted_epoch;
    r.segment = *accepted;
  } else {
    r.segment = copy;
  }
  LOG(INFO) << who_ << " epoch=" << h.epoch << ": prepareRecovery(" << segment_txid
            << "): " << (r.segment ? r.segment->ToString() : "no segment")
            << (r.accepted_in_epoch ? ", accepted in epoch " + std::to_string(*r.accepted_in_epoch)
                                    : std::string())
            << ", writer epoch " << r.last_writer_epoch << ", committed " << r.committed_txid;
  return r;
}

Status Journal::DownloadSegment(const std::string& peer, const SegmentState& want,
                                const std::string& tmp_path) {
  if (opts_.peers == nullptr) {
    return Status::IllegalState("no peer client configured to copy " + want.ToString() + " from " +
                                peer);
  }
  QJ_ASSIGN_OR_RETURN(auto file, ops_->Open(tmp_path, FileOps::Mode::kCreate));
  int64_t offset = 0;
  while (true) {
    QJ_ASSIGN_OR_RETURN(
        SegmentChunkData chunk,
        opts_.peers->GetSegmentChunk(peer, opts_.journal_id, want.start_txid, want.end_txid, offset,
                                     opts_.transfer_chunk_bytes));
    if (chunk.offset != offset || (chunk.data.empty() && !chunk.eof)) {
      return Status::NetworkError("peer " + peer + " sent a bad chunk of " + want.ToString() +
                                  " at offset " + std::to_string(offset));
    }
    QJ_RETURN_IF_ERROR(file->WriteAt(static_cast<uint64_t>(offset), chunk.data));
    offset += static_cast<int64_t>(chunk.data.size());
    if (chunk.eof) break;
  }
  QJ_RETURN_IF_ERROR(file->FullSync());
  file.reset();
  // Every record's CRC and txid, and exactly the wanted range.
  auto scan = ScanSegment(ops_, tmp_path, want.start_txid, want.end_txid, false);
  if (!scan.ok()) {
    return Status::Corruption("copy of " + want.ToString() + " from " + peer +
                              " fails verification: " + scan.status().message());
  }
  return Status::OK();
}

// Renames a verified copy into place as `state` (io_mu_ held) and drops any other copy
// of the same segment.
Status Journal::InstallCopy(const std::string& tmp_path, const SegmentState& state) {
  const std::string target = SegPath(state);
  QJ_RETURN_IF_ERROR(ops_->Rename(tmp_path, target));
  std::vector<SegmentState> others;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = segments_.find(state.start_txid);
    if (it != segments_.end() && SegmentName(it->second.state) != SegmentName(state)) {
      others.push_back(it->second.state);
    }
  }
  // Also an in-progress leftover not (yet) in segments_ (start-up completion).
  if (!state.in_progress && ops_->Exists(CurrentDir() + "/" + InProgressName(state.start_txid))) {
    others.push_back(SegmentState{state.start_txid, state.start_txid - 1, true});
  }
  for (const SegmentState& o : others) {
    Status s = ops_->Unlink(SegPath(o));
    if (!s.ok() && !s.IsNotFound()) return s;
  }
  QJ_RETURN_IF_ERROR(ops_->SyncDir(CurrentDir()));
  QJ_ASSIGN_OR_RETURN(auto f, ops_->Open(target, FileOps::Mode::kRead));
  QJ_ASSIGN_OR_RETURN(uint64_t size, f->Size());
  std::lock_guard<std::mutex> l(mu_);
  segments_[state.start_txid] = SegmentEntry{state, state.in_progress ? size : 0, true};
  if (hint_segment_ == state.start_txid) hint_segment_ = -1;
  cache_.Clear();
  return Status::OK();
}

Status Journal::AcceptRecovery(const RequestHeader& h, const SegmentState& state,
                               const std::string& from_peer) {
  if (state.start_txid < 1 || state.end_txid < state.start_txid) {
    return Status::InvalidArgument(who_ + ": acceptRecovery of an empty or invalid " +
                                   state.ToString());
  }
  bool download = true;
  {
    // 1. Epoch checks (a higher epoch is persisted first), then decide whether this
    //    node's copy must be replaced.
    std::lock_guard<std::mutex> io(io_mu_);
    QJ_RETURN_IF_ERROR(CheckRequest(h));
    AbortOpenSegment("recovery");
    std::lock_guard<std::mutex> l(mu_);
    if (state.end_txid < committed_txid_) {
      return ErrorLocked(Status::OutOfSync("refusing to accept " + state.ToString() +
                                           ": it would drop txids up to the committed "
                                           "txid " +
                                           std::to_string(committed_txid_)));
    }
    auto it = segments_.find(state.start_txid);
    if (it != segments_.end()) {
      const SegmentState& mine = it->second.state;
      if (!mine.in_progress && mine.end_txid != state.end_txid) {
        return ErrorLocked(Status::OutOfSync("refusing to accept " + state.ToString() +
                                             ": this node has " + SegmentName(mine)));
      }
      // A finalized copy of the same range is the agreed log. An in-progress copy of the
      // same length may still hold another writer's edits, so it is copied anyway unless
      // this node is itself the source.
      if (mine.end_txid == state.end_txid &&
          (!mine.in_progress || from_peer.empty() || from_peer == opts_.self_address)) {
        download = false;
      }
    }
  }
  // 2. Copy and verify, with no lock held (an RPC).
  const std::string tmp = CurrentDir() + "/" + RecoveryTmpName(state);
  if (download) {
    Status s = DownloadSegment(from_peer, state, tmp);
    if (!s.ok()) {
      (void)ops_->Unlink(tmp);
      return s.Prepend(who_ + ": acceptRecovery");
    }
  }
  // 3. Re-check the epoch, persist the accepted proposal, then install the copy.
  std::lock_guard<std::mutex> io(io_mu_);
  {
    std::lock_guard<std::mutex> l(mu_);
    QJ_RETURN_IF_ERROR(CheckFormattedServing());
    if (h.epoch < promised_epoch_) {
      (void)ops_->Unlink(tmp);
      return Status::StaleEpoch(promised_epoch_, who_ + ": epoch " + std::to_string(h.epoch) +
                                                     " is below the promised epoch " +
                                                     std::to_string(promised_epoch_) +
                                                     " (during acceptRecovery)");
    }
  }
  Status s = ops_->AtomicWrite(PaxosDir() + "/" + std::to_string(state.start_txid),
                               "startTxId=" + std::to_string(state.start_txid) +
                                   "\nendTxId=" + std::to_string(state.end_txid) +
                                   "\ninProgress=" + (state.in_progress ? "1" : "0") +
                                   "\nacceptedInEpoch=" + std::to_string(h.epoch) + "\n");
  if (!s.ok()) return Fail(s);
  if (download) {
    s = InstallCopy(tmp, state);
    if (!s.ok()) return Fail(s);
  }
  LOG(INFO) << who_ << " epoch=" << h.epoch << ": accepted " << state.ToString()
            << (download ? " (copied from " + from_peer + ")" : std::string(" (own copy)"));
  return Status::OK();
}

Result<int> Journal::CatchUpFrom(const std::string& peer) {
  if (opts_.peers == nullptr) return 0;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!formatted_ || !unavailable_.ok()) return 0;
  }
  QJ_ASSIGN_OR_RETURN(Manifest theirs, opts_.peers->GetManifest(peer, opts_.journal_id));
  std::vector<SegmentState> wanted;
  {
    std::lock_guard<std::mutex> l(mu_);
    const int64_t committed = std::max(committed_txid_, theirs.committed_txid);
    for (const SegmentState& s : theirs.segments) {
      if (s.in_progress || s.end_txid > committed || s.end_txid < s.start_txid) continue;
      bool lacks = true;
      for (const auto& [start, e] : segments_) {
        if (start == s.start_txid && start == open_segment_) lacks = false;  // never the open one
        if (!e.state.in_progress && e.state.start_txid <= s.end_txid &&
            e.state.end_txid >= s.start_txid) {
          lacks = false;  // this node has (some of) the range finalized already
        }
      }
      if (lacks) wanted.push_back(s);
    }
  }
  int installed = 0;
  for (const SegmentState& s : wanted) {
    const std::string tmp = CurrentDir() + "/" + CatchupTmpName(s);
    Status st = DownloadSegment(peer, s, tmp);
    if (!st.ok()) {
      (void)ops_->Unlink(tmp);
      return st.Prepend(who_ + ": catch-up of " + s.ToString() + " from " + peer);
    }
    std::lock_guard<std::mutex> io(io_mu_);
    {
      // Re-check: the writer may have opened this segment, or a recovery installed a
      // finalized copy, meanwhile.
      std::lock_guard<std::mutex> l(mu_);
      bool still_lacks = open_segment_ != s.start_txid && unavailable_.ok();
      for (const auto& [start, e] : segments_) {
        if (!e.state.in_progress && e.state.start_txid <= s.end_txid &&
            e.state.end_txid >= s.start_txid) {
          still_lacks = false;
        }
      }
      if (!still_lacks) {
        (void)ops_->Unlink(tmp);
        continue;
      }
    }
    st = InstallCopy(tmp, s);
    if (!st.ok()) return Fail(st);
    LOG(INFO) << who_ << ": caught up " << s.ToString() << " from " << peer;
    ++installed;
  }
  return installed;
}

}  // namespace qj::jn
