// The edit record: the unit of the edit log, identical on the wire and in segment files.
//
// Byte format (all integers little-endian):
//
//   offset  size  field
//   0       4     crc32c over bytes [4, 20 + length)   (i.e. everything after this field)
//   4       4     length of the payload in bytes (0 .. kMaxPayloadSize)
//   8       8     txid (>= 1)
//   16      2     op code (opaque to the journal; the namenode's edit op)
//   18      2     reserved, must be zero
//   20      len   payload
//
// A header of 20 zero bytes is never a valid record (the CRC of the 16 zero bytes after
// it is not zero): segment files are preallocated with zeros, and a reader stops at the
// first all-zero header. How a bad record is classified (torn tail or corruption) is the
// segment reader's business: see journalnode/FORMAT.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace qj {

inline constexpr size_t kRecordHeaderSize = 20;
inline constexpr uint32_t kMaxPayloadSize = 1u << 20;  // 1 MiB

struct EditRecord {
  int64_t txid = 0;
  uint16_t op = 0;
  std::string payload;
};

// A decoded record pointing into the buffer it was decoded from.
struct RecordView {
  int64_t txid = 0;
  uint16_t op = 0;
  std::string_view payload;
  size_t encoded_size = 0;  // header + payload
  // The whole encoded record (header and payload), as it lies in the decoded buffer.
  std::string_view raw() const {
    return std::string_view(payload.data() - kRecordHeaderSize, encoded_size);
  }
};

enum class DecodeOutcome {
  kOk,
  kZeroHeader,   // kRecordHeaderSize zero bytes: end of written data in a preallocated file
  kIncomplete,   // fewer bytes than the header or the header's length says
  kBadLength,    // length above kMaxPayloadSize or nonzero reserved bits
  kBadChecksum,  // CRC mismatch
};

// Appends one encoded record to *dst.
void AppendRecord(std::string* dst, int64_t txid, uint16_t op, std::string_view payload);

// Decodes the record at the start of data. On kOk fills *out.
DecodeOutcome DecodeRecord(std::string_view data, RecordView* out);

// Checks that buf holds exactly `count` whole records with txids first_txid,
// first_txid+1, ..., each passing its CRC. Returns InvalidArgument naming the offset and
// txid of the first problem.
Status ValidateRecords(std::string_view buf, int64_t first_txid, int64_t count);

// Decodes every record in buf (which must hold whole records) into *out.
Status DecodeAll(std::string_view buf, std::vector<EditRecord>* out);

}  // namespace qj
