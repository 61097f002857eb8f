// Segment files: names, a streaming record reader that tells a torn tail from corruption,
// the start-up / download verifier, and the preallocating append writer.
// Byte formats and the torn-tail rule: journalnode/FORMAT.md (records: common/edit_record.h).
//
// Thread-safety: a SegmentReader or SegmentWriter is used by one thread at a time.
// Failure: Corruption names the file, byte offset and txid; IOError comes from FileOps.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/edit_record.h"
#include "common/file_ops.h"
#include "common/status.h"
#include "journalnode/protocol_types.h"

namespace qj::jn {

// "edits_inprogress_0000000000000000001", "edits_0000000000000000001-0000000000000000100".
std::string InProgressName(int64_t start_txid);
std::string FinalizedName(int64_t start_txid, int64_t end_txid);
std::string SegmentName(const SegmentState& s);
// Parses either name; nullopt for anything else (temp files, VERSION, ...).
std::optional<SegmentState> ParseSegmentName(const std::string& name);

// Reads records front to back in chunks (memory bounded by the largest record + chunk).
class SegmentReader {
 public:
  enum class Step {
    kRecord,    // *rec holds the next record (valid until the next call)
    kEnd,       // clean end: end of file, or a zero header with only zeros after it
    kTornTail,  // a bad or incomplete record with only zeros / end of file after it
    kCorrupt,   // anything else; *detail says what
  };
  // Reads `file` from byte `offset`; file_size bounds the read.
  SegmentReader(SegmentFile* file, uint64_t file_size, uint64_t offset = 0);
  // Also call a bad record a torn tail when the damage is a hole left by a power loss
  // during the last, unsynced batch: see "Torn tail vs corruption" in FORMAT.md. Only
  // for the in-progress segment at start-up; max_unsynced_bytes bounds one batch.
  void AllowHoles(uint64_t max_unsynced_bytes) { max_unsynced_bytes_ = max_unsynced_bytes; }
  // On kTornTail / kCorrupt, offset() is where the bad record starts.
  Result<Step> Next(RecordView* rec, std::string* detail);
  // Byte offset of the next unread record.
  uint64_t offset() const { return offset_; }

 private:
  // Ensures buf_ holds at least n bytes from offset_ (fewer only at end of file).
  Status Fill(size_t n);
  // True if every byte in [from, file_size_) is zero.
  Result<bool> ZerosFrom(uint64_t from);
  // True if a whole record with a valid CRC starts anywhere in [from, to).
  Result<bool> RecordWithin(uint64_t from, uint64_t to);
  // The hole rule for a bad record at offset_ whose bytes claim [offset_, extent).
  Result<bool> TornByHole(uint64_t extent, std::string* detail);

  SegmentFile* const file_;
  const uint64_t file_size_;
  uint64_t offset_;
  std::string buf_;  // bytes of the file starting at buf_offset_
  uint64_t buf_offset_;
  uint64_t max_unsynced_bytes_ = 0;  // 0: holes are corruption
};

// Page size of the hole rule: a power loss keeps or loses whole pages of an unsynced write.
inline constexpr uint64_t kSegmentPageBytes = 4096;

// Outcome of a full verification of one segment file.
struct ScanResult {
  int64_t end_txid = 0;      // last good txid (start - 1 if none)
  uint64_t data_length = 0;  // bytes of whole good records
  uint64_t file_size = 0;
  bool torn_tail = false;  // a torn tail follows data_length (in-progress only)
  std::string torn_detail;
};

// Verifies every record of `path`: CRCs, txids dense from start_txid, and — for a
// finalized segment — the end txid named by the file and no bytes after it. For an
// in-progress segment a torn tail is reported (not an error); the caller truncates it.
// Returns Corruption "<path> offset N: ..." for anything else. max_unsynced_bytes > 0
// (in-progress segments at start-up only) also accepts a torn tail with a hole in it
// (SegmentReader::AllowHoles).
Result<ScanResult> ScanSegment(FileOps* ops, const std::string& path, int64_t start_txid,
                               std::optional<int64_t> expected_end, bool in_progress,
                               uint64_t max_unsynced_bytes = 0);

// Appends batches of encoded records to an in-progress segment; preallocates zeros ahead
// so that a batch's fdatasync rarely has to update the file size.
// After any failed write or sync the writer is broken: every later call fails.
class SegmentWriter {
 public:
  // Creates (or truncates) an empty in-progress segment and fsyncs its directory.
  static Result<std::unique_ptr<SegmentWriter>> Create(FileOps* ops, const std::string& dir,
                                                       int64_t start_txid,
                                                       uint64_t preallocate_bytes);
  // Reopens an in-progress segment whose verified data ends at data_length / end_txid.
  static Result<std::unique_ptr<SegmentWriter>> Reopen(FileOps* ops, const std::string& dir,
                                                       int64_t start_txid, int64_t end_txid,
                                                       uint64_t data_length,
                                                       uint64_t preallocate_bytes);

  // Writes already-validated records for txids [first_txid, first_txid + count) and
  // fdatasyncs. Requires first_txid == end_txid() + 1.
  [[nodiscard]] Status Append(std::string_view records, int64_t first_txid, int64_t count);
  // fdatasync, truncate to the data, fsync, rename to the finalized name, fsync the dir.
  // Requires at least one record. The writer is unusable afterwards.
  [[nodiscard]] Status Finalize();

  int64_t start_txid() const { return start_txid_; }
  int64_t end_txid() const { return end_txid_; }
  uint64_t data_length() const { return data_length_; }
  std::string path() const;
  const Status& broken() const { return broken_; }

 private:
  SegmentWriter(FileOps* ops, std::string dir, int64_t start, std::unique_ptr<SegmentFile> f,
                uint64_t prealloc);
  Status Preallocate(uint64_t needed_end);

  FileOps* const ops_;
  const std::string dir_;
  const int64_t start_txid_;
  std::unique_ptr<SegmentFile> file_;
  const uint64_t prealloc_bytes_;
  int64_t end_txid_;
  uint64_t data_length_ = 0;
  uint64_t allocated_ = 0;  // file size (zeros past data_length_)
  Status broken_;
};

}  // namespace qj::jn

#include "common/sim_plant.h"  // the simulator's planted-bug hooks; inert in production
