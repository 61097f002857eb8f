// journal_sim: a seeded, single-threaded, randomized simulation of a journal cluster.
// Everything a run does follows from one 64-bit seed.
//
// Each seed builds 3 or 5 real `Journal`s on SimDisks (tests/sim/journal_model.h) and
// drives them with random events: writers take over from random majorities (or fewer, and
// fail), write batches to random subsets, heartbeat, finalize and roll segments, die at
// random points (including mid-recovery, after acceptRecovery reached only a subset);
// journalnodes crash at a random future disk step under a random loss policy and restart
// at once or a few events later (down meanwhile: calls to them fail); stray heartbeats in
// an epoch that is no writer's carry a huge committed txid; background catch-up between
// random pairs; bit flips in finalized segments. The invariants (journal_model.h) are
// checked after every event. After the last event: faults stop, every node restarts and
// catches up, and a writer reaching all nodes must recover and write (liveness); every
// acknowledged edit must then be served, with its bytes, by some node.
//
//   journal_sim --seeds=N [--first_seed=S] [--events=E]   run N seeds, print figures
//   journal_sim --seed=S --trace                          replay one seed with its trace
//
// journal_sim_planted is the same program over journalnode sources built with
// -DQJ_SIM_PLANTS (common/sim_plant.h):
//   journal_sim_planted --plant=P --seeds=N      run with planted bug P (1..8)
//   journal_sim_planted --plant_table            for each plant, seeds until caught
#include <gflags/gflags.h>
#include <glog/logging.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/sim_plant.h"
#include "journalnode/segment.h"
#include "tests/sim/journal_model.h"
#include "tests/sim/sim_runner.h"

namespace qj::sim {
namespace {

constexpr int kPlantCommitOnOneAck = 8;  // test-side: lives in the model writer

class SeedRun {
 public:
  SeedRun(uint64_t seed, int plant) : seed_(seed), plant_(plant) {}

  SeedResult Run(int events) {
    std::mt19937_64 pick(seed_ ^ 0x9e3779b97f4a7c15ull);
    const int nodes = FLAGS_nodes > 0 ? FLAGS_nodes : (pick() % 4 == 0 ? 5 : 3);
    c_ = std::make_unique<Cluster>(nodes);
    c_->seed = seed_;
    if (plant_ == kPlantCommitOnOneAck) c_->commit_quorum = 1;
    c_->Start();
    c_->Trace("seed " + std::to_string(seed_) + ": " + std::to_string(nodes) + " journalnodes" +
              (plant_ > 0 ? ", planted bug " + std::to_string(plant_) : ""));
    SeedResult r;
    for (int e = 0; e < events && c_->violations.empty(); ++e) {
      // The event's line goes before what happened during it (deaths, crashes).
      const size_t at = c_->trace.size();
      const std::string what = OneEvent();
      c_->trace.insert(c_->trace.begin() + static_cast<std::ptrdiff_t>(at),
                       "#" + std::to_string(e + 1) + " " + what);
      c_->Settle();
      c_->Check();
      ++r.events;
      if (!c_->violations.empty()) r.first_violation_event = e + 1;
    }
    if (c_->violations.empty()) r.acked_checked = Quiesce();
    r.violations = c_->violations;
    r.trace = c_->trace;
    return r;
  }

 private:
  uint64_t R(uint64_t n) { return n == 0 ? 0 : c_->rng() % n; }
  bool P(int percent) { return static_cast<int>(R(100)) < percent; }
  int N() const { return c_->nodes; }

  static std::string Set(const std::vector<int>& s) {
    std::string out = "{";
    for (size_t k = 0; k < s.size(); ++k) out += (k ? "," : "") + Cluster::Name(s[k]);
    return out + "}";
  }
  // A random subset of `from` with `k` members, in node order.
  std::vector<int> Subset(std::vector<int> from, size_t k) {
    for (size_t i = 0; i + 1 < from.size(); ++i) std::swap(from[i], from[i + R(from.size() - i)]);
    from.resize(std::min(k, from.size()));
    std::sort(from.begin(), from.end());
    return from;
  }
  std::vector<int> All() const {
    std::vector<int> a(N());
    for (int i = 0; i < N(); ++i) a[i] = i;
    return a;
  }
  bool WriterAlive() const { return w_ && w_->alive(); }

  std::string OneEvent() {
    // Weights; a dead or missing writer makes a takeover likely.
    const int takeover = WriterAlive() ? 3 : 40;
    const int kinds[] = {takeover, 30, 8, 8, 3, 7, 3, 6, 1};
    int total = 0;
    for (int k : kinds) total += k;
    int x = static_cast<int>(R(total)), kind = 0;
    while (x >= kinds[kind]) x -= kinds[kind++];
    switch (kind) {
      case 0:
        return Takeover();
      case 1:
        return WriteBatch();
      case 2:
        if (!WriterAlive()) return "idle";
        w_->Heartbeat();
        return "writer " + std::to_string(w_->epoch()) + " heartbeats (committed " +
               std::to_string(w_->committed()) + ")";
      case 3:
        return Roll();
      case 4:
        if (!WriterAlive()) return "idle";
        w_->Die("killed");
        return "writer " + std::to_string(w_->epoch()) + " is killed";
      case 5:
        return PlanCrash();
      case 6:
        return StrayCall();
      case 7:
        return CatchUp();
      default:
        return BitFlip();
    }
  }

  std::string Takeover() {
    std::vector<int> reach = P(80) ? Subset(All(), c_->majority() + R(N() - c_->majority() + 1))
                                   : Subset(All(), R(N() + 1));
    std::vector<int> accept_only;
    if (P(12)) accept_only = Subset(reach, 1 + R(reach.size()));
    w_ = std::make_unique<Writer>(c_.get(), reach);
    std::string what = "a writer takes over from " + Set(reach) +
                       (accept_only.empty() ? "" : ", accept reaches only " + Set(accept_only));
    if (!w_->Become(accept_only)) return what + ": fails";
    what += ": epoch " + std::to_string(w_->epoch()) + ", log ends at " + std::to_string(w_->end());
    if (P(60)) w_->set_reach(All());
    if (!w_->StartSegment()) return what + ", startLogSegment fails";
    return what + ", starts segment " + std::to_string(w_->end() + 1) + " on " + Set(w_->reach());
  }

  std::string WriteBatch() {
    if (!WriterAlive() || !w_->in_segment()) return "idle";
    const int n = 1 + static_cast<int>(R(10));
    const std::vector<int> to =
        P(55) ? w_->reach() : Subset(w_->reach(), R(w_->reach().size() + 1));
    const int64_t first = w_->end() + 1;
    const bool ok = w_->Write(n, to);
    return "writer " + std::to_string(w_->epoch()) + " writes " + std::to_string(first) + ".." +
           std::to_string(first + n - 1) + " to " + Set(to) + ": committed " +
           std::to_string(w_->committed()) + (ok ? "" : ", dies");
  }

  std::string Roll() {
    if (!WriterAlive() || !w_->in_segment()) return "idle";
    const int64_t end = w_->end();
    if (!w_->Finalize()) {
      return "writer " + std::to_string(w_->epoch()) + " cannot finalize at " +
             std::to_string(end) + (w_->alive() ? "" : ", dies");
    }
    const bool ok = w_->StartSegment();
    return "writer " + std::to_string(w_->epoch()) + " finalizes up to " + std::to_string(end) +
           (ok ? ", starts segment " + std::to_string(end + 1) : ", startLogSegment fails");
  }

  std::string PlanCrash() {
    std::vector<int> cand;
    for (int i = 0; i < N(); ++i) {
      if (c_->Up(i)) cand.push_back(i);
    }
    if (cand.empty()) return "idle";
    const int i = cand[R(cand.size())];
    const int64_t at = c_->disk[i]->steps() + static_cast<int64_t>(R(40));
    c_->disk[i]->CrashAtStep(at);
    c_->next_loss[i] = static_cast<SimDisk::Loss>(R(5));
    c_->restart_delay[i] = P(35) ? 1 + static_cast<int>(R(5)) : 0;
    return Cluster::Name(i) + " will crash at disk step " + std::to_string(at) + " (now " +
           std::to_string(c_->disk[i]->steps()) + ")";
  }

  std::string StrayCall() {
    const int i = static_cast<int>(R(N()));
    if (!c_->Up(i)) return "idle";
    auto st = c_->jn[i]->GetState();
    if (!st.ok()) return "idle";
    // An epoch no writer ever won: below the promise (refused) or above it (a promise).
    int64_t e = P(50) ? st->promised_epoch + 1 + static_cast<int64_t>(R(3))
                      : static_cast<int64_t>(R(st->promised_epoch + 1));
    while (c_->epochs_won.count(e) != 0) ++e;
    const int64_t committed = (int64_t{1} << 60) + static_cast<int64_t>(R(1000));
    Status s = c_->jn[i]->Heartbeat(jn::RequestHeader{"ns1", e, 1000000 + e, committed});
    return "stray heartbeat to " + Cluster::Name(i) + ": epoch " + std::to_string(e) +
           ", committed 2^60: " + (s.ok() ? "OK" : "refused");
  }

  std::string CatchUp() {
    const int i = static_cast<int>(R(N())), j = static_cast<int>(R(N()));
    if (i == j || !c_->Up(i) || !c_->Up(j)) return "idle";
    auto n = c_->jn[i]->CatchUpFrom(Cluster::Name(j));
    return Cluster::Name(i) + " catches up from " + Cluster::Name(j) + ": " +
           (n.ok() ? std::to_string(*n) + " segments" : n.status().ToString());
  }

  std::string BitFlip() {
    const int i = static_cast<int>(R(N()));
    // One damaged node at most: the others keep a majority.
    for (int k = 0; k < N(); ++k) {
      if (k != i && c_->damaged[k]) return "idle";
    }
    if (!c_->Up(i)) return "idle";
    auto st = c_->jn[i]->GetState();
    if (!st.ok() || !st->unavailable_reason.empty()) return "idle";
    std::vector<jn::SegmentState> fin;
    for (const auto& s : st->segments) {
      if (!s.in_progress) fin.push_back(s);
    }
    if (fin.empty()) return "idle";
    const jn::SegmentState seg = fin[R(fin.size())];
    const std::string path = "/d" + std::to_string(i) + "/ns1/current/" + jn::SegmentName(seg);
    std::string data;
    if (!c_->disk[i]->Peek(path, &data).ok() || data.empty()) return "idle";
    const uint64_t off = R(data.size());
    const int bit = static_cast<int>(R(8));
    std::string b(1, static_cast<char>(data[off] ^ (1 << bit)));
    (void)c_->disk[i]->Poke(path, off, b);
    c_->damaged[i] = true;
    return "bit flip in " + path + " offset " + std::to_string(off) + " bit " + std::to_string(bit);
  }

  // No more faults: every node up, caught up; a writer reaching all nodes must recover
  // and write, and every acknowledged edit must be served by some node.
  int64_t Quiesce() {
    c_->Trace("quiesce: no more faults");
    for (int i = 0; i < N(); ++i) {
      if (!c_->disk[i]->crashed()) c_->disk[i]->CrashAtStep(-1);
      c_->restart_delay[i] = 0;
    }
    for (int i = 0; i < N(); ++i) {
      if (c_->disk[i]->crashed()) c_->Restart(i);
    }
    if (w_) w_->Die("quiesce");
    for (int i = 0; i < N(); ++i) {
      for (int p = 0; p < N(); ++p) {
        if (p != i) (void)c_->jn[i]->CatchUpFrom(Cluster::Name(p));
      }
    }
    c_->Check();
    Writer w(c_.get(), All());
    int undamaged = 0;
    for (int i = 0; i < N(); ++i) undamaged += c_->damaged[i] ? 0 : 1;
    w.set_need(std::max(undamaged, c_->majority()));
    bool ok = w.Become() && w.StartSegment() && w.Write(2, All());
    w.Heartbeat();
    ok = ok && w.Finalize();
    c_->Trace("a final writer recovers from all nodes and writes: " +
              std::string(ok ? "OK" : "FAILS"));
    if (!ok) {
      c_->Violation("liveness: after the last fault, a writer reaching every node fails: " +
                    w.death());
    }
    std::set<int64_t> covered;
    c_->CheckReaders(&covered);
    c_->CheckFinalizedDurable();
    int64_t checked = 0;
    for (const auto& [txid, rec] : c_->truth) {
      if (covered.count(txid) != 0) {
        ++checked;
      } else if (ok) {
        c_->Violation("acknowledged txid " + std::to_string(txid) + " is served by no node");
        break;
      }
    }
    return checked;
  }

  const uint64_t seed_;
  const int plant_;
  std::unique_ptr<Cluster> c_;
  std::unique_ptr<Writer> w_;
};

Simulator JournalSimulator() {
  Simulator sim;
#ifdef QJ_SIM_PLANTS
  sim.binary = "journal_sim_planted";
  sim.planted = true;
#else
  sim.binary = "journal_sim";
#endif
  sim.default_events = 150;
  sim.plant_names = {
      "",
      "(a) startLogSegment keeps paxos/<t>",
      "(b) writer epoch persisted before the segment file",
      "(c) no hole allowance at start-up",
      "(d) committed txid from any epoch, unclamped",
      "(e) acknowledge before fdatasync",
      "(f) no directory fsync after rename",
      "(g) serve in-progress edits beyond committed",
      "(h) commit on one ack (model writer, test-side)",
  };
  sim.set_plant = [](int p) {
#ifdef QJ_SIM_PLANTS
    qj::sim_plant = p == kPlantCommitOnOneAck ? qj::kPlantNone : p;
#else
    (void)p;
#endif
  };
  sim.run = [](uint64_t seed, int plant) { return SeedRun(seed, plant).Run(FLAGS_events); };
  return sim;
}

}  // namespace
}  // namespace qj::sim

int main(int argc, char** argv) { return qj::sim::Main(argc, argv, qj::sim::JournalSimulator()); }
