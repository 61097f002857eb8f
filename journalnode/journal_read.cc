// Journal: the read side (manifest, committed edits, segment chunks). Reads never take
// io_mu_: they copy what they need under mu_ and read the files without a lock.
#include <algorithm>

#include "journalnode/journal.h"

namespace qj::jn {

Status Journal::NoteReadCorruption(const Status& s) {
  if (s.IsCorruption()) return Fail(s);
  return s.Prepend(who_);
}

Result<Manifest> Journal::GetEditLogManifest(int64_t since_txid, bool in_progress_ok) const {
  MutexLock l(&mu_);
  QJ_RETURN_IF_ERROR(CheckFormattedServing());
  Manifest m;
  m.committed_txid = committed_txid_;
  for (const auto& [start, e] : segments_) {
    if (e.state.end_txid < since_txid) continue;
    if (e.state.in_progress && !in_progress_ok) continue;
    m.segments.push_back(e.state);
  }
  return m;
}

Result<int64_t> Journal::ReadFromSegment(const SegmentEntry& seg, int64_t since, int64_t up_to,
                                         size_t max_bytes, std::string* out) {
  const std::string path = SegPath(seg.state);
  auto file = ops_->Open(path, FileOps::Mode::kRead);
  if (!file.ok()) {
    // Finalized or purged under us: the caller may retry.
    return Status::IOError("read " + path + ": " + file.status().message());
  }
  QJ_ASSIGN_OR_RETURN(uint64_t size, (*file)->Size());
  uint64_t offset = 0;
  int64_t expect = seg.state.start_txid;
  {
    MutexLock l(&mu_);
    if (hint_segment_ == seg.state.start_txid && hint_txid_ <= since && hint_txid_ > expect) {
      offset = hint_offset_;
      expect = hint_txid_;
    }
  }
  SegmentReader reader(file->get(), size, offset);
  auto corrupt = [&](uint64_t at, const std::string& what) {
    return Status::Corruption(path + " offset " + std::to_string(at) + ": " + what);
  };
  int64_t copied = 0;
  uint64_t next_offset = offset;
  while (expect <= up_to) {
    RecordView rec;
    std::string detail;
    const uint64_t at = reader.offset();
    QJ_ASSIGN_OR_RETURN(SegmentReader::Step step, reader.Next(&rec, &detail));
    if (step != SegmentReader::Step::kRecord) {
      if (step == SegmentReader::Step::kEnd) detail = "segment ends early";
      return corrupt(at, detail + " (txid " + std::to_string(expect) + ")");
    }
    if (rec.txid != expect) {
      return corrupt(at, "record has txid " + std::to_string(rec.txid) + ", expected " +
                             std::to_string(expect));
    }
    if (rec.txid >= since) {
      if (copied > 0 && out->size() + rec.encoded_size > max_bytes) break;
      out->append(rec.raw());
      ++copied;
    }
    ++expect;
    next_offset = reader.offset();
  }
  // A finalized segment read to its end is checked to end exactly where its name says.
  if (!seg.state.in_progress && expect == seg.state.end_txid + 1 && next_offset != size) {
    return corrupt(next_offset, "bytes after the last txid " + std::to_string(seg.state.end_txid));
  }
  MutexLock l(&mu_);
  hint_segment_ = seg.state.start_txid;
  hint_txid_ = expect;
  hint_offset_ = next_offset;
  return copied;
}

Result<JournaledEdits> Journal::GetJournaledEdits(int64_t since_txid, int32_t max_txns) {
  // A segment finalized or purged between listing and reading makes one attempt fail
  // with an IOError; the next sees the new state.
  for (int attempt = 1;; ++attempt) {
    auto r = ReadCommitted(since_txid, max_txns);
    if (r.ok() || r.status().code() != StatusCode::kIOError || attempt == 3) return r;
  }
}

Result<JournaledEdits> Journal::ReadCommitted(int64_t since_txid, int32_t max_txns) {
  if (since_txid < 1 || max_txns < 1) {
    return Status::InvalidArgument(who_ +
                                   ": getJournaledEdits needs sinceTxId >= 1 and "
                                   "maxTxns >= 1, got " +
                                   std::to_string(since_txid) + ", " + std::to_string(max_txns));
  }
  max_txns = std::min(max_txns, opts_.max_read_txns);
  JournaledEdits batch;
  batch.first_txid = since_txid;
  std::vector<SegmentEntry> segs;
  int64_t up_to;
  {
    MutexLock l(&mu_);
    QJ_RETURN_IF_ERROR(CheckFormattedServing());
    batch.committed_txid = committed_txid_;
    if (since_txid > QJ_PLANT_OR(PlantServable(), committed_txid_)) return batch;
    up_to = std::min(QJ_PLANT_OR(PlantServable(), committed_txid_), since_txid + max_txns - 1);
    // The writer's segment (open, or the newest in-progress one, which only the writer
    // of writer_epoch_ wrote) is served only when the committed txid came from that
    // writer: an older writer's tail may differ from the committed log.
    int64_t writer_segment = open_segment_;
    if (writer_segment < 0 && !segments_.empty() && segments_.rbegin()->second.state.in_progress) {
      writer_segment = segments_.rbegin()->first;
    }
    const bool open_ok = writer_segment >= 0 && committed_epoch_ == writer_epoch_;
    // The cache holds only edits of the promised epoch's writer (a higher promise clears
    // it), so it serves whenever the committed txid came from that same writer.
    const bool cache_ok = committed_epoch_ == promised_epoch_ && writer_epoch_ == promised_epoch_;
    if (cache_ok) {
      int64_t n = cache_.Read(since_txid, up_to, opts_.max_read_bytes, &batch.records);
      if (n > 0) {
        counters_.cache_hits.Increment();
        batch.num_txns = static_cast<int32_t>(n);
        return batch;
      }
    }
    counters_.cache_misses.Increment();
    for (const auto& [start, e] : segments_) {
      if (e.state.end_txid < since_txid || start > up_to) continue;
      if (e.state.in_progress && !(open_ok && start == writer_segment)) continue;
      segs.push_back(e);
    }
  }
  int64_t txid = since_txid;
  for (const SegmentEntry& seg : segs) {
    if (seg.state.start_txid > txid) break;  // a gap: this node lacks those segments
    if (seg.state.end_txid < txid) continue;
    const int64_t last = std::min(up_to, seg.state.end_txid);
    auto n = ReadFromSegment(seg, txid, last, opts_.max_read_bytes, &batch.records);
    if (!n.ok()) {
      if (batch.num_txns > 0) break;
      return NoteReadCorruption(n.status());
    }
    batch.num_txns += static_cast<int32_t>(*n);
    txid += *n;
    if (txid <= last || txid > up_to) break;  // byte budget reached or done
  }
  return batch;
}

Result<SegmentChunkData> Journal::GetSegmentChunk(int64_t start_txid, int64_t end_txid,
                                                  int64_t offset, int32_t max_bytes) {
  if (offset < 0 || max_bytes < 1 || end_txid < start_txid) {
    return Status::InvalidArgument(who_ +
                                   ": getSegmentChunk needs offset >= 0, maxBytes >= 1 "
                                   "and endTxId >= startTxId");
  }
  SegmentEntry seg;
  {
    MutexLock l(&mu_);
    QJ_RETURN_IF_ERROR(CheckFormattedServing());
    auto it = segments_.find(start_txid);
    if (it == segments_.end()) {
      return ErrorLocked(
          Status::NotFound("no segment starts at txid " + std::to_string(start_txid)));
    }
    seg = it->second;
  }
  if (!seg.state.in_progress && seg.state.end_txid != end_txid) {
    return ErrorLocked(Status::InvalidArgument(
        "segment " + SegmentName(seg.state) + " does not end at txid " + std::to_string(end_txid)));
  }
  if (seg.state.in_progress && seg.state.end_txid < end_txid) {
    return ErrorLocked(Status::OutOfSync("segment " + std::to_string(start_txid) +
                                         " holds durable txids only up to " +
                                         std::to_string(seg.state.end_txid)));
  }
  const std::string path = SegPath(seg.state);
  QJ_ASSIGN_OR_RETURN(auto file, ops_->Open(path, FileOps::Mode::kRead));
  QJ_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  SegmentChunkData chunk;
  chunk.start_txid = start_txid;
  chunk.end_txid = end_txid;
  chunk.offset = offset;
  SegmentReader reader(file.get(), size, static_cast<uint64_t>(offset));
  int64_t prev = -1;
  const size_t cap = static_cast<size_t>(std::min<int32_t>(max_bytes, 16 << 20));
  while (true) {
    RecordView rec;
    std::string detail;
    const uint64_t at = reader.offset();
    QJ_ASSIGN_OR_RETURN(SegmentReader::Step step, reader.Next(&rec, &detail));
    Status bad;
    if (step != SegmentReader::Step::kRecord) {
      bad = Status::Corruption(path + " offset " + std::to_string(at) + ": " +
                               (step == SegmentReader::Step::kEnd
                                    ? "segment ends before txid " + std::to_string(end_txid)
                                    : detail));
    } else if ((offset == 0 && prev < 0 && rec.txid != start_txid) ||
               (prev >= 0 && rec.txid != prev + 1) || rec.txid > end_txid) {
      bad = Status::Corruption(path + " offset " + std::to_string(at) + ": unexpected txid " +
                               std::to_string(rec.txid));
    }
    if (!bad.ok()) {
      // Only a bad record where this node itself started reading is damage to its file;
      // a caller's offset may simply not be a record boundary.
      if (offset != 0 && prev < 0) {
        return ErrorLocked(Status::InvalidArgument("offset " + std::to_string(offset) + " of " +
                                                   path + " is not a record boundary"));
      }
      return NoteReadCorruption(bad);
    }
    if (!chunk.data.empty() && chunk.data.size() + rec.encoded_size > cap) break;
    chunk.data.append(rec.raw());
    prev = rec.txid;
    if (rec.txid == end_txid) {
      chunk.eof = true;
      break;
    }
  }
  return chunk;
}

}  // namespace qj::jn
