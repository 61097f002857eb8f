#include "journalnode/client/recovery.h"

#include <glog/logging.h>

#include <algorithm>

namespace qj::jn {

namespace {

bool HasSegment(const PrepareResult& a) { return a.segment.has_value() && !a.segment->empty(); }

}  // namespace

std::string RecoveryChoice::ToString() const {
  if (node < 0) return "no segment (log ends at " + std::to_string(end_txid) + ")";
  return segment.ToString() + " from jn" + std::to_string(node);
}

int64_t RecoveryEpoch(const PrepareResult& a) {
  return a.accepted_in_epoch.has_value() ? *a.accepted_in_epoch : a.last_writer_epoch;
}

int CompareRecoveryAnswers(const PrepareResult& a, const PrepareResult& b) {
  const bool ha = HasSegment(a), hb = HasSegment(b);
  if (ha != hb) return ha ? 1 : -1;
  if (!ha) return 0;
  const bool fa = !a.segment->in_progress, fb = !b.segment->in_progress;
  if (fa != fb) return fa ? 1 : -1;
  if (fa) return 0;  // both finalized: equal (ChooseRecovery checks that they agree)
  const int64_t ea = RecoveryEpoch(a), eb = RecoveryEpoch(b);
  if (ea != eb) return ea > eb ? 1 : -1;
  if (a.segment->end_txid != b.segment->end_txid) {
    return a.segment->end_txid > b.segment->end_txid ? 1 : -1;
  }
  return 0;
}

Result<RecoveryChoice> ChooseRecovery(int64_t segment_txid,
                                      const std::vector<std::optional<PrepareResult>>& answers,
                                      int64_t committed_txid) {
  int best = -1;
  // Committed-txid hints count only as far as the answering node's own copy of this
  // segment reaches (or up to the segment's start if it has none): a journalnode learns
  // a committed txid only from the writer of its newest segment and never past what it
  // holds, so a larger hint is unjustified and must not wedge every future recovery.
  int64_t max_committed = -1;
  for (size_t i = 0; i < answers.size(); ++i) {
    if (!answers[i]) continue;
    const PrepareResult& a = *answers[i];
    const int64_t reach = HasSegment(a) ? a.segment->end_txid : segment_txid - 1;
    max_committed = std::max(max_committed, std::min(a.committed_txid, reach));
    if (HasSegment(a) && a.segment->start_txid != segment_txid) {
      return Status::IllegalState("recovery of segment " + std::to_string(segment_txid) + ": jn" +
                                  std::to_string(i) + " answered with segment " +
                                  a.segment->ToString());
    }
    if (best < 0 || CompareRecoveryAnswers(a, *answers[best]) > 0) best = static_cast<int>(i);
  }
  // Two finalized copies with different ends mean the log forked: refuse to guess.
  for (size_t i = 0; i < answers.size(); ++i) {
    if (!answers[i] || best < 0 || !HasSegment(*answers[i]) || answers[i]->segment->in_progress) {
      continue;
    }
    const SegmentState& b = *answers[best]->segment;
    if (!b.in_progress && answers[i]->segment->end_txid != b.end_txid) {
      return Status::IllegalState("recovery of segment " + std::to_string(segment_txid) +
                                  ": finalized copies disagree: jn" + std::to_string(best) + " " +
                                  b.ToString() + " vs jn" + std::to_string(i) + " " +
                                  answers[i]->segment->ToString());
    }
  }
  RecoveryChoice choice;
  if (best >= 0 && HasSegment(*answers[best])) {
    choice.node = best;
    choice.segment = *answers[best]->segment;
    choice.end_txid = choice.segment.end_txid;
  } else {
    choice.end_txid = segment_txid - 1;
  }
  if (committed_txid > choice.end_txid && committed_txid > max_committed) {
    LOG(WARNING) << "recovery of segment " << segment_txid << ": a journalnode reported committed "
                 << "txid " << committed_txid << " beyond the best copy " << choice.ToString()
                 << " and beyond what any answering node holds; ignoring that hint";
  }
  if (choice.end_txid < max_committed) {
    return Status::IllegalState("recovery of segment " + std::to_string(segment_txid) +
                                ": best choice " + choice.ToString() +
                                " ends below committed txid " + std::to_string(max_committed) +
                                " reported by a journalnode; refusing to drop committed edits");
  }
  return choice;
}

}  // namespace qj::jn
