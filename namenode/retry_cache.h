// RetryCache: the outcomes of recent non-idempotent client calls, keyed by the call's
// RetryIds, so that a client that lost an answer (timeout, cut connection, failover) can
// send the same call again and get the original answer instead of having it applied
// twice. The model is HDFS's RetryCache (HDFS-4979).
//
// What goes in: every edit made by a call that carried ids, with the answer that call
// gets (RetryOutcome), inserted by whoever applies the edit: the active when it appends
// it, the standby when it tails it, any namenode when it replays it at start-up or
// catches up during a transition. Because the ids travel in the edit (edit_ops.h,
// FORMAT.md), a new active already knows every call the old one committed. Calls that
// failed (an FsError, nothing journaled) are not cached: a retry runs again and gets the
// same failure or, if the namespace changed meanwhile, the current answer, as in HDFS.
// Calls that made no edit (mkdirs of an existing directory) are idempotent and not
// cached either.
//
// Bounds: an entry lives expiry_ms after its insertion (on the namenode that inserted
// it) and at most max_entries are kept; the oldest go first. A retry after an entry is
// gone runs again. max_entries = 0 turns the cache off. The cache is not in the image:
// a namenode that loads an image knows only the calls journaled after it (HDFS has the
// same limit).
//
// Thread-compatible: NamenodeServer guards it with its namespace lock, so that a lookup,
// the apply of the edit and the insertion are one step (a second call with the same ids
// waits on that lock and then finds the entry).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>

#include "namenode/edit_ops.h"
#include "namenode/namespace.h"

namespace qj::nn {

struct RetryCacheOptions {
  int64_t expiry_ms = 600000;  // HDFS's dfs.namenode.retrycache.expirytime.millis
  int64_t max_entries = 500000;
};

// The answer to a call that made an edit. The call waits for `txid` to commit before it
// answers, first time or from the cache.
struct RetryOutcome {
  int64_t txid = 0;
  std::optional<FileInfo> file;    // create: the new file
  std::optional<BlockInfo> block;  // addBlock: the new block
};

// The answer a call with this edit gets, read from `ns` right after the edit was applied.
RetryOutcome OutcomeOfEdit(const Edit& edit, int64_t txid, const FsNamespace& ns);

class RetryCache {
 public:
  explicit RetryCache(RetryCacheOptions opts) : opts_(opts) {}

  bool enabled() const { return opts_.max_entries > 0; }
  // The outcome recorded for `ids`, or nullptr. now_ms: a monotonic clock.
  const RetryOutcome* Find(const RetryIds& ids, int64_t now_ms);
  // Records (or replaces) the outcome for `ids`; evicts expired and excess entries.
  void Insert(const RetryIds& ids, RetryOutcome outcome, int64_t now_ms);
  // Forgets everything (the namespace was reloaded from an image).
  void Clear();
  size_t size() const { return map_.size(); }

 private:
  struct Entry {
    RetryOutcome outcome;
    int64_t expires_ms = 0;
    uint64_t seq = 0;  // which insertion; a replaced entry leaves a stale order_ item
  };
  static std::string Key(const RetryIds& ids);
  void Evict(int64_t now_ms);

  const RetryCacheOptions opts_;
  std::unordered_map<std::string, Entry> map_;
  // Keys in insertion order, for eviction by age and count.
  std::deque<std::pair<std::string, uint64_t>> order_;
  uint64_t next_seq_ = 0;
};

}  // namespace qj::nn
