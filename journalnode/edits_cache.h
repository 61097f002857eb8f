// A bounded in-memory cache of recent durable edits (encoded records), so that tailing
// readers are served without touching segment files. Holds one dense txid range; an
// append that does not continue it clears it. Evicts the oldest batches past max_bytes.
//
// Thread-compatible: the owning Journal guards it with its mutex.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace qj::jn {

class EditsCache {
 public:
  explicit EditsCache(size_t max_bytes) : max_bytes_(max_bytes) {}

  // Adds records [first_txid, first_txid + count) (already validated, durable).
  void Append(int64_t first_txid, int64_t count, std::string_view records);
  void Clear();

  // Copies the records of txids [since, up_to] into *out, stopping before max_bytes
  // would be exceeded (at least one record is copied). Returns the number copied, or 0
  // if `since` is not cached.
  int64_t Read(int64_t since, int64_t up_to, size_t max_bytes, std::string* out) const;

  // First and last cached txid; first > last when empty.
  int64_t first_txid() const { return batches_.empty() ? 1 : batches_.front().first_txid; }
  int64_t last_txid() const { return batches_.empty() ? 0 : batches_.back().last_txid(); }
  size_t bytes() const { return bytes_; }

 private:
  struct Batch {
    int64_t first_txid;
    std::string records;
    std::vector<uint32_t> offsets;  // offset of each record in `records`
    int64_t last_txid() const { return first_txid + static_cast<int64_t>(offsets.size()) - 1; }
  };

  const size_t max_bytes_;
  std::deque<Batch> batches_;
  size_t bytes_ = 0;
};

}  // namespace qj::jn
