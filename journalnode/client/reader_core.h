// The quorum reader's decisions without threads, clocks or I/O: which journalnodes to ask
// for committed edits and in what order, which answers to trust, and when an empty answer
// is final. `QuorumReader` (quorum_reader.cc) drives it over journal channels; the network
// simulator (tests/sim/journal_net_sim.cc) drives it over simulated calls.
//
// One ReadCommitted(from, max) call goes:
//
//   Status s = core.BeginRead(from, max);       // bad arguments: return s
//   if (core.NeedRefresh(from)) {               // nobody known to have `from` committed
//     ask nodes for getJournalState; core.OnState(i, committed) for each answer;
//     no answer at all: return the failure
//   }
//   for (int i : core.ReadOrder()) {            // most up to date first
//     ask node i for getJournaledEdits(from, max);
//     failed call:  core.OnReadFailed(i, status); continue;
//     answer:       Result<bool> r = core.OnEdits(i, answer, &edits);
//                   !r.ok(): the node served something invalid (already noted); continue
//                   *r: return edits;   !*r: continue
//   }
//   return core.Exhausted();
//
// Edits handed back are the ones a journalnode served as committed (it serves txids up to
// the committed txid it heard of), checked to start at `from`, be dense and decode.
// Not thread-safe; one per tailer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/edit_record.h"
#include "common/status.h"
#include "journalnode/protocol_types.h"

namespace qj::jn {

class ReaderCore {
 public:
  // `names` identify the journalnodes in messages (addresses); their count is the quorum.
  ReaderCore(std::string name, std::vector<std::string> names);

  int nodes() const { return static_cast<int>(names_.size()); }
  // The highest committed txid any journalnode reported, -1 when none did.
  int64_t known_committed() const;

  // Starts one read: InvalidArgument for from_txid < 1 or max_txns <= 0.
  Status BeginRead(int64_t from_txid, int max_txns);
  // True if no journalnode is known to have from_txid committed: ask their states first.
  bool NeedRefresh(int64_t from_txid) const { return known_committed() < from_txid; }
  // A journalnode's getJournalState answer.
  void OnState(int node, int64_t committed_txid) { known_committed_[node] = committed_txid; }

  // The journalnodes to ask for the current read, most up to date first.
  std::vector<int> ReadOrder() const;
  // A getJournaledEdits answer from `node` for the current read. True: the read is done
  // and *out holds its edits (possibly none: nothing more is committed anywhere we know
  // of). False: ask the next node. An error: the node served something invalid; it is
  // tried last next time and the error is part of Exhausted()'s failure.
  Result<bool> OnEdits(int node, const JournaledEdits& e, std::vector<EditRecord>* out);
  // The call to `node` failed.
  void OnReadFailed(int node, const Status& s);
  // Every node in ReadOrder() was asked without a final answer: no edits if no node
  // failed, else Unavailable with every failure.
  Result<std::vector<EditRecord>> Exhausted() const;

 private:
  const std::string name_;
  const std::vector<std::string> names_;
  std::vector<int64_t> known_committed_;  // per node, from the latest answer
  int64_t from_txid_ = 0;
  int max_txns_ = 0;
  std::string failures_;  // of the current read
};

}  // namespace qj::jn
