// The pieces of a journal cluster simulation shared by the crash sweep
// (tests/journalnode/crash_sweep_test.cc) and the seeded simulator (tests/sim/journal_sim.cc):
//
//   Cluster  N real `Journal`s (journalnode/journal.h), each on its own SimDisk, wired to
//            each other in-process; the acknowledged truth; the invariant checks.
//   Writer   a small synchronous model of QuorumWriter's protocol (DESIGN §4) over direct
//            calls, using the real ChooseRecovery: Become (getJournalState, newEpoch,
//            prepare / choose / accept / finalize of the newest segment), StartSegment,
//            Write, Heartbeat, Finalize.
//
// Invariants (Cluster::Check, after every event):
//   - every edit a writer counted as committed (acknowledged) keeps its bytes forever
//     (SetTruth: a later recovery that reads back different bytes is a violation);
//   - no node serves (getJournaledEdits) an edit that was never committed or differs from
//     the committed one;
//   - a node that restarts loads and serves (a crash never stops a journal), unless the
//     simulation flipped bits in its finalized segments (then stopping is the right answer);
//   - a finalized segment a node has reported never disappears from it (durability of an
//     acknowledged finalize or catch-up install);
//   - epochs are unique per successful Become; a recovered log never ends below the
//     highest acknowledged txid.
//
// Single-threaded and deterministic: everything random comes from Cluster::rng.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "journalnode/client/writer_core.h"
#include "journalnode/journal.h"
#include "tests/journalnode/journal_test_util.h"
#include "tests/support/sim_disk.h"

namespace qj::sim {

// ~700 bytes, so that a batch of a few edits spans several 4 KiB pages.
std::string Payload(int64_t epoch, int64_t txid);
// Splits encoded records into txid -> record bytes.
std::map<int64_t, std::string> SplitRecords(std::string_view data);

struct Cluster {
  explicit Cluster(int n = 3) : nodes(n) {}

  int nodes;
  int majority() const { return nodes / 2 + 1; }
  // Acknowledgements a writer needs to count an edit committed (0: a majority). Planted
  // bug (h), test-side: 1.
  int commit_quorum = 0;
  int commit_acks() const { return commit_quorum > 0 ? commit_quorum : majority(); }

  // Fault plan of the crash sweep (one crash, applied at Start).
  int crash_node = -1;
  int64_t crash_step = -1;
  std::string crash_match;  // crash at the first step whose description contains this
  SimDisk::Loss loss = SimDisk::Loss::kKeepAll;
  uint64_t seed = 1;

  // State.
  std::vector<std::unique_ptr<SimDisk>> disk;
  std::vector<std::unique_ptr<jn::Journal>> jn;
  jn::testutil::LocalPeers peers;
  std::mt19937_64 rng;
  std::map<int64_t, std::string> truth;  // committed txid -> record bytes
  std::vector<std::string> violations;
  std::vector<std::string> trace;
  int restarts = 0;
  // Per node: the loss policy of its next crash, how many Settle() calls it stays down
  // after its disk crashed (0: restarted at once), whether it is down now, whether its
  // finalized segments were damaged on purpose, the finalized segments it has reported.
  std::vector<SimDisk::Loss> next_loss;
  std::vector<int> restart_delay, down_left;
  std::vector<bool> down, damaged;
  std::vector<std::set<std::pair<int64_t, int64_t>>> finalized_seen;
  std::set<int64_t> epochs_won;
  // Per node: SimDisk::failed_syncs() when it last started serving. A journal that stops
  // (or cannot start) after an injected sync failure since then is doing its job.
  std::vector<int64_t> sync_fail_base;
  bool SyncFailedSinceStart(int i) const { return disk[i]->failed_syncs() > sync_fail_base[i]; }
  // Ranges [first, last] committed by a recovery whose bytes are not read back yet
  // (journal_net_sim): served txids in them are checked once they are.
  std::vector<std::pair<int64_t, int64_t>> unverified;
  bool Unverified(int64_t txid) const {
    for (const auto& [a, b] : unverified) {
      if (txid >= a && txid <= b) return true;
    }
    return false;
  }
  int64_t edits_checked = 0;  // acknowledged edits verified against what nodes serve

  static std::string Name(int i) { return "jn" + std::to_string(i); }
  jn::JournalOptions Options(int i);
  void Open(int i);
  void Start();
  void Violation(const std::string& what);
  void Trace(const std::string& what) { trace.push_back(what); }

  // Nodes whose disk crashed: down (calls to them fail), restarted on what the power loss
  // left once their restart delay has passed.
  void Settle();
  void Restart(int i);
  // Crash sweep: restart every crashed node now.
  void RestartCrashed();
  bool Up(int i) const { return !down[i] && !disk[i]->crashed(); }

  void SetTruth(int64_t txid, const std::string& rec, const std::string& why);
  // No node serves anything but committed edits. With `covered`, the txids served.
  void CheckReaders(std::set<int64_t>* covered = nullptr);
  // Finalized segments never disappear from a node that reported them.
  void CheckFinalizedDurable();
  void Check() {
    CheckReaders();
    CheckFinalizedDurable();
  }
  // Crash sweep: one timeline step done.
  void Step(const std::string& what) {
    Trace(what);
    RestartCrashed();
    Check();
  }
  std::string Describe() const;
  // Runs a writer core's request on journalnode i (up) as its server would, with `serial`
  // as the IPC serial; OutOfSync answers carry the txid the node expects.
  jn::WriterReply Execute(int i, const jn::WriterRequest& q, int64_t serial);
};

// The writer's side of the protocol, synchronous, over the nodes it can reach.
class Writer {
 public:
  Writer(Cluster* run, std::vector<int> reach) : run_(run), reach_(std::move(reach)) {}

  bool alive() const { return alive_; }
  const std::string& death() const { return death_; }
  int64_t epoch() const { return epoch_; }
  int64_t end() const { return last_txid_; }
  int64_t committed() const { return committed_; }
  bool in_segment() const { return segment_ >= 0; }
  const std::vector<int>& reach() const { return reach_; }
  void set_reach(std::vector<int> reach) { reach_ = std::move(reach); }
  // How many nodes each phase needs (default: a majority). The liveness check asks for
  // every node that is not damaged.
  void set_need(int n) { need_ = n; }
  // A stray call in this writer's epoch uses the next serial; skip past it.
  int64_t TakeSerial() { return ++serial_; }

  // getJournalState, newEpoch, prepare/choose/accept/finalize of the newest segment.
  // accept_only: deliver acceptRecovery only to these nodes (the writer dies after).
  bool Become(const std::vector<int>& accept_only = {});
  bool StartSegment();
  // Sends the next n edits as one batch to `to` (those in the segment's pipeline).
  bool Write(int n, const std::vector<int>& to);
  void Heartbeat();
  bool Finalize();
  bool Die(const std::string& why);

 private:
  jn::Journal* J(int i) { return run_->jn[i].get(); }
  bool Reaches(int i) const;
  // Reachable and not down.
  bool Can(int i) const { return Reaches(i) && run_->Up(i); }
  int Need() const { return need_ > 0 ? need_ : run_->majority(); }
  jn::RequestHeader Hdr(int64_t committed) {
    return jn::RequestHeader{"ns1", epoch_, ++serial_, committed};
  }

  Cluster* const run_;
  std::vector<int> reach_;
  bool alive_ = true;
  int need_ = 0;
  std::string death_;
  int64_t epoch_ = 0, serial_ = 0, last_txid_ = 0, committed_ = -1, segment_ = -1;
  std::set<int> pipeline_;
  std::map<int, int64_t> acked_;
  std::map<int64_t, std::string> mine_;
};

}  // namespace qj::sim
