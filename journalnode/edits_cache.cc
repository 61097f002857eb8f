#include "journalnode/edits_cache.h"

#include <algorithm>

#include "common/edit_record.h"

namespace qj::jn {

void EditsCache::Append(int64_t first_txid, int64_t count, std::string_view records) {
  if (count <= 0 || max_bytes_ == 0) return;
  if (!batches_.empty() && first_txid != last_txid() + 1) Clear();
  Batch b;
  b.first_txid = first_txid;
  b.records.assign(records.data(), records.size());
  b.offsets.reserve(static_cast<size_t>(count));
  size_t off = 0;
  for (int64_t i = 0; i < count && off + kRecordHeaderSize <= records.size(); ++i) {
    b.offsets.push_back(static_cast<uint32_t>(off));
    uint32_t len = 0;
    for (int k = 3; k >= 0; --k) len = (len << 8) | static_cast<uint8_t>(records[off + 4 + k]);
    off += kRecordHeaderSize + len;
  }
  bytes_ += b.records.size();
  batches_.push_back(std::move(b));
  while (bytes_ > max_bytes_ && batches_.size() > 1) {
    bytes_ -= batches_.front().records.size();
    batches_.pop_front();
  }
}

void EditsCache::Clear() {
  batches_.clear();
  bytes_ = 0;
}

int64_t EditsCache::Read(int64_t since, int64_t up_to, size_t max_bytes, std::string* out) const {
  if (batches_.empty() || since < first_txid() || since > last_txid() || up_to < since) return 0;
  // The batch holding `since`: the last one whose first_txid <= since.
  auto it = std::upper_bound(batches_.begin(), batches_.end(), since,
                             [](int64_t t, const Batch& b) { return t < b.first_txid; });
  --it;
  int64_t copied = 0;
  int64_t txid = since;
  for (; it != batches_.end() && txid <= up_to; ++it) {
    const Batch& b = *it;
    size_t i = static_cast<size_t>(txid - b.first_txid);
    for (; i < b.offsets.size() && txid <= up_to; ++i, ++txid) {
      const size_t begin = b.offsets[i];
      const size_t end = i + 1 < b.offsets.size() ? b.offsets[i + 1] : b.records.size();
      if (copied > 0 && out->size() + (end - begin) > max_bytes) return copied;
      out->append(b.records, begin, end - begin);
      ++copied;
    }
  }
  return copied;
}

}  // namespace qj::jn
