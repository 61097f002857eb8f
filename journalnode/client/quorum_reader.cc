// The quorum reader and the administrative calls (format, isFormatted). Contract in
// quorum_writer.h.
#include <glog/logging.h>

#include <algorithm>

#include "journalnode/client/journal_channel.h"
#include "journalnode/client/quorum_call.h"
#include "journalnode/client/quorum_writer.h"
#include "journalnode/client/reader_core.h"

namespace qj::jn {

namespace {

std::vector<std::string> Addresses(const std::vector<std::unique_ptr<JournalChannel>>& chans) {
  std::vector<std::string> out;
  for (const auto& c : chans) out.push_back(c->address().ToString());
  return out;
}

// Drives a ReaderCore (reader_core.h: the decisions) over journal channels.
class QuorumReaderImpl final : public QuorumReader {
 public:
  explicit QuorumReaderImpl(QuorumOptions opts)
      : opts_(std::move(opts)),
        channels_(MakeChannels(opts_)),
        core_(opts_.name + " " + opts_.journal_id, Addresses(channels_)) {}

  Result<std::vector<EditRecord>> ReadCommitted(int64_t from_txid, int max_txns) override;
  Result<int64_t> CommittedTxId() override;

 private:
  // Asks every journalnode for its state and tells the core the committed txids.
  Status Refresh();

  const QuorumOptions opts_;
  std::vector<std::unique_ptr<JournalChannel>> channels_;
  ReaderCore core_;
};

Status QuorumReaderImpl::Refresh() {
  const auto chans = ChannelPointers(channels_);
  // A majority is enough (the writer's heartbeats carry the commit point to every live
  // node), and a paused node must not stall a tailer.
  auto r = CallQuorum<JournalState>(
      chans, MajorityOf(chans.size()), opts_.rpc_timeout_ms,
      opts_.name + " " + opts_.journal_id + ": getJournalState",
      [](JournalChannel& c, ReplyCallback<JournalState> cb) { c.GetJournalState(cb); },
      /*wait_all=*/false, opts_.clock);
  for (size_t i = 0; i < chans.size(); ++i) {
    if (r.replies[i] && r.replies[i]->ok()) {
      core_.OnState(static_cast<int>(i), r.replies[i]->value.committed_txid);
    }
  }
  if (r.successes() == 0) return r.status;
  return Status::OK();
}

Result<int64_t> QuorumReaderImpl::CommittedTxId() {
  QJ_RETURN_IF_ERROR(Refresh());
  return core_.known_committed();
}

Result<std::vector<EditRecord>> QuorumReaderImpl::ReadCommitted(int64_t from_txid, int max_txns) {
  QJ_RETURN_IF_ERROR(core_.BeginRead(from_txid, max_txns));
  if (core_.NeedRefresh(from_txid)) QJ_RETURN_IF_ERROR(Refresh());
  for (int node : core_.ReadOrder()) {
    auto r = CallQuorum<JournaledEdits>(
        {channels_[node].get()}, 1, opts_.rpc_timeout_ms,
        opts_.name + " " + opts_.journal_id + ": getJournaledEdits " + std::to_string(from_txid),
        [&](JournalChannel& c, ReplyCallback<JournaledEdits> cb) {
          c.GetJournaledEdits(from_txid, max_txns, cb);
        },
        /*wait_all=*/false, opts_.clock);
    if (!r.status.ok()) {
      VLOG(1) << opts_.name << ": read from " << channels_[node]->address().ToString()
              << " failed: " << r.status;
      core_.OnReadFailed(node, r.status);
      continue;
    }
    std::vector<EditRecord> edits;
    auto done = core_.OnEdits(node, r.replies[0]->value, &edits);
    if (!done.ok()) {
      VLOG(1) << opts_.name << ": " << done.status();
      continue;
    }
    if (*done) return edits;
  }
  return core_.Exhausted();
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
      /*wait_all=*/true, opts.clock);
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
      /*wait_all=*/true, opts.clock);
  if (r.successes() < majority) return r.status;
  int yes = 0;
  for (const auto& rep : r.replies) yes += (rep && rep->ok() && rep->value) ? 1 : 0;
  return yes >= majority;
}

}  // namespace qj::jn
