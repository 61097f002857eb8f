// Journal: recovery (prepareRecovery / acceptRecovery), segment copies between
// journalnodes, and background catch-up. Persistence order: journalnode/FORMAT.md.
#include <algorithm>

#include "common/progress.h"
#include "journalnode/journal.h"

namespace qj::jn {
namespace {

// edits_recovery_<start>-<end>.epoch<E>.tmp: one temp copy per accepting epoch, so that
// overlapping accepts at different epochs never unlink or overwrite each other's download.
std::string RecoveryTmpName(const SegmentState& s, int64_t epoch) {
  return "edits_recovery_" + FinalizedName(s.start_txid, s.end_txid).substr(6) + ".epoch" +
         std::to_string(epoch) + ".tmp";
}

std::string CatchupTmpName(const SegmentState& s) {
  return "edits_catchup_" + FinalizedName(s.start_txid, s.end_txid).substr(6) + ".tmp";
}

}  // namespace

Result<PrepareResult> Journal::PrepareRecovery(const RequestHeader& h, int64_t segment_txid) {
  MutexLock io(&io_mu_);
  QJ_RETURN_IF_ERROR(CheckRequest(h));
  // The writer being recovered must not append behind the coordinator's back.
  AbortOpenSegment("recovery");
  std::optional<SegmentState> accepted;
  int64_t accepted_epoch = -1, accepted_origin = 0;
  Status s = ReadAccepted(segment_txid, &accepted, &accepted_epoch, &accepted_origin);
  if (!s.ok()) return Fail(s);
  MutexLock l(&mu_);
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
    r.origin_epoch = accepted_origin;
  } else {
    r.segment = copy;
    // The newest in-progress segment holds the records of the last writer that started
    // a segment here; an older or finalized copy's origin is not tracked (unknown).
    if (copy && copy->in_progress && segment_txid == segments_.rbegin()->first) {
      r.origin_epoch = writer_epoch_;
    }
  }
  LOG(INFO) << who_ << " epoch=" << h.epoch << ": prepareRecovery(" << segment_txid
            << "): " << (r.segment ? r.segment->ToString() : "no segment")
            << (r.accepted_in_epoch ? ", accepted in epoch " + std::to_string(*r.accepted_in_epoch)
                                    : std::string())
            << ", origin epoch " << r.origin_epoch << ", writer epoch " << r.last_writer_epoch
            << ", committed " << r.committed_txid;
  return r;
}

Status Journal::ResumeFromPrefix(SegmentFile* tmp, const std::string& peer,
                                 const SegmentState& want, const LocalPrefix& prefix,
                                 int64_t* offset, bool* eof) {
  *eof = false;
  // 1. Copy the local prefix, re-verifying it, and keep its last record.
  QJ_ASSIGN_OR_RETURN(auto src, ops_->Open(prefix.path, FileOps::Mode::kRead));
  SegmentReader reader(src.get(), prefix.data_length, 0);
  std::string buf, last;
  uint64_t written = 0, last_offset = 0;
  for (int64_t txid = want.start_txid; txid <= prefix.end_txid; ++txid) {
    RecordView rec;
    std::string detail;
    const uint64_t at = reader.offset();
    QJ_ASSIGN_OR_RETURN(SegmentReader::Step step, reader.Next(&rec, &detail));
    if (step != SegmentReader::Step::kRecord || rec.txid != txid) {
      return Status::Corruption(prefix.path + " offset " + std::to_string(at) +
                                ": local copy does not hold txid " + std::to_string(txid));
    }
    last.assign(rec.raw());
    last_offset = at;
    buf += last;
    if (buf.size() >= (4u << 20)) {
      QJ_RETURN_IF_ERROR(tmp->WriteAt(written, buf));
      written += buf.size();
      buf.clear();
    }
  }
  QJ_RETURN_IF_ERROR(tmp->WriteAt(written, buf));
  written += buf.size();
  if (written != prefix.data_length) {
    return Status::Corruption(prefix.path + ": local copy length " + std::to_string(written) +
                              " != " + std::to_string(prefix.data_length));
  }
  if (prefix.end_txid < want.start_txid) {
    *offset = 0;
    return Status::OK();
  }
  // 2. The peer's copy must hold the same last record at the same offset: same origin
  //    means same bytes; this catches an origin that was recorded wrongly.
  QJ_ASSIGN_OR_RETURN(
      SegmentChunkData chunk,
      opts_.peers->GetSegmentChunk(
          peer, opts_.journal_id, want.start_txid, want.end_txid, static_cast<int64_t>(last_offset),
          std::max<int32_t>(opts_.transfer_chunk_bytes, static_cast<int32_t>(last.size()))));
  if (chunk.offset != static_cast<int64_t>(last_offset) ||
      chunk.data.compare(0, last.size(), last) != 0) {
    return Status::InvalidArgument("peer " + peer + "'s copy of " + want.ToString() +
                                   " differs from this node's at txid " +
                                   std::to_string(prefix.end_txid));
  }
  QJ_RETURN_IF_ERROR(tmp->WriteAt(written, std::string_view(chunk.data).substr(last.size())));
  *offset = static_cast<int64_t>(last_offset + chunk.data.size());
  *eof = chunk.eof;
  return Status::OK();
}

Status Journal::DownloadSegment(const std::string& peer, const SegmentState& want,
                                const std::string& tmp_path, const LocalPrefix* prefix,
                                const StillWanted& still_wanted) {
  if (opts_.peers == nullptr) {
    return Status::IllegalState("no peer client configured to copy " + want.ToString() + " from " +
                                peer);
  }
  QJ_ASSIGN_OR_RETURN(auto file, ops_->Open(tmp_path, FileOps::Mode::kCreate));
  int64_t offset = 0;
  bool eof = false;
  if (prefix != nullptr) {
    Status s = ResumeFromPrefix(file.get(), peer, want, *prefix, &offset, &eof);
    if (!s.ok()) {
      const StatusCode c = s.code();
      if (c != StatusCode::kInvalidArgument && c != StatusCode::kCorruption &&
          c != StatusCode::kNotFound) {
        return s;
      }
      LOG(WARNING) << who_ << ": cannot extend the local copy of " << want.ToString() << " from "
                   << peer << " (" << s << "); copying all of it";
      offset = 0;
      eof = false;
      QJ_RETURN_IF_ERROR(file->Truncate(0));
    }
  }
  ProgressLog progress(who_ + ": copying " + want.ToString() + " from " + peer, 0, opts_.clock);
  while (!eof) {
    progress.Update(static_cast<uint64_t>(offset));
    if (still_wanted) QJ_RETURN_IF_ERROR(still_wanted());
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
    eof = chunk.eof;
  }
  QJ_RETURN_IF_ERROR(file->FullSync());
  file.reset();
  progress.Done(static_cast<uint64_t>(offset),
                prefix != nullptr && offset > 0 ? " (own prefix extended)" : "");
  // The copy's directory entry durable too, before anyone persists a proposal naming it:
  // else a power loss could keep paxos/<s> and lose the copy (found by the simulator,
  // journal_sim --seed=228 before this line), and start-up could not complete the accept.
  QJ_RETURN_IF_ERROR(ops_->SyncDir(tmp_path.substr(0, tmp_path.rfind('/'))));
  // Every record's CRC and txid, and exactly the wanted range.
  auto scan = ScanSegment(ops_, tmp_path, want.start_txid, want.end_txid, false);
  if (!scan.ok()) {
    return Status::Corruption("copy of " + want.ToString() + " from " + peer +
                              " fails verification: " + scan.status().message());
  }
  return Status::OK();
}

Status Journal::InstallCopy(const std::string& tmp_path, const SegmentState& state) {
  const std::string target = SegPath(state);
  QJ_RETURN_IF_ERROR(ops_->Rename(tmp_path, target));
  std::vector<SegmentState> others;
  {
    MutexLock l(&mu_);
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
  if (!QJ_PLANTED(kNoDirSync)) QJ_RETURN_IF_ERROR(ops_->SyncDir(CurrentDir()));
  QJ_ASSIGN_OR_RETURN(auto f, ops_->Open(target, FileOps::Mode::kRead));
  QJ_ASSIGN_OR_RETURN(uint64_t size, f->Size());
  MutexLock l(&mu_);
  segments_[state.start_txid] = SegmentEntry{state, state.in_progress ? size : 0, true};
  if (hint_segment_ == state.start_txid) hint_segment_ = -1;
  cache_.Clear();
  return Status::OK();
}

Status Journal::AcceptRecovery(const RequestHeader& h, const SegmentState& state,
                               const std::string& from_peer, int64_t origin_epoch) {
  if (state.start_txid < 1 || state.end_txid < state.start_txid) {
    return Status::InvalidArgument(who_ + ": acceptRecovery of an empty or invalid " +
                                   state.ToString());
  }
  const bool from_self = from_peer.empty() || from_peer == opts_.self_address;
  bool download = true;
  std::optional<LocalPrefix> prefix;
  int64_t generation;
  {
    // 1. Epoch checks (a higher epoch is persisted first), then decide what this node's
    //    copy lacks.
    MutexLock io(&io_mu_);
    QJ_RETURN_IF_ERROR(CheckRequest(h));
    AbortOpenSegment("recovery");
    std::optional<SegmentState> accepted;
    int64_t accepted_epoch = -1, accepted_origin = 0;
    Status rs = ReadAccepted(state.start_txid, &accepted, &accepted_epoch, &accepted_origin);
    if (!rs.ok()) return Fail(rs);
    MutexLock l(&mu_);
    generation = format_generation_;
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
      // Origin of this node's copy, as prepareRecovery reports it.
      int64_t my_origin = 0;
      if (mine.in_progress) {
        if (accepted && accepted->end_txid == mine.end_txid) {
          my_origin = accepted_origin;
        } else if (!accepted && state.start_txid == segments_.rbegin()->first) {
          my_origin = writer_epoch_;
        }
      }
      const bool same_origin = origin_epoch > 0 && my_origin == origin_epoch;
      // A finalized copy of the same range is the agreed log; an in-progress copy of the
      // same length is the same only if this node is the source or it holds the same
      // writer's records (same origin). Otherwise it may hold another writer's edits.
      if (mine.end_txid == state.end_txid && (!mine.in_progress || from_self || same_origin)) {
        download = false;
      } else if (same_origin && mine.end_txid < state.end_txid) {
        // Same writer, shorter: fetch only the records it lacks.
        prefix = LocalPrefix{SegPath(mine), it->second.data_length, mine.end_txid};
      }
    }
  }
  // 2. Copy and verify, with no lock held (RPCs). The temp name carries the epoch; the
  //    download stops as soon as a higher epoch is promised or the journal reformatted.
  const std::string tmp = CurrentDir() + "/" + RecoveryTmpName(state, h.epoch);
  auto superseded = [&]() -> Status {
    MutexLock l(&mu_);
    if (generation != format_generation_) {
      return ErrorLocked(Status::IllegalState("journal reformatted during acceptRecovery of " +
                                              state.ToString() + " in epoch " +
                                              std::to_string(h.epoch)));
    }
    if (h.epoch < promised_epoch_) {
      return Status::StaleEpoch(promised_epoch_, who_ + ": epoch " + std::to_string(h.epoch) +
                                                     " is below the promised epoch " +
                                                     std::to_string(promised_epoch_) +
                                                     " (during acceptRecovery)");
    }
    return CheckFormattedServing();
  };
  if (download) {
    Status s = DownloadSegment(from_peer, state, tmp, prefix ? &*prefix : nullptr, superseded);
    if (!s.ok()) {
      (void)ops_->Unlink(tmp);
      return s.Prepend(who_ + ": acceptRecovery");
    }
  }
  // 3. Re-check the epoch and the format generation (format holds io_mu_ throughout),
  //    persist the accepted proposal with the copy's origin, then install the copy.
  MutexLock io(&io_mu_);
  Status still = superseded();
  if (!still.ok()) {
    if (download) (void)ops_->Unlink(tmp);
    return still;
  }
  Status s = ops_->AtomicWrite(PaxosDir() + "/" + std::to_string(state.start_txid),
                               "startTxId=" + std::to_string(state.start_txid) +
                                   "\nendTxId=" + std::to_string(state.end_txid) +
                                   "\ninProgress=" + (state.in_progress ? "1" : "0") +
                                   "\nacceptedInEpoch=" + std::to_string(h.epoch) +
                                   "\nwriterEpoch=" + std::to_string(origin_epoch) + "\n");
  if (!s.ok()) return Fail(s);
  if (download) {
    s = InstallCopy(tmp, state);
    if (!s.ok()) return Fail(s);
  }
  LOG(INFO) << who_ << " epoch=" << h.epoch << ": accepted " << state.ToString()
            << " (origin epoch " << origin_epoch << ", "
            << (!download ? std::string("own copy")
                          : (prefix ? "extended own copy from " : "copied from ") + from_peer)
            << ")";
  return Status::OK();
}

Result<int> Journal::CatchUpFrom(const std::string& peer) {
  if (opts_.peers == nullptr) return 0;
  {
    MutexLock l(&mu_);
    if (!formatted_ || !unavailable_.ok()) return 0;
  }
  QJ_ASSIGN_OR_RETURN(Manifest theirs, opts_.peers->GetManifest(peer, opts_.journal_id));
  std::vector<SegmentState> wanted;
  {
    MutexLock l(&mu_);
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
    MutexLock io(&io_mu_);
    {
      // Re-check: the writer may have opened this segment, or a recovery installed a
      // finalized copy, meanwhile.
      MutexLock l(&mu_);
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
