// journal_sim: a seeded, single-threaded, randomized simulation of a journal cluster
// (issue 9, first step). Everything a run does follows from one 64-bit seed.
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
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/sim_plant.h"
#include "journalnode/segment.h"
#include "tests/sim/journal_model.h"

DEFINE_uint64(seeds, 100, "number of seeds to run");
DEFINE_uint64(first_seed, 1, "first seed");
DEFINE_uint64(seed, 0, "run only this seed (implies --seeds=1)");
DEFINE_int32(events, 150, "random events per seed");
DEFINE_int32(nodes, 0, "journalnodes per cluster (0: 3 or 5, drawn from the seed)");
DEFINE_bool(trace, false, "print every seed's trace of events");
DEFINE_int32(plant, 0, "planted bug (journal_sim_planted only; 8 is test-side and works in both)");
DEFINE_bool(plant_table, false,
            "journal_sim_planted: for each plant, run seeds until the first violation");
DEFINE_bool(strict, true,
            "count violations of known, unfixed real bugs (kKnownBugs) as failures too");
DEFINE_uint64(max_seeds, 10000, "--plant_table: give up on a plant after this many seeds");

namespace qj::sim {
namespace {

constexpr int kPlantCommitOnOneAck = 8;  // test-side: lives in the model writer
constexpr int kPlantCountForTable = 9;   // plants 1..8 (common/sim_plant.h)

// Real bugs the simulator found in production code and that are not fixed on this
// branch (see docs/ARCHITECTURE.md "Simulation"): a violation whose text contains the
// signature is counted as known, not as new, unless --strict.
struct KnownBug {
  const char* id;
  const char* signature;
};
const KnownBug kKnownBugs[] = {
    // acceptRecovery persists paxos/<t> before the downloaded temp copy's directory entry
    // is durable; a power loss then leaves the proposal without its copy, and every later
    // prepareRecovery(t) on that node answers IllegalState (the node is wedged for t).
    {"K1 accept: proposal durable before the copy's directory entry",
     "does not match the copy on disk"},
};
const KnownBug* Known(const std::vector<std::string>& violations, bool k1_window) {
  if (!k1_window) return nullptr;  // K1 is the only entry: its symptom needs its crash
  for (const auto& k : kKnownBugs) {
    for (const auto& v : violations) {
      if (v.find(k.signature) != std::string::npos) return &k;
    }
  }
  return nullptr;
}

struct SeedResult {
  int64_t events = 0;         // events run (up to and including the violating one)
  int64_t acked_checked = 0;  // acknowledged edits verified at the end
  int64_t first_violation_event = -1;
  bool k1_window = false;  // a crash fell in known bug K1's window
  std::vector<std::string> violations;
  std::vector<std::string> trace;
};

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
      if (!c_->violations.empty()) r.first_violation_event = e;
    }
    if (c_->violations.empty()) r.acked_checked = Quiesce();
    r.violations = c_->violations;
    r.k1_window = c_->k1_window_crashes > 0;
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

std::string Binary() {
#ifdef QJ_SIM_PLANTS
  return "journal_sim_planted";
#else
  return "journal_sim";
#endif
}

void SetPlant(int p) {
#ifdef QJ_SIM_PLANTS
  qj::sim_plant = p == kPlantCommitOnOneAck ? qj::kPlantNone : p;
#else
  (void)p;
#endif
}

int RunSeeds() {
  uint64_t first = FLAGS_first_seed, count = FLAGS_seeds;
  if (FLAGS_seed != 0) first = FLAGS_seed, count = 1;
  SetPlant(FLAGS_plant);
  const auto t0 = std::chrono::steady_clock::now();
  int64_t events = 0, acked = 0, violating = 0;
  std::map<std::string, int> known;
  for (uint64_t s = first; s < first + count; ++s) {
    SeedResult r = SeedRun(s, FLAGS_plant).Run(FLAGS_events);
    events += r.events;
    acked += r.acked_checked;
    if (FLAGS_trace) {
      for (const auto& t : r.trace) std::printf("%s\n", t.c_str());
    }
    if (!r.violations.empty()) {
      const KnownBug* k = Known(r.violations, r.k1_window);
      if (k != nullptr) ++known[k->id];
      if (k == nullptr || FLAGS_strict) ++violating;
      const std::string what =
          k != nullptr ? "KNOWN BUG " + std::string(k->id) + ":" : std::string("VIOLATION");
      const std::string at = r.first_violation_event < 0
                                 ? "end"
                                 : "event " + std::to_string(r.first_violation_event + 1);
      std::string replay =
          Binary() + " --seed=" + std::to_string(s) + " --events=" + std::to_string(FLAGS_events);
      if (FLAGS_nodes > 0) replay += " --nodes=" + std::to_string(FLAGS_nodes);
      if (FLAGS_plant > 0) replay += " --plant=" + std::to_string(FLAGS_plant);
      std::printf("%s seed %" PRIu64 " (%s): %s\n  replay: %s --trace\n", what.c_str(), s,
                  at.c_str(), r.violations[0].c_str(), replay.c_str());
    }
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("journal_sim: seeds %" PRIu64 " (from %" PRIu64 "), simulated events %" PRId64
              ", %.0f events/s, acknowledged edits checked %" PRId64 ", violations %" PRId64
              " (%.1f s)\n",
              count, first, events, events / std::max(secs, 1e-9), acked, violating, secs);
  for (const auto& [id, n] : known) {
    std::printf("  known real bug %s: %d seeds%s\n", id.c_str(), n,
                FLAGS_strict ? "" : " (not counted: --strict=false)");
  }
  return violating == 0 ? 0 : 1;
}

int PlantTable() {
#ifndef QJ_SIM_PLANTS
  std::printf("--plant_table needs journal_sim_planted\n");
  return 2;
#else
  static const char* const kNames[] = {
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
  const auto t0 = std::chrono::steady_clock::now();
  int missed = 0, baseline_hits = 0;
  // event: the event (1-based) after which the violation was seen, "end" for the final
  // liveness / survival checks; sim events: all events simulated for this plant so far.
  std::printf("%-50s %10s %8s %12s  %s\n", "planted bug", "first seed", "event", "sim events",
              "first violation");
  for (int p = 1; p < kPlantCountForTable; ++p) {
    SetPlant(p);
    int64_t events = 0;
    bool caught = false;
    for (uint64_t s = FLAGS_first_seed; s < FLAGS_first_seed + FLAGS_max_seeds; ++s) {
      SeedResult r = SeedRun(s, p).Run(FLAGS_events);
      events += r.events;
      if (!r.violations.empty() && Known(r.violations, r.k1_window) != nullptr) {
        // The symptom of a known real bug (kKnownBugs) proves nothing about the plant.
        ++baseline_hits;
        continue;
      }
      if (!r.violations.empty()) {
        // Caught only if the same seed finds nothing with no bug planted.
        SetPlant(0);
        const bool baseline_clean = SeedRun(s, 0).Run(FLAGS_events).violations.empty();
        SetPlant(p);
        if (!baseline_clean) {
          ++baseline_hits;
          continue;
        }
        const std::string at =
            r.first_violation_event < 0 ? "end" : std::to_string(r.first_violation_event + 1);
        std::printf("%-50s %10" PRIu64 " %8s %12" PRId64 "  %s\n", kNames[p], s, at.c_str(), events,
                    r.violations[0].substr(0, 150).c_str());
        caught = true;
        break;
      }
    }
    if (!caught) {
      ++missed;
      std::printf("%-50s %10s %8s %12" PRId64 "  NOT CAUGHT in %" PRIu64 " seeds\n", kNames[p], "-",
                  "-", events, FLAGS_max_seeds);
    }
    std::fflush(stdout);
  }
  SetPlant(0);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf(
      "planted bugs: %d of %d caught (%.1f s); %d seeds skipped (they fail "
      "without the plant too, or show known bug K1); replay one with: journal_sim_planted "
      "--plant=P --seed=S "
      "--events=%d --trace\n",
      kPlantCountForTable - 1 - missed, kPlantCountForTable - 1, secs, baseline_hits, FLAGS_events);
  return missed == 0 ? 0 : 1;
#endif
}

}  // namespace
}  // namespace qj::sim

int main(int argc, char** argv) {
  gflags::SetUsageMessage("journal_sim --seeds=N [--first_seed=S] [--events=E] | --seed=S --trace");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  FLAGS_minloglevel = 3;  // thousands of crashes: keep glog quiet
  google::InitGoogleLogging(argv[0]);
  if (FLAGS_plant_table) return qj::sim::PlantTable();
  return qj::sim::RunSeeds();
}
