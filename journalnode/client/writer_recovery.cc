// Becoming writer and recovering the last segment (DESIGN §4); QuorumWriter::Open.
// The choice among prepareRecovery answers is the pure function in recovery.h.
#include <glog/logging.h>

#include <algorithm>

#include "journalnode/client/quorum_call.h"
#include "journalnode/client/quorum_writer_impl.h"
#include "journalnode/client/recovery.h"

namespace qj::jn {
namespace internal {

Status QuorumWriterImpl::BecomeWriterAndRecover() {
  const auto chans = Channels();
  const int majority = MajorityOf(chans.size());
  const int64_t timeout = opts_.recovery_timeout_ms;
  const std::string who = opts_.name + " " + opts_.journal_id;

  // 1. Journal states from a majority: the highest promise and what is committed.
  auto states = CallQuorum<JournalStateInfo>(
      chans, majority, timeout, who + ": getJournalState",
      [](JournalChannel& c, ReplyCallback<JournalStateInfo> cb) { c.GetJournalState(cb); });
  if (!states.status.ok()) {
    int not_formatted = 0;
    for (const auto& r : states.replies) {
      if (r && r->status.code() == StatusCode::kNotFormatted) ++not_formatted;
    }
    if (not_formatted >= majority) {
      return Status::NotFormatted(who + ": journal is not formatted on a majority");
    }
    return states.status;
  }
  int64_t max_promised = 0, known_committed = -1;
  for (const auto& r : states.replies) {
    if (!r || !r->ok()) continue;
    max_promised = std::max(max_promised, r->value.promised_epoch);
    known_committed = std::max(known_committed, r->value.committed_txid);
  }

  // 2. A new epoch on a majority; on a lost race retry higher, a bounded number of times.
  QuorumResult<int64_t> epochs;
  for (int attempt = 1;; ++attempt) {
    const int64_t proposal = max_promised + 1;
    epochs = CallQuorum<int64_t>(
        chans, majority, timeout, who + ": newEpoch " + std::to_string(proposal),
        [&](JournalChannel& c, ReplyCallback<int64_t> cb) { c.NewEpoch(ns_, proposal, cb); });
    if (epochs.status.ok()) {
      epoch_ = proposal;
      break;
    }
    if (!epochs.status.IsStaleEpoch() || attempt >= opts_.max_epoch_attempts) {
      return epochs.status;
    }
    for (const auto& r : epochs.replies) {
      if (r && r->status.IsStaleEpoch()) {
        max_promised = std::max(max_promised, r->status.promised_epoch());
      }
    }
    max_promised = std::max(max_promised, proposal);
    LOG(INFO) << who << ": lost the race for epoch " << proposal << ", retrying";
  }
  int64_t last_segment = -1;
  for (const auto& r : epochs.replies) {
    if (r && r->ok()) last_segment = std::max(last_segment, r->value);
  }
  LOG(INFO) << Who() << ": became writer; newest segment starts at " << last_segment;

  // 3. Recover the newest segment: prepare on a majority, choose, accept on a majority,
  //    finalize.
  int64_t end = 0;
  if (last_segment < 0) {
    if (known_committed > 0) {
      return Status::IllegalState(Who() + ": no segments on a majority, but txid " +
                                  std::to_string(known_committed) + " was reported committed");
    }
  } else {
    WriterHeader h{epoch_, known_committed};
    auto prep = CallQuorum<PrepareAnswer>(
        chans, majority, timeout, Who() + ": prepareRecovery " + std::to_string(last_segment),
        [&](JournalChannel& c, ReplyCallback<PrepareAnswer> cb) {
          c.PrepareRecovery(h, last_segment, cb);
        });
    QJ_RETURN_IF_ERROR(prep.status);
    std::vector<std::optional<PrepareAnswer>> answers(chans.size());
    for (size_t i = 0; i < chans.size(); ++i) {
      if (prep.replies[i] && prep.replies[i]->ok()) answers[i] = prep.replies[i]->value;
    }
    auto choice = ChooseRecovery(last_segment, answers, known_committed);
    if (!choice.ok()) return choice.status().Prepend(Who());
    LOG(INFO) << Who() << ": recovery of segment " << last_segment << " chose "
              << choice->ToString();
    end = choice->end_txid;
    if (choice->node >= 0) {
      const std::string from = chans[choice->node]->address().ToString();
      const SegmentDesc seg = choice->segment;
      // The chosen copy's origin lets nodes holding the same writer's records fetch only
      // what they lack. The call has its own, longer timeout: a node may copy the whole
      // segment before it answers.
      const int64_t origin = answers[choice->node] ? answers[choice->node]->origin_epoch : 0;
      const int64_t accept_timeout = std::max(opts_.accept_recovery_timeout_ms, opts_.rpc_timeout_ms);
      auto acc = CallQuorum<Void>(
          chans, majority, std::max(timeout, accept_timeout), Who() + ": acceptRecovery",
          [&](JournalChannel& c, ReplyCallback<Void> cb) {
            c.AcceptRecovery(h, seg, from, origin, accept_timeout, cb);
          });
      QJ_RETURN_IF_ERROR(acc.status);
      WriterHeader fh{epoch_, end};
      auto fin = CallQuorum<Void>(chans, majority, timeout, Who() + ": finalizeLogSegment",
                                  [&](JournalChannel& c, ReplyCallback<Void> cb) {
                                    c.FinalizeLogSegment(fh, seg.start_txid, end, cb);
                                  });
      QJ_RETURN_IF_ERROR(fin.status);
    }
  }
  std::lock_guard<std::mutex> l(mu_);
  last_txid_ = end;
  committed_txid_ = end;
  LOG(INFO) << Who() << ": recovered; log ends at txid " << end;
  return Status::OK();
}

}  // namespace internal

Result<std::unique_ptr<QuorumWriter>> QuorumWriter::Open(const QuorumOptions& opts,
                                                         const NamespaceInfo& ns) {
  if (opts.journalnodes.empty() || opts.journal_id.empty()) {
    return Status::InvalidArgument("QuorumWriter::Open: no journalnodes or no journal id");
  }
  auto w = std::make_unique<internal::QuorumWriterImpl>(opts, ns);
  Status s = w->BecomeWriterAndRecover();
  if (!s.ok()) {
    w->Close();
    return s;
  }
  w->StartLoop();
  return std::unique_ptr<QuorumWriter>(std::move(w));
}

}  // namespace qj::jn
