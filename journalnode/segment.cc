#include "journalnode/segment.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace qj::jn {
namespace {

constexpr size_t kReadChunk = 1 << 20;
constexpr char kInProgressPrefix[] = "edits_inprogress_";
constexpr char kFinalizedPrefix[] = "edits_";

std::string Pad(int64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%019" PRId64, v);
  return buf;
}

// Parses exactly 19 decimal digits.
std::optional<int64_t> ParsePadded(const std::string& s) {
  if (s.size() != 19) return std::nullopt;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    if (v > (INT64_MAX - (c - '0')) / 10) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

}  // namespace

std::string InProgressName(int64_t start_txid) { return kInProgressPrefix + Pad(start_txid); }

std::string FinalizedName(int64_t start_txid, int64_t end_txid) {
  return kFinalizedPrefix + Pad(start_txid) + "-" + Pad(end_txid);
}

std::string SegmentName(const SegmentState& s) {
  return s.in_progress ? InProgressName(s.start_txid) : FinalizedName(s.start_txid, s.end_txid);
}

std::optional<SegmentState> ParseSegmentName(const std::string& name) {
  const size_t ip_len = std::strlen(kInProgressPrefix);
  if (name.compare(0, ip_len, kInProgressPrefix) == 0) {
    auto start = ParsePadded(name.substr(ip_len));
    if (!start || *start < 1) return std::nullopt;
    return SegmentState{*start, *start - 1, true};
  }
  const size_t f_len = std::strlen(kFinalizedPrefix);
  if (name.size() == f_len + 19 + 1 + 19 && name.compare(0, f_len, kFinalizedPrefix) == 0 &&
      name[f_len + 19] == '-') {
    auto start = ParsePadded(name.substr(f_len, 19));
    auto end = ParsePadded(name.substr(f_len + 20));
    if (!start || !end || *start < 1 || *end < *start) return std::nullopt;
    return SegmentState{*start, *end, false};
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------
// SegmentReader

SegmentReader::SegmentReader(SegmentFile* file, uint64_t file_size, uint64_t offset)
    : file_(file), file_size_(file_size), offset_(offset), buf_offset_(offset) {}

Status SegmentReader::Fill(size_t n) {
  uint64_t have_end = buf_offset_ + buf_.size();
  if (offset_ >= buf_offset_ && have_end >= offset_ + n) return Status::OK();
  if (offset_ >= buf_offset_ && offset_ <= have_end) {
    buf_.erase(0, offset_ - buf_offset_);
  } else {
    buf_.clear();
  }
  buf_offset_ = offset_;
  const uint64_t read_from = buf_offset_ + buf_.size();
  if (read_from >= file_size_) return Status::OK();
  const uint64_t want = std::max<uint64_t>(n, kReadChunk) - std::min<uint64_t>(n, buf_.size());
  const size_t read_n = static_cast<size_t>(std::min<uint64_t>(want, file_size_ - read_from));
  std::string tmp;
  QJ_RETURN_IF_ERROR(file_->ReadAt(read_from, read_n, &tmp));
  buf_ += tmp;
  return Status::OK();
}

Result<bool> SegmentReader::ZerosFrom(uint64_t from) {
  std::string chunk;
  for (uint64_t off = from; off < file_size_;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kReadChunk, file_size_ - off));
    QJ_RETURN_IF_ERROR(file_->ReadAt(off, n, &chunk));
    if (chunk.empty()) break;
    for (char c : chunk) {
      if (c != 0) return false;
    }
    off += chunk.size();
  }
  return true;
}

Result<SegmentReader::Step> SegmentReader::Next(RecordView* rec, std::string* detail) {
  if (offset_ >= file_size_) return Step::kEnd;
  QJ_RETURN_IF_ERROR(Fill(kRecordHeaderSize));
  std::string_view view(buf_);
  view.remove_prefix(offset_ - buf_offset_);
  uint32_t len = 0;
  if (view.size() >= kRecordHeaderSize) {
    len = GetU32(view.data() + 4);
    if (len <= kMaxPayloadSize && view.size() < kRecordHeaderSize + len) {
      QJ_RETURN_IF_ERROR(Fill(kRecordHeaderSize + len));
      view = std::string_view(buf_);
      view.remove_prefix(offset_ - buf_offset_);
    }
  }
  const DecodeOutcome outcome = DecodeRecord(view, rec);
  uint64_t extent = offset_;
  switch (outcome) {
    case DecodeOutcome::kOk:
      offset_ += rec->encoded_size;
      return Step::kRecord;
    case DecodeOutcome::kZeroHeader: {
      QJ_ASSIGN_OR_RETURN(bool zeros, ZerosFrom(offset_));
      if (zeros) return Step::kEnd;
      *detail = "nonzero bytes after a zero record header";
      QJ_ASSIGN_OR_RETURN(bool hole, TornByHole(offset_ + kRecordHeaderSize, detail));
      return hole ? Step::kTornTail : Step::kCorrupt;
    }
    case DecodeOutcome::kIncomplete:
      *detail = "record cut short by the end of the file";
      break;
    case DecodeOutcome::kBadLength:
      extent += kRecordHeaderSize;
      *detail = "bad record length " + std::to_string(len) + " or reserved bits";
      break;
    case DecodeOutcome::kBadChecksum:
      extent += kRecordHeaderSize + len;
      *detail = "record fails its CRC32C";
      break;
  }
  if (outcome == DecodeOutcome::kIncomplete) extent = file_size_;
  extent = std::min(extent, file_size_);
  QJ_ASSIGN_OR_RETURN(bool zeros_after, ZerosFrom(extent));
  bool hidden = false;
  if (zeros_after) {
    // A damaged length can make a middle record look like the last one: if any whole,
    // valid record starts inside the bad record's extent, this was not a torn write.
    QJ_ASSIGN_OR_RETURN(hidden, RecordWithin(offset_ + 1, extent));
    if (!hidden) return Step::kTornTail;
    *detail += "; a valid record follows it";
  } else {
    *detail += "; nonzero bytes follow it";
  }
  QJ_ASSIGN_OR_RETURN(bool hole, TornByHole(std::max(extent, offset_ + 1), detail));
  return hole ? Step::kTornTail : Step::kCorrupt;
}

// The writer appends one batch, fdatasyncs it, and only then writes the next (a failed
// sync stops the journal), so after a power loss at most the last batch is unsynced, and
// the page cache may have written any subset of its pages: a lost page reads back as it
// was last synced, i.e. zeros (preallocated) from where the batch began. So a bad record
// is the torn tail of an unacknowledged batch when a page it covers is zero from the
// record (or the page start) to the page end — a hole — and every nonzero byte after it
// lies within one batch. Bit rot or a bad length byte leaves no such zero page.
Result<bool> SegmentReader::TornByHole(uint64_t extent, std::string* detail) {
  if (max_unsynced_bytes_ == 0) return false;
  const uint64_t end = std::min(extent, file_size_);
  uint64_t hole_at = UINT64_MAX;
  for (uint64_t page = offset_ / kSegmentPageBytes * kSegmentPageBytes; page < end;
       page += kSegmentPageBytes) {
    const uint64_t from = std::max(page, offset_);
    const uint64_t to = std::min(page + kSegmentPageBytes, file_size_);
    if (from >= to) break;
    std::string bytes;
    QJ_RETURN_IF_ERROR(file_->ReadAt(from, static_cast<size_t>(to - from), &bytes));
    if (bytes.size() == to - from &&
        std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == 0; })) {
      hole_at = from;
      break;
    }
  }
  if (hole_at == UINT64_MAX) return false;
  // The last nonzero byte of the file.
  uint64_t last_nonzero = offset_;
  for (uint64_t hi = file_size_; hi > offset_;) {
    const uint64_t lo = hi - std::min<uint64_t>(kReadChunk, hi - offset_);
    std::string chunk;
    QJ_RETURN_IF_ERROR(file_->ReadAt(lo, static_cast<size_t>(hi - lo), &chunk));
    size_t i = chunk.size();
    while (i > 0 && chunk[i - 1] == 0) --i;
    if (i > 0) {
      last_nonzero = lo + i - 1;
      break;
    }
    hi = lo;
  }
  if (last_nonzero - offset_ >= max_unsynced_bytes_) {
    *detail += "; a hole at offset " + std::to_string(hole_at) + " but nonzero bytes up to " +
               std::to_string(last_nonzero) + ", more than one batch";
    return false;
  }
  *detail += "; a hole (lost unsynced pages) at offset " + std::to_string(hole_at) +
             ", unsynced bytes up to offset " + std::to_string(last_nonzero);
  return true;
}

Result<bool> SegmentReader::RecordWithin(uint64_t from, uint64_t to) {
  if (to <= from) return false;
  std::string bytes;
  QJ_RETURN_IF_ERROR(file_->ReadAt(from, static_cast<size_t>(to - from), &bytes));
  std::string_view view(bytes);
  for (size_t i = 0; i + kRecordHeaderSize <= view.size(); ++i) {
    RecordView rec;
    if (DecodeRecord(view.substr(i), &rec) == DecodeOutcome::kOk) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------
// ScanSegment

Result<ScanResult> ScanSegment(FileOps* ops, const std::string& path, int64_t start_txid,
                               std::optional<int64_t> expected_end, bool in_progress,
                               uint64_t max_unsynced_bytes) {
  QJ_ASSIGN_OR_RETURN(std::unique_ptr<SegmentFile> file, ops->Open(path, FileOps::Mode::kRead));
  QJ_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  ScanResult result;
  result.file_size = size;
  result.end_txid = start_txid - 1;
  SegmentReader reader(file.get(), size);
  if (in_progress && !QJ_PLANTED(kNoHoles)) reader.AllowHoles(max_unsynced_bytes);
  auto corrupt = [&](uint64_t offset, const std::string& what) {
    return Status::Corruption(path + " offset " + std::to_string(offset) + ": " + what);
  };
  while (true) {
    RecordView rec;
    std::string detail;
    const uint64_t at = reader.offset();
    QJ_ASSIGN_OR_RETURN(SegmentReader::Step step, reader.Next(&rec, &detail));
    if (step == SegmentReader::Step::kRecord) {
      const int64_t want = result.end_txid + 1;
      if (rec.txid != want) {
        return corrupt(at, "record has txid " + std::to_string(rec.txid) + ", expected " +
                               std::to_string(want));
      }
      if (expected_end && rec.txid > *expected_end) {
        return corrupt(at, "txid " + std::to_string(rec.txid) + " past the segment's end " +
                               std::to_string(*expected_end));
      }
      result.end_txid = rec.txid;
      result.data_length = reader.offset();
      continue;
    }
    if (step == SegmentReader::Step::kCorrupt) {
      return corrupt(at, detail + " (txid " + std::to_string(result.end_txid + 1) + ")");
    }
    if (step == SegmentReader::Step::kTornTail) {
      if (!in_progress) {
        return corrupt(at, detail + " (txid " + std::to_string(result.end_txid + 1) +
                               ") in a finalized segment");
      }
      result.torn_tail = true;
      result.torn_detail = detail;
      break;
    }
    // kEnd.
    if (!in_progress && result.data_length != size) {
      return corrupt(result.data_length, "zero bytes after the last record of a finalized segment");
    }
    break;
  }
  if (expected_end && result.end_txid != *expected_end) {
    return corrupt(result.data_length, "segment ends at txid " + std::to_string(result.end_txid) +
                                           " but should end at " + std::to_string(*expected_end));
  }
  return result;
}

// ---------------------------------------------------------------------------------------
// SegmentWriter

SegmentWriter::SegmentWriter(FileOps* ops, std::string dir, int64_t start,
                             std::unique_ptr<SegmentFile> f, uint64_t prealloc)
    : ops_(ops),
      dir_(std::move(dir)),
      start_txid_(start),
      file_(std::move(f)),
      prealloc_bytes_(std::max<uint64_t>(prealloc, 4096)),
      end_txid_(start - 1) {}

std::string SegmentWriter::path() const { return dir_ + "/" + InProgressName(start_txid_); }

Result<std::unique_ptr<SegmentWriter>> SegmentWriter::Create(FileOps* ops, const std::string& dir,
                                                             int64_t start_txid,
                                                             uint64_t preallocate_bytes) {
  const std::string path = dir + "/" + InProgressName(start_txid);
  QJ_ASSIGN_OR_RETURN(std::unique_ptr<SegmentFile> f, ops->Open(path, FileOps::Mode::kCreate));
  std::unique_ptr<SegmentWriter> w(
      new SegmentWriter(ops, dir, start_txid, std::move(f), preallocate_bytes));
  QJ_RETURN_IF_ERROR(w->Preallocate(1));
  QJ_RETURN_IF_ERROR(w->file_->FullSync());
  QJ_RETURN_IF_ERROR(ops->SyncDir(dir));
  return w;
}

Result<std::unique_ptr<SegmentWriter>> SegmentWriter::Reopen(FileOps* ops, const std::string& dir,
                                                             int64_t start_txid, int64_t end_txid,
                                                             uint64_t data_length,
                                                             uint64_t preallocate_bytes) {
  const std::string path = dir + "/" + InProgressName(start_txid);
  QJ_ASSIGN_OR_RETURN(std::unique_ptr<SegmentFile> f, ops->Open(path, FileOps::Mode::kWrite));
  QJ_ASSIGN_OR_RETURN(uint64_t size, f->Size());
  std::unique_ptr<SegmentWriter> w(
      new SegmentWriter(ops, dir, start_txid, std::move(f), preallocate_bytes));
  w->end_txid_ = end_txid;
  w->data_length_ = data_length;
  w->allocated_ = size;
  if (size < data_length) {
    return Status::Corruption(path + " is " + std::to_string(size) + " bytes, shorter than its " +
                              std::to_string(data_length) + " bytes of records");
  }
  return w;
}

Status SegmentWriter::Preallocate(uint64_t needed_end) {
  if (allocated_ >= needed_end) return Status::OK();
  const uint64_t chunks = (needed_end - allocated_ + prealloc_bytes_ - 1) / prealloc_bytes_;
  const std::string zeros(static_cast<size_t>(chunks * prealloc_bytes_), '\0');
  QJ_RETURN_IF_ERROR(file_->WriteAt(allocated_, zeros));
  allocated_ += zeros.size();
  return Status::OK();
}

Status SegmentWriter::Append(std::string_view records, int64_t first_txid, int64_t count) {
  if (!broken_.ok()) return broken_;
  DCHECK_EQ(first_txid, end_txid_ + 1);
  Status s = Preallocate(data_length_ + records.size());
  if (s.ok()) s = file_->WriteAt(data_length_, records);
  // One fdatasync per batch; the preallocated size rarely changes, so it stays cheap.
  if (s.ok() && !QJ_PLANTED(kNoDataSync)) s = file_->DataSync();
  if (!s.ok()) {
    broken_ = s;
    return s;
  }
  data_length_ += records.size();
  end_txid_ = first_txid + count - 1;
  return Status::OK();
}

Status SegmentWriter::Finalize() {
  if (!broken_.ok()) return broken_;
  if (end_txid_ < start_txid_) {
    return Status::IllegalState("cannot finalize empty segment " + path());
  }
  Status s = file_->DataSync();
  if (s.ok()) s = file_->Truncate(data_length_);
  if (s.ok()) s = file_->FullSync();
  if (s.ok()) s = ops_->Rename(path(), dir_ + "/" + FinalizedName(start_txid_, end_txid_));
  if (s.ok() && !QJ_PLANTED(kNoDirSync)) s = ops_->SyncDir(dir_);
  broken_ = s.ok() ? Status::IllegalState("segment " + path() + " already finalized") : s;
  return s;
}

}  // namespace qj::jn
