// The journal under crashes between any two durable steps.
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
#include "journalnode/journal.h"
#include "tests/journalnode/journal_test_util.h"
#include "tests/sim/journal_model.h"
#include "tests/support/sim_disk.h"

namespace qj::jn {
namespace {

using sim::SimDisk;

constexpr int kNodes = 3;

// The cluster and the model writer are shared with the seeded simulator
// (tests/sim/journal_model.h); the timeline's one extra knob is the stray call of item 5.
struct Sim : sim::Cluster {
  bool forge_committed = true;
};
using sim::Writer;

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

std::string Describe(const Sim& run) { return run.Describe(); }

class CrashSweepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_level_ = FLAGS_minloglevel;
    FLAGS_minloglevel = 3;  // thousands of crashes: keep the log quiet
  }
  void TearDown() override { FLAGS_minloglevel = saved_level_; }
  int saved_level_ = 0;
};

// The stale-proposal and raised-committed-txid scenarios run as written, with no crash: a stale
// accepted proposal must not outlive startLogSegment, and a stray committed txid must neither make
// a node serve uncommitted edits nor wedge recovery.
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
