// The journal under crashes between any two durable steps (issue 8).
//
// Three real `Journal`s, each on its own SimDisk (tests/support/sim_disk.h), run a fixed
// timeline of writers taking over from each other: segments rolled, batches that reach
// only some nodes, recoveries from different majorities (with copies downloaded between
// nodes), an accepted proposal left on one node, a stray call with a huge committed txid,
// background catch-up. The writer here is a small synchronous model of QuorumWriter's
// protocol (DESIGN §4) over direct calls, using the real ChooseRecovery, so that every run
// is deterministic and can be replayed.
//
// Checked after every step: every edit a writer counted as committed (acknowledged) keeps
// its bytes forever; no node serves (getJournaledEdits) an edit that differs from the
// committed one or that was never committed; a restarted node loads and serves (unsynced
// bytes lost in a crash never stop a journal). At the end: all nodes back, a new writer
// recovers, and the log holds every acknowledged edit.
//
// The sweep crashes one node at every step it takes in the timeline, under each loss
// policy (keep all unsynced writes, lose all, random pages and entries).
#include <glog/logging.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/edit_record.h"
#include "journalnode/client/recovery.h"
#include "journalnode/journal.h"
#include "tests/journalnode/journal_test_util.h"
#include "tests/support/sim_disk.h"

namespace qj::jn {
namespace {

using sim::SimDisk;
using testutil::LocalPeers;

constexpr int kNodes = 3;
constexpr int kMajority = 2;

std::string Payload(int64_t epoch, int64_t txid) {
  // ~700 bytes, so that a batch of a few edits spans several 4 KiB pages.
  std::string p = "writer" + std::to_string(epoch) + "-txid" + std::to_string(txid) + ":";
  while (p.size() < 700) p += static_cast<char>('a' + (txid + epoch + p.size()) % 26);
  return p;
}

// Splits encoded records into txid -> record bytes.
std::map<int64_t, std::string> SplitRecords(std::string_view data) {
  std::map<int64_t, std::string> out;
  while (!data.empty()) {
    RecordView rec;
    if (DecodeRecord(data, &rec) != DecodeOutcome::kOk) break;
    out[rec.txid] = std::string(data.substr(0, rec.encoded_size));
    data.remove_prefix(rec.encoded_size);
  }
  return out;
}

struct Sim {
  // Fault plan.
  int crash_node = -1;
  int64_t crash_step = -1;
  std::string crash_match;  // crash at the first step whose description contains this
  SimDisk::Loss loss = SimDisk::Loss::kKeepAll;
  uint64_t seed = 1;
  bool forge_committed = true;  // the stray call of item 5

  // State.
  std::unique_ptr<SimDisk> disk[kNodes];
  std::unique_ptr<Journal> jn[kNodes];
  LocalPeers peers;
  std::mt19937_64 rng;
  std::map<int64_t, std::string> truth;  // committed txid -> record bytes
  std::vector<std::string> violations;
  std::vector<std::string> trace;
  int restarts = 0;

  static std::string Name(int i) { return "jn" + std::to_string(i); }

  JournalOptions Options(int i) {
    JournalOptions o;
    o.node_name = Name(i);
    o.journal_id = "ns1";
    o.dir = "/d" + std::to_string(i) + "/ns1";
    o.file_ops = disk[i].get();
    o.peers = &peers;
    o.self_address = Name(i);
    o.preallocate_bytes = 8192;
    o.transfer_chunk_bytes = 3000;
    o.cache_bytes = 1 << 20;
    o.max_batch_bytes = 1 << 20;
    return o;
  }

  void Open(int i) {
    jn[i] = Journal::Open(Options(i));
    peers.Add(Name(i), jn[i].get());
    auto st = jn[i]->GetState();
    if (st.ok() && !st->unavailable_reason.empty()) {
      Violation(Name(i) + " does not serve after a restart: " + st->unavailable_reason);
    }
  }

  void Start() {
    rng.seed(seed);
    for (int i = 0; i < kNodes; ++i) {
      disk[i] = std::make_unique<SimDisk>();
      Open(i);
      Status s = jn[i]->Format(testutil::Ns(), false);
      if (!s.ok()) Violation("format " + Name(i) + ": " + s.ToString());
    }
    if (crash_node >= 0) {
      if (crash_step >= 0) disk[crash_node]->CrashAtStep(crash_step);
      if (!crash_match.empty()) disk[crash_node]->CrashAtStepMatching(crash_match);
    }
  }

  void Violation(const std::string& what) { violations.push_back(what); }

  // A node whose disk crashed is restarted on what the power loss left.
  void RestartCrashed() {
    for (int i = 0; i < kNodes; ++i) {
      if (!disk[i]->crashed()) continue;
      peers.Remove(Name(i));
      jn[i].reset();
      disk[i]->Restart(loss, &rng);
      ++restarts;
      trace.push_back("restart " + Name(i));
      Open(i);
    }
  }

  void SetTruth(int64_t txid, const std::string& rec, const std::string& why) {
    auto [it, fresh] = truth.emplace(txid, rec);
    if (!fresh && it->second != rec) {
      RecordView a, b;
      (void)DecodeRecord(it->second, &a);
      (void)DecodeRecord(rec, &b);
      Violation("txid " + std::to_string(txid) + " was committed as '" +
                std::string(a.payload.substr(0, 20)) + "' but " + why + " has '" +
                std::string(b.payload.substr(0, 20)) + "'");
    }
  }

  // No node serves anything but committed edits.
  void CheckReaders() {
    for (int i = 0; i < kNodes; ++i) {
      if (disk[i]->crashed()) continue;
      int64_t since = 1;
      while (true) {
        auto r = jn[i]->GetJournaledEdits(since, 1000);
        if (!r.ok()) {
          auto st = jn[i]->GetState();
          if (st.ok() && !st->unavailable_reason.empty() && !disk[i]->crashed()) {
            Violation(Name(i) + " stopped: " + st->unavailable_reason);
          }
          break;
        }
        if (r->num_txns == 0) break;
        for (const auto& [txid, rec] : SplitRecords(r->records)) {
          auto it = truth.find(txid);
          if (it == truth.end()) {
            Violation(Name(i) + " served txid " + std::to_string(txid) +
                      ", which was never committed");
          } else if (it->second != rec) {
            Violation(Name(i) + " served a divergent txid " + std::to_string(txid));
          }
        }
        since += r->num_txns;
      }
    }
  }

  void Step(const std::string& what) {
    trace.push_back(what);
    RestartCrashed();
    CheckReaders();
  }
};

// The writer's side of the protocol, synchronous, over the nodes it can reach.
class Writer {
 public:
  Writer(Sim* run, std::vector<int> reach) : run_(run), reach_(std::move(reach)) {}

  bool alive() const { return alive_; }
  int64_t epoch() const { return epoch_; }
  int64_t end() const { return last_txid_; }
  void set_reach(std::vector<int> reach) { reach_ = std::move(reach); }
  // The stray call of item 5 uses the next serial; skip past it.
  int64_t TakeSerial() { return ++serial_; }

  // getJournalState, newEpoch, prepare/choose/accept/finalize of the newest segment.
  // accept_only: deliver acceptRecovery only to these nodes (the writer dies after).
  bool Become(const std::vector<int>& accept_only = {}) {
    int64_t max_promised = 0, known_committed = -1;
    int ok = 0;
    for (int i : reach_) {
      auto st = J(i)->GetState();
      if (!st.ok() || !st->unavailable_reason.empty()) continue;
      ++ok;
      max_promised = std::max(max_promised, st->promised_epoch);
      known_committed = std::max(known_committed, st->committed_txid);
    }
    if (ok < kMajority) return Die("getJournalState: no majority");
    epoch_ = max_promised + 1;
    int64_t newest = -1;
    ok = 0;
    for (int i : reach_) {
      auto r = J(i)->NewEpoch(testutil::Ns(), epoch_);
      if (!r.ok()) continue;
      ++ok;
      newest = std::max(newest, *r);
    }
    if (ok < kMajority) return Die("newEpoch: no majority");
    last_txid_ = 0;
    if (newest >= 0) {
      std::vector<std::optional<PrepareAnswer>> answers(kNodes);
      ok = 0;
      const RequestHeader h = Hdr(known_committed);
      for (int i : reach_) {
        auto r = J(i)->PrepareRecovery(h, newest);
        if (!r.ok()) continue;
        ++ok;
        PrepareAnswer a;
        if (r->segment) {
          a.segment =
              SegmentDesc{r->segment->start_txid, r->segment->end_txid, r->segment->in_progress};
        }
        a.accepted_in_epoch = r->accepted_in_epoch;
        a.last_writer_epoch = r->last_writer_epoch;
        a.last_committed_txid = r->committed_txid;
        a.origin_epoch = r->origin_epoch;
        answers[i] = a;
      }
      if (ok < kMajority) return Die("prepareRecovery: no majority");
      auto choice = ChooseRecovery(newest, answers, known_committed);
      if (!choice.ok()) {
        run_->Violation("recovery refused (wedged): " + choice.status().ToString());
        return Die("recovery refused");
      }
      last_txid_ = choice->end_txid;
      if (choice->node >= 0) {
        const SegmentState seg{choice->segment.start_txid, choice->segment.end_txid,
                               choice->segment.in_progress};
        ok = 0;
        const std::vector<int>& to = accept_only.empty() ? reach_ : accept_only;
        for (int i : to) {
          const int64_t origin = answers[choice->node]->origin_epoch;
          if (J(i)->AcceptRecovery(Hdr(known_committed), seg, Sim::Name(choice->node), origin)
                  .ok()) {
            ++ok;
          }
        }
        if (ok < kMajority) return Die("acceptRecovery: no majority");
        ok = 0;
        int reader = -1;
        for (int i : reach_) {
          if (J(i)->FinalizeLogSegment(Hdr(last_txid_), seg.start_txid, seg.end_txid).ok()) {
            ++ok;
            reader = i;
          }
        }
        if (ok < kMajority) return Die("finalize after recovery: no majority");
        // The recovered segment is committed now: it is the truth for its txids.
        auto chunk = J(reader)->GetSegmentChunk(seg.start_txid, seg.end_txid, 0, 64 << 20);
        if (!chunk.ok()) {
          run_->Violation("cannot read the recovered segment back: " + chunk.status().ToString());
          return Die("read back");
        }
        for (const auto& [txid, rec] : SplitRecords(chunk->data)) {
          run_->SetTruth(txid, rec, "recovery in epoch " + std::to_string(epoch_));
        }
      }
    }
    const int64_t acked = run_->truth.empty() ? 0 : run_->truth.rbegin()->first;
    if (last_txid_ < acked) {
      run_->Violation("writer " + std::to_string(epoch_) + " recovered a log ending at " +
                      std::to_string(last_txid_) + ", below acknowledged txid " +
                      std::to_string(acked));
    }
    committed_ = last_txid_;
    return true;
  }

  bool StartSegment() {
    if (!alive_) return false;
    const int64_t t = last_txid_ + 1;
    pipeline_.clear();
    acked_.clear();
    for (int i : reach_) {
      if (J(i)->StartLogSegment(Hdr(committed_), t, 1).ok()) {
        pipeline_.insert(i);
        acked_[i] = t - 1;
      }
    }
    if (static_cast<int>(pipeline_.size()) < kMajority) return Die("startLogSegment");
    segment_ = t;
    return true;
  }

  // Sends the next n edits as one batch to `to` (those in the segment's pipeline).
  bool Write(int n, const std::vector<int>& to) {
    if (!alive_) return false;
    const int64_t first = last_txid_ + 1;
    std::string recs;
    for (int64_t t = first; t < first + n; ++t) {
      std::string one;
      AppendRecord(&one, t, 3, Payload(epoch_, t));
      mine_[t] = one;
      recs += one;
    }
    last_txid_ += n;
    for (int i : to) {
      if (pipeline_.count(i) == 0 || !Reaches(i)) continue;
      if (J(i)->JournalEdits(Hdr(committed_), segment_, first, n, recs).ok()) {
        acked_[i] = last_txid_;
      } else {
        pipeline_.erase(i);
      }
    }
    std::vector<int64_t> ends;
    for (const auto& [i, e] : acked_) ends.push_back(e);
    std::sort(ends.rbegin(), ends.rend());
    if (static_cast<int>(ends.size()) >= kMajority && ends[kMajority - 1] > committed_) {
      for (int64_t t = committed_ + 1; t <= ends[kMajority - 1]; ++t) {
        run_->SetTruth(t, mine_[t], "writer " + std::to_string(epoch_));
      }
      committed_ = ends[kMajority - 1];
    }
    if (static_cast<int>(pipeline_.size()) < kMajority) return Die("journal: no majority");
    return true;
  }

  void Heartbeat() {
    if (!alive_) return;
    for (int i : reach_) (void)J(i)->Heartbeat(Hdr(committed_));
  }

  bool Finalize() {
    if (!alive_ || committed_ != last_txid_) return false;
    int ok = 0;
    for (int i : reach_) {
      if (J(i)->FinalizeLogSegment(Hdr(committed_), segment_, last_txid_).ok()) ++ok;
    }
    if (ok < kMajority) return Die("finalize: no majority");
    return true;
  }

 private:
  Journal* J(int i) { return run_->jn[i].get(); }
  bool Reaches(int i) const { return std::find(reach_.begin(), reach_.end(), i) != reach_.end(); }
  RequestHeader Hdr(int64_t committed) {
    return RequestHeader{"ns1", epoch_, ++serial_, committed};
  }
  bool Die(const std::string& why) {
    if (alive_) run_->trace.push_back("writer " + std::to_string(epoch_) + " dies: " + why);
    alive_ = false;
    return false;
  }

  Sim* const run_;
  std::vector<int> reach_;
  bool alive_ = true;
  int64_t epoch_ = 0, serial_ = 0, last_txid_ = 0, committed_ = -1, segment_ = -1;
  std::set<int> pipeline_;
  std::map<int, int64_t> acked_;
  std::map<int64_t, std::string> mine_;
};

constexpr int A = 0, B = 1, C = 2;
const std::vector<int> kAll = {A, B, C};

// The timeline. Each phase is one writer; comments give the state it sets up.
void RunTimeline(Sim* run) {
  run->Start();
  {  // W1: segment 1 finalized; segment 11 with 11..15 everywhere, 16..18 on A only.
    Writer w(run, kAll);
    w.Become();
    run->Step("w1 becomes writer");
    w.StartSegment();
    run->Step("w1 starts segment 1");
    w.Write(5, kAll);
    run->Step("w1 writes 1..5");
    w.Write(5, kAll);
    w.Heartbeat();
    run->Step("w1 writes 6..10");
    w.Finalize();
    run->Step("w1 finalizes 1..10");
    w.StartSegment();
    run->Step("w1 starts segment 11");
    w.Write(5, kAll);
    run->Step("w1 writes 11..15");
    w.Write(3, {A});
    w.Heartbeat();
    run->Step("w1 writes 16..18 to A only, dies");
  }
  {  // W2 from B+C: recovers 11..15. A stray call tells B "committed = 2^60" (item 5).
     // Segment 16 starts on A, which holds W1's uncommitted 16..18 (item 2's shape).
    Writer w(run, {B, C});
    w.Become();
    run->Step("w2 recovers from B, C");
    if (run->forge_committed && w.alive()) {
      (void)run->jn[B]->Heartbeat(
          RequestHeader{"ns1", w.epoch(), w.TakeSerial(), int64_t{1} << 60});
      run->Step("a stray heartbeat tells B committed = 2^60");
    }
    w.set_reach(kAll);
    w.StartSegment();
    run->Step("w2 starts a segment on A, B, C");
    w.Write(5, kAll);
    w.Heartbeat();
    run->Step("w2 writes 5 edits");
    w.Write(2, {B});
    w.Heartbeat();
    run->Step("w2 writes 2 edits to B only, dies");
    (void)run->jn[A]->CatchUpFrom(Sim::Name(B));
    run->Step("A catches up from B");
  }
  {  // W3 from A+C: recovers the segment (one copy downloaded). Then a new segment with
     // 3 edits on C only: A and B hold it empty.
    Writer w(run, {A, C});
    w.Become();
    run->Step("w3 recovers from A, C");
    w.set_reach(kAll);
    w.StartSegment();
    run->Step("w3 starts a segment");
    w.Write(3, {C});
    w.Heartbeat();
    run->Step("w3 writes 3 edits to C only, dies");
    (void)run->jn[B]->CatchUpFrom(Sim::Name(A));
    run->Step("B catches up from A");
  }
  {  // W4 from B+C chooses C's copy, accepts it on C only, dies (paxos file left on C).
    Writer w(run, {B, C});
    w.Become({C});
    run->Step("w4 accepts C's copy on C only, dies");
  }
  int64_t w5_end = -1;
  {  // W5 from A+B: no copy of the segment, so "no segment"; restarts the segment on all
     // (C sets its copy aside); writes 2 edits to all and a third to A+C (committed);
     // dies before any call carries that commit (item 1's shape).
    Writer w(run, {A, B});
    w.Become();
    run->Step("w5 recovers from A, B: no segment");
    w.set_reach(kAll);
    w.StartSegment();
    run->Step("w5 restarts the segment on A, B, C");
    w.Write(2, kAll);
    run->Step("w5 writes 2 edits to all");
    w.Write(1, {A, C});
    w5_end = w.end();
    run->Step("w5 writes 1 edit to A, C (committed), dies");
  }
  {  // W6 from B+C (A down): must keep W5's last edit.
    Writer w(run, {B, C});
    w.Become();
    run->Step("w6 recovers from B, C");
    w.set_reach(kAll);
    w.StartSegment();
    w.Write(3, kAll);
    w.Heartbeat();
    w.Finalize();
    run->Step("w6 writes and finalizes a segment");
    w.StartSegment();
    w.Write(2, kAll);
    w.Heartbeat();
    run->Step("w6 writes 2 more, dies");
  }
  (void)w5_end;
  // The end: every node back, caught up; a new writer recovers from all three.
  run->RestartCrashed();
  for (int i = 0; i < kNodes; ++i) {
    for (int p = 0; p < kNodes; ++p) {
      if (p != i) (void)run->jn[i]->CatchUpFrom(Sim::Name(p));
    }
  }
  // A crash planted late may still hit the first attempt; after that no fault is left,
  // so the second attempt must succeed (liveness).
  for (int attempt = 1;; ++attempt) {
    Writer w(run, kAll);
    w.Become();
    w.StartSegment();
    w.Write(2, kAll);
    w.Heartbeat();
    run->Step("a final writer recovers from all three and writes");
    if (w.alive()) break;
    if (attempt == 2) {
      run->Violation("no writer can recover and write with all three journalnodes up");
      break;
    }
  }
}

std::string Describe(const Sim& run) {
  std::string out;
  for (const auto& v : run.violations) out += "  VIOLATION: " + v + "\n";
  out += "  timeline:\n";
  for (const auto& t : run.trace) out += "    " + t + "\n";
  return out;
}

class CrashSweepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_level_ = FLAGS_minloglevel;
    FLAGS_minloglevel = 3;  // thousands of crashes: keep the log quiet
  }
  void TearDown() override { FLAGS_minloglevel = saved_level_; }
  int saved_level_ = 0;
};

// Items 1 and 5 of issue 8 run as written, with no crash: a stale accepted proposal must
// not outlive startLogSegment, and a stray committed txid must neither make a node serve
// uncommitted edits nor wedge recovery.
TEST_F(CrashSweepTest, TimelineWithoutCrashes_KeepsEveryAcknowledgedEdit) {
  Sim run;
  RunTimeline(&run);
  EXPECT_TRUE(run.violations.empty()) << Describe(run);
  EXPECT_GE(run.truth.size(), 30u);
  if (std::getenv("QJ_SWEEP_TRACE") != nullptr) std::printf("%s", Describe(run).c_str());
}

// Item 1 alone (no stray call): W5 restarts segment 21 on C, which holds W4's accepted
// proposal for it; W6 must still recover W5's committed third edit.
TEST_F(CrashSweepTest, StaleProposalDoesNotOutliveStartLogSegment) {
  Sim run;
  run.forge_committed = false;
  RunTimeline(&run);
  EXPECT_TRUE(run.violations.empty()) << Describe(run);
}

// Item 2: A crashes inside startLogSegment before the new segment file exists, while its
// newest in-progress segment holds W1's uncommitted 16..18.
TEST_F(CrashSweepTest, CrashInStartLogSegmentBeforeTheFileExists_ServesNoOlderTail) {
  for (auto loss : {SimDisk::Loss::kKeepAll, SimDisk::Loss::kLoseAll}) {
    Sim run;
    run.crash_node = A;
    run.crash_match = "create /d0/ns1/current/" + InProgressName(16);
    run.loss = loss;
    RunTimeline(&run);
    EXPECT_EQ(run.restarts, 1) << Describe(run);
    EXPECT_TRUE(run.violations.empty()) << Describe(run);
  }
}

// Every step of every node, each followed by a restart on what the loss policy leaves.
TEST_F(CrashSweepTest, EveryCrashPoint_EveryLossPolicy) {
  int64_t steps[kNodes];
  {
    Sim clean;
    RunTimeline(&clean);
    for (int i = 0; i < kNodes; ++i) steps[i] = clean.disk[i]->steps();
    if (std::getenv("QJ_SWEEP_HISTORY") != nullptr) {
      const auto h = clean.disk[0]->history();
      for (size_t k = 0; k < h.size(); ++k) std::printf("jn0 step %zu: %s\n", k, h[k].c_str());
    }
  }
  struct Policy {
    SimDisk::Loss loss;
    uint64_t seed;
  };
  const Policy policies[] = {{SimDisk::Loss::kKeepAll, 1},      {SimDisk::Loss::kLoseAll, 1},
                             {SimDisk::Loss::kRandom, 1},       {SimDisk::Loss::kRandom, 2},
                             {SimDisk::Loss::kRandom, 3},       {SimDisk::Loss::kKeepOddPages, 1},
                             {SimDisk::Loss::kKeepEvenPages, 1}};
  int runs = 0, failed = 0;
  for (int node = 0; node < kNodes; ++node) {
    for (int64_t step = 0; step <= steps[node]; ++step) {
      for (const Policy& p : policies) {
        for (bool forge : {true, false}) {
          Sim run;
          run.forge_committed = forge;
          run.crash_node = node;
          run.crash_step = step;
          run.loss = p.loss;
          run.seed = p.seed;
          RunTimeline(&run);
          ++runs;
          if (!run.violations.empty() && std::getenv("QJ_SWEEP_LIST") != nullptr) {
            std::printf("node %d step %lld policy %d seed %llu forge %d: %s\n", node,
                        static_cast<long long>(step), static_cast<int>(p.loss),
                        static_cast<unsigned long long>(p.seed), forge ? 1 : 0,
                        run.violations[0].c_str());
          }
          if (!run.violations.empty() && ++failed <= 3) {
            const auto h = run.disk[node]->history();
            std::string at;
            for (const auto& e : h) {
              if (e.rfind("CRASH", 0) == 0) at = e;
            }
            ADD_FAILURE() << "crash " << Sim::Name(node) << " at step " << step << " (" << at
                          << "), loss policy " << static_cast<int>(p.loss) << " seed " << p.seed
                          << " stray call " << forge << ":\n"
                          << Describe(run);
          }
        }
      }
    }
  }
  std::printf("crash sweep: %d runs (steps per node %lld/%lld/%lld), %d with violations\n", runs,
              static_cast<long long>(steps[0]), static_cast<long long>(steps[1]),
              static_cast<long long>(steps[2]), failed);
  EXPECT_EQ(failed, 0);
}

}  // namespace
}  // namespace qj::jn
