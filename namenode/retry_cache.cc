#include "namenode/retry_cache.h"

#include <type_traits>
#include <variant>

namespace qj::nn {

RetryOutcome OutcomeOfEdit(const Edit& edit, int64_t txid, const FsNamespace& ns) {
  RetryOutcome o;
  o.txid = txid;
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, CreateEdit>) {
          auto info = ns.StatPath(e.path);
          if (info.ok()) o.file = std::move(info).value();
        } else if constexpr (std::is_same_v<T, AddBlockEdit>) {
          o.block = e.block;
        }
      },
      edit);
  return o;
}

std::string RetryCache::Key(const RetryIds& ids) {
  std::string k = ids.client_id;
  k.append(reinterpret_cast<const char*>(&ids.call_id), sizeof(ids.call_id));
  return k;
}

const RetryOutcome* RetryCache::Find(const RetryIds& ids, int64_t now_ms) {
  if (!enabled() || ids.empty()) return nullptr;
  auto it = map_.find(Key(ids));
  if (it == map_.end() || it->second.expires_ms <= now_ms) return nullptr;
  return &it->second.outcome;
}

void RetryCache::Insert(const RetryIds& ids, RetryOutcome outcome, int64_t now_ms) {
  if (!enabled() || ids.empty()) return;
  std::string key = Key(ids);
  const uint64_t seq = next_seq_++;
  Entry& e = map_[key];
  e.outcome = std::move(outcome);
  e.expires_ms = now_ms + opts_.expiry_ms;
  e.seq = seq;
  order_.emplace_back(std::move(key), seq);
  Evict(now_ms);
}

void RetryCache::Evict(int64_t now_ms) {
  while (!order_.empty()) {
    auto it = map_.find(order_.front().first);
    if (it == map_.end() || it->second.seq != order_.front().second) {
      order_.pop_front();  // replaced or already gone
      continue;
    }
    const bool expired = it->second.expires_ms <= now_ms;
    const bool over = static_cast<int64_t>(map_.size()) > opts_.max_entries;
    if (!expired && !over) break;
    map_.erase(it);
    order_.pop_front();
  }
}

void RetryCache::Clear() {
  map_.clear();
  order_.clear();
}

}  // namespace qj::nn
