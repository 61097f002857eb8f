#include "common/edit_record.h"

#include <cstring>

#include "common/crc32c.h"

namespace qj {
namespace {

void PutU32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
void PutU64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

}  // namespace

void AppendRecord(std::string* dst, int64_t txid, uint16_t op, std::string_view payload) {
  DCHECK_LE(payload.size(), kMaxPayloadSize);
  const size_t start = dst->size();
  dst->resize(start + kRecordHeaderSize);
  char* h = dst->data() + start;
  PutU32(h + 4, static_cast<uint32_t>(payload.size()));
  PutU64(h + 8, static_cast<uint64_t>(txid));
  h[16] = static_cast<char>(op & 0xFF);
  h[17] = static_cast<char>(op >> 8);
  h[18] = 0;
  h[19] = 0;
  dst->append(payload.data(), payload.size());
  h = dst->data() + start;  // append may have moved the buffer
  uint32_t crc = crc32c::Value(h + 4, kRecordHeaderSize - 4 + payload.size());
  PutU32(h, crc);
}

DecodeOutcome DecodeRecord(std::string_view data, RecordView* out) {
  if (data.size() < kRecordHeaderSize) {
    bool all_zero = true;
    for (char c : data) all_zero = all_zero && c == 0;
    return all_zero && !data.empty() ? DecodeOutcome::kZeroHeader : DecodeOutcome::kIncomplete;
  }
  const char* h = data.data();
  static const char kZeros[kRecordHeaderSize] = {};
  if (std::memcmp(h, kZeros, kRecordHeaderSize) == 0) return DecodeOutcome::kZeroHeader;
  const uint32_t len = GetU32(h + 4);
  if (len > kMaxPayloadSize || h[18] != 0 || h[19] != 0) return DecodeOutcome::kBadLength;
  if (data.size() < kRecordHeaderSize + len) return DecodeOutcome::kIncomplete;
  const uint32_t crc = crc32c::Value(h + 4, kRecordHeaderSize - 4 + len);
  if (crc != GetU32(h)) return DecodeOutcome::kBadChecksum;
  out->txid = static_cast<int64_t>(GetU64(h + 8));
  out->op = static_cast<uint16_t>(static_cast<uint8_t>(h[16]) | (static_cast<uint8_t>(h[17]) << 8));
  out->payload = data.substr(kRecordHeaderSize, len);
  out->encoded_size = kRecordHeaderSize + len;
  return DecodeOutcome::kOk;
}

Status ValidateRecords(std::string_view buf, int64_t first_txid, int64_t count) {
  size_t off = 0;
  for (int64_t i = 0; i < count; ++i) {
    RecordView r;
    const int64_t want = first_txid + i;
    DecodeOutcome o = DecodeRecord(buf.substr(off), &r);
    if (o != DecodeOutcome::kOk) {
      return Status::InvalidArgument("record for txid " + std::to_string(want) + " at offset " +
                                     std::to_string(off) + " does not decode (outcome " +
                                     std::to_string(static_cast<int>(o)) + ")");
    }
    if (r.txid != want) {
      return Status::InvalidArgument("record at offset " + std::to_string(off) + " has txid " +
                                     std::to_string(r.txid) + ", expected " + std::to_string(want));
    }
    off += r.encoded_size;
  }
  if (off != buf.size()) {
    return Status::InvalidArgument(std::to_string(buf.size() - off) + " trailing bytes after " +
                                   std::to_string(count) + " records");
  }
  return Status::OK();
}

Status DecodeAll(std::string_view buf, std::vector<EditRecord>* out) {
  size_t off = 0;
  while (off < buf.size()) {
    RecordView r;
    if (DecodeRecord(buf.substr(off), &r) != DecodeOutcome::kOk) {
      return Status::Corruption("bad record at offset " + std::to_string(off));
    }
    out->push_back(EditRecord{r.txid, r.op, std::string(r.payload)});
    off += r.encoded_size;
  }
  return Status::OK();
}

}  // namespace qj
