// The quorum reader and the administrative calls (format, isFormatted). Contract in
// quorum_writer.h.
#include <glog/logging.h>

#include <algorithm>

#include "journalnode/client/journal_channel.h"
#include "journalnode/client/quorum_call.h"
#include "journalnode/client/quorum_writer.h"

namespace qj::jn {

namespace {

class QuorumReaderImpl final : public QuorumReader {
 public:
  explicit QuorumReaderImpl(QuorumOptions opts)
      : opts_(std::move(opts)), channels_(MakeChannels(opts_)) {
    known_committed_.assign(channels_.size(), -1);
  }

  Result<std::vector<EditRecord>> ReadCommitted(int64_t from_txid, int max_txns) override;
  Result<int64_t> CommittedTxId() override;

 private:
  // Asks every journalnode for its state and remembers the committed txids.
  Status Refresh();
  Result<std::vector<EditRecord>> ReadFrom(size_t node, int64_t from_txid, int max_txns);

  const QuorumOptions opts_;
  std::vector<std::unique_ptr<JournalChannel>> channels_;
  std::vector<int64_t> known_committed_;  // per node, from the latest answer
};

Status QuorumReaderImpl::Refresh() {
  const auto chans = ChannelPointers(channels_);
  // A majority is enough (the writer's heartbeats carry the commit point to every live
  // node), and a paused node must not stall a tailer.
  auto r = CallQuorum<JournalStateInfo>(
      chans, MajorityOf(chans.size()), opts_.rpc_timeout_ms,
      opts_.name + " " + opts_.journal_id + ": getJournalState",
      [](JournalChannel& c, ReplyCallback<JournalStateInfo> cb) { c.GetJournalState(cb); });
  for (size_t i = 0; i < chans.size(); ++i) {
    if (r.replies[i] && r.replies[i]->ok()) {
      known_committed_[i] = r.replies[i]->value.committed_txid;
    }
  }
  if (r.successes() == 0) return r.status;
  return Status::OK();
}

Result<int64_t> QuorumReaderImpl::CommittedTxId() {
  QJ_RETURN_IF_ERROR(Refresh());
  return *std::max_element(known_committed_.begin(), known_committed_.end());
}

Result<std::vector<EditRecord>> QuorumReaderImpl::ReadFrom(size_t node, int64_t from_txid,
                                                           int max_txns) {
  auto r = CallQuorum<JournaledEditsInfo>(
      {channels_[node].get()}, 1, opts_.rpc_timeout_ms,
      opts_.name + " " + opts_.journal_id + ": getJournaledEdits " + std::to_string(from_txid),
      [&](JournalChannel& c, ReplyCallback<JournaledEditsInfo> cb) {
        c.GetJournaledEdits(from_txid, max_txns, cb);
      });
  QJ_RETURN_IF_ERROR(r.status);
  const JournaledEditsInfo& e = r.replies[0]->value;
  known_committed_[node] = std::max(known_committed_[node], e.committed_txid);
  std::vector<EditRecord> out;
  if (e.num_txns == 0) return out;
  const std::string where = channels_[node]->address().ToString();
  if (e.first_txid != from_txid || e.num_txns < 0 || e.num_txns > max_txns) {
    return Status::Corruption(where + ": asked for " + std::to_string(max_txns) +
                              " edits from txid " + std::to_string(from_txid) + ", got " +
                              std::to_string(e.num_txns) + " from " + std::to_string(e.first_txid));
  }
  Status s = ValidateRecords(e.records, from_txid, e.num_txns);
  if (!s.ok()) return s.Prepend(where + " getJournaledEdits");
  QJ_RETURN_IF_ERROR(DecodeAll(e.records, &out));
  return out;
}

Result<std::vector<EditRecord>> QuorumReaderImpl::ReadCommitted(int64_t from_txid, int max_txns) {
  if (from_txid < 1 || max_txns <= 0) {
    return Status::InvalidArgument("ReadCommitted(" + std::to_string(from_txid) + ", " +
                                   std::to_string(max_txns) + "): bad arguments");
  }
  if (*std::max_element(known_committed_.begin(), known_committed_.end()) < from_txid) {
    Status s = Refresh();
    if (!s.ok()) return s;
  }
  // Most up to date first.
  std::vector<size_t> order(channels_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return known_committed_[a] > known_committed_[b]; });
  std::string failures;
  for (size_t node : order) {
    auto r = ReadFrom(node, from_txid, max_txns);
    if (r.ok()) {
      // An empty answer is final unless another node is known to have more committed.
      if (!r->empty() || known_committed_[node] >= from_txid) {
        if (r->empty()) continue;
        return r;
      }
      bool others_ahead = false;
      for (size_t j = 0; j < channels_.size(); ++j) {
        others_ahead |= j != node && known_committed_[j] >= from_txid;
      }
      if (!others_ahead) return r;
      continue;
    }
    known_committed_[node] = -1;  // try the others first next time
    VLOG(1) << opts_.name << ": read from " << channels_[node]->address().ToString()
            << " failed: " << r.status();
    failures += "; " + r.status().ToString();
  }
  if (failures.empty()) return std::vector<EditRecord>();
  return Status::Unavailable(opts_.name + " " + opts_.journal_id + ": no journalnode served txid " +
                             std::to_string(from_txid) + failures);
}

}  // namespace

std::unique_ptr<QuorumReader> QuorumReader::Create(const QuorumOptions& opts) {
  return std::make_unique<QuorumReaderImpl>(opts);
}

Status FormatJournal(const QuorumOptions& opts, const NamespaceInfo& ns, bool force) {
  auto channels = MakeChannels(opts);
  const auto chans = ChannelPointers(channels);
  auto r = CallQuorum<Void>(
      chans, static_cast<int>(chans.size()), opts.rpc_timeout_ms * 2,
      opts.name + " " + opts.journal_id + ": format",
      [&](JournalChannel& c, ReplyCallback<Void> cb) { c.Format(ns, force, cb); },
      /*wait_all=*/true);
  if (r.status.ok()) {
    LOG(INFO) << opts.name << " " << opts.journal_id << ": formatted on " << chans.size()
              << " journalnodes (namespace " << ns.namespace_id << ", cluster " << ns.cluster_id
              << ")";
  }
  return r.status;
}

Result<bool> IsJournalFormatted(const QuorumOptions& opts) {
  auto channels = MakeChannels(opts);
  const auto chans = ChannelPointers(channels);
  const int majority = MajorityOf(chans.size());
  auto r = CallQuorum<bool>(
      chans, static_cast<int>(chans.size()), opts.rpc_timeout_ms,
      opts.name + " " + opts.journal_id + ": isFormatted",
      [](JournalChannel& c, ReplyCallback<bool> cb) { c.IsFormatted(cb); },
      /*wait_all=*/true);
  if (r.successes() < majority) return r.status;
  int yes = 0;
  for (const auto& rep : r.replies) yes += (rep && rep->ok() && rep->value) ? 1 : 0;
  return yes >= majority;
}

}  // namespace qj::jn
