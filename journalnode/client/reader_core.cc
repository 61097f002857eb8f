// The quorum reader's decisions. Contract in reader_core.h.
#include "journalnode/client/reader_core.h"

#include <algorithm>

namespace qj::jn {

ReaderCore::ReaderCore(std::string name, std::vector<std::string> names)
    : name_(std::move(name)), names_(std::move(names)), known_committed_(names_.size(), -1) {}

int64_t ReaderCore::known_committed() const {
  if (known_committed_.empty()) return -1;
  return *std::max_element(known_committed_.begin(), known_committed_.end());
}

Status ReaderCore::BeginRead(int64_t from_txid, int max_txns) {
  if (from_txid < 1 || max_txns <= 0) {
    return Status::InvalidArgument("ReadCommitted(" + std::to_string(from_txid) + ", " +
                                   std::to_string(max_txns) + "): bad arguments");
  }
  from_txid_ = from_txid;
  max_txns_ = max_txns;
  failures_.clear();
  return Status::OK();
}

std::vector<int> ReaderCore::ReadOrder() const {
  std::vector<int> order(names_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return known_committed_[a] > known_committed_[b]; });
  return order;
}

Result<bool> ReaderCore::OnEdits(int node, const JournaledEdits& e, std::vector<EditRecord>* out) {
  out->clear();
  known_committed_[node] = std::max(known_committed_[node], e.committed_txid);
  Status bad;
  if (e.num_txns != 0) {
    if (e.first_txid != from_txid_ || e.num_txns < 0 || e.num_txns > max_txns_) {
      bad =
          Status::Corruption(names_[node] + ": asked for " + std::to_string(max_txns_) +
                             " edits from txid " + std::to_string(from_txid_) + ", got " +
                             std::to_string(e.num_txns) + " from " + std::to_string(e.first_txid));
    } else {
      bad = ValidateRecords(e.records, from_txid_, e.num_txns);
      if (!bad.ok()) bad = bad.Prepend(names_[node] + " getJournaledEdits");
      if (bad.ok()) bad = DecodeAll(e.records, out);
    }
  }
  if (!bad.ok()) {
    out->clear();
    OnReadFailed(node, bad);
    return bad;
  }
  if (!out->empty()) return true;
  // An empty answer is final unless some node is known to have more committed: this one
  // (it answered before hearing of the commit point) or another.
  for (int j = 0; j < nodes(); ++j) {
    if (known_committed_[j] >= from_txid_) return false;
  }
  return true;
}

void ReaderCore::OnReadFailed(int node, const Status& s) {
  known_committed_[node] = -1;  // try the others first next time
  failures_ += "; " + s.ToString();
}

Result<std::vector<EditRecord>> ReaderCore::Exhausted() const {
  if (failures_.empty()) return std::vector<EditRecord>();
  return Status::Unavailable(name_ + ": no journalnode served txid " + std::to_string(from_txid_) +
                             failures_);
}

}  // namespace qj::jn
