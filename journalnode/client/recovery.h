// The recovery choice (DESIGN §4), a pure function so every rule is unit-tested.
//
// After prepareRecovery(segment) on a majority, the writer picks the version of the
// segment that every journalnode must accept:
//   1. a segment beats none (an empty in-progress segment counts as none);
//   2. a finalized segment beats an in-progress one (two finalized copies must agree);
//   3. then the higher epoch: the epoch in which the copy was accepted by an earlier
//      recovery if any, else the epoch of the writer that wrote it;
//   4. then the longer (higher end txid).
// The choice must never end below a committed txid that an answering journalnode can
// justify (its hint, clamped to the end of its own copy of the segment): that would drop
// an acknowledged edit, so it is an error (IllegalState), never a silent truncation. A
// hint beyond every answering node's copy cannot be justified and is only logged, so one
// node's bad hint cannot wedge recovery for good.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "journalnode/protocol_types.h"

namespace qj::jn {

struct RecoveryChoice {
  // Index of a journalnode holding the chosen copy, -1 when no one has the segment.
  int node = -1;
  // The chosen copy (valid when node >= 0).
  SegmentState segment;
  // End of the log after recovery: segment.end_txid, or segment_txid - 1 if none.
  int64_t end_txid = 0;
  std::string ToString() const;
};

// The recovery epoch of an answer: accepted-in epoch if present, else the writer epoch.
int64_t RecoveryEpoch(const PrepareResult& a);

// >0 if a is better than b, <0 if worse, 0 if equivalent (rules 1-4; two finalized copies
// compare equal whatever their epochs).
int CompareRecoveryAnswers(const PrepareResult& a, const PrepareResult& b);

// answers[i] is journalnode i's answer (nullopt if it did not answer). segment_txid is the
// start of the segment being recovered. committed_txid: the highest committed txid known
// from other sources (e.g. getJournalState), -1 if none; combined with the answers' own.
Result<RecoveryChoice> ChooseRecovery(int64_t segment_txid,
                                      const std::vector<std::optional<PrepareResult>>& answers,
                                      int64_t committed_txid);

}  // namespace qj::jn
