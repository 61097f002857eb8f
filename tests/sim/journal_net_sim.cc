// journal_net_sim: the real quorum writer core (journalnode/client/writer_core.h) against
// real `Journal`s on SimDisks, over a simulated network, single-threaded, everything from
// one 64-bit seed.
//
// Each seed builds 3 or 5 journalnodes (tests/sim/journal_model.h: Cluster) and runs an
// event queue ordered by simulated time. Events:
//   - a request or reply message arrives. Every message gets a seeded delay (so messages
//     reorder), may be lost or duplicated (rates change during the run), and links are cut
//     by partitions of any shape: per writer, per journalnode, per direction (one-way);
//     partitions heal;
//   - a call's timeout fires (the channel's job: the core is owed one answer per call);
//   - a writer's timer fires (WriterCore::TakeOutput().wake_at_ns);
//   - a reader's step: two standby namenodes tail committed edits with the real reader
//     logic (journalnode/client/reader_core.h, what QuorumReader runs): a getJournalState
//     round when the core asks for one, then one getJournaledEdits per journalnode in the
//     core's order; a reader's calls fail when the journalnode is down, cut off from it by
//     a partition, or the call is lost; readers restart and tail again from txid 1;
//   - a chaos event: a client appends edits, rolls the segment; a new writer (namenode)
//     takes over (new epoch, recovery) while older ones may still run until fenced; a
//     writer process dies; a journalnode crashes at a random future disk step and restarts
//     on what the power loss left; an fdatasync/fsync/directory sync fails with EIO or
//     ENOSPC (the journal must stop, it is restarted later); background catch-up; a stray
//     heartbeat in an epoch no writer won, carrying a huge committed txid.
// Invariants after every event (journal_model.h plus):
//   - acknowledged (committed) edits keep their bytes forever, in order, without gaps;
//   - no journalnode serves (GetJournaledEdits) an uncommitted or divergent edit;
//   - no reader is handed an uncommitted or divergent edit, and what it is handed comes in
//     txid order without gaps; it never gets an invalid answer;
//   - each epoch is won by one writer; a recovered log never ends below an acknowledged
//     txid; a journalnode stops only after an injected fault; finalized segments stay;
//   - a writer core never asks to be woken at the same instant over and over (a spin);
//   - liveness: after the last fault (network healed, every process up), a new writer
//     reaching a majority (sometimes exactly a majority) opens, writes and finalizes, and
//     every reader is handed its edits, within --liveness_s simulated seconds; every
//     acknowledged edit is then served by some journalnode.
//
//   journal_net_sim --seeds=N [--first_seed=S] [--events=E]   run N seeds, print figures
//   journal_net_sim --seed=S --trace                          replay one seed with its trace
//   journal_net_sim_planted --plant=P | --plant_table         planted bugs (sim_plant.h)
// (flags and output: tests/sim/sim_runner.h)
#include <gflags/gflags.h>
#include <glog/logging.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "common/edit_record.h"
#include "common/sim_plant.h"
#include "journalnode/client/reader_core.h"
#include "journalnode/client/writer_core.h"
#include "tests/sim/journal_model.h"
#include "tests/sim/sim_runner.h"

DEFINE_int32(liveness_s, 60,
             "after the last fault, a writer reaching a majority must commit, and every "
             "reader must be handed its edits, within this many simulated seconds");

namespace qj::sim {
namespace {

using jn::WriterCall;
using jn::WriterCore;
using jn::WriterOp;
using jn::WriterReply;
using jn::WriterRequest;

constexpr int64_t kMs = 1'000'000;
constexpr int kReaders = 2;

// A namenode process holding a writer core, and its channels to the journalnodes.
struct Proc {
  enum State { kOpening, kStarting, kWriting, kFinalizing, kDead };
  int id = 0;
  std::unique_ptr<WriterCore> core;
  State st = kOpening;
  std::vector<int64_t> serial;          // per journalnode: the channel's IPC serial
  std::map<int64_t, int> calls;         // request id -> journalnode, awaiting an answer
  std::map<int64_t, std::string> mine;  // txid -> record this writer appended
  int64_t truth_upto = 0;               // committed txids fed into the truth so far
  int64_t timer_gen = 0;
  int64_t timer_at = -1;
  int64_t last_tick_at = -1;
  // The process dies in the middle of its next fan-out of this call (prepareRecovery,
  // acceptRecovery or finalizeLogSegment): only some of those requests leave.
  std::optional<WriterCall> die_mid_send;
  int ticks_at_same_time = 0;
  bool alive() const { return st != kDead; }
};

// A standby namenode tailing committed edits with the real reader logic (ReaderCore), one
// call per event: a getJournalState round when the core asks for one, then one
// getJournaledEdits per journalnode in the core's order until it has its answer.
struct Reader {
  int id = 0;
  std::unique_ptr<jn::ReaderCore> core;
  int64_t gen = 1;         // a restart makes a new reader; older events are ignored
  int64_t next = 1;        // the txid it must be handed next
  bool reading = false;    // a read is under way
  std::vector<int> order;  // journalnodes still to ask in this read
  int max_txns = 1;
  // Handed edits inside a recovery whose bytes are not read back yet: checked later.
  std::map<int64_t, std::string> unchecked;
};

struct Event {
  enum Kind { kRequest, kReply, kCallTimeout, kTimer, kChaos, kRead };
  int64_t at = 0;
  int64_t seq = 0;
  Kind kind = kChaos;
  int proc = -1;
  int node = -1;
  int64_t id = 0;  // request id, or the timer generation
  int64_t serial = 0;
  std::shared_ptr<const WriterRequest> req = nullptr;
  std::shared_ptr<const WriterReply> rep = nullptr;
  bool operator>(const Event& o) const { return at != o.at ? at > o.at : seq > o.seq; }
};

class NetRun {
 public:
  NetRun(uint64_t seed, int plant, bool trace) : seed_(seed), plant_(plant), tracing_(trace) {}

  int64_t handed() const { return handed_; }
  // Simulated time from the last fault until the final writer committed and every reader
  // had its edits; -1 if the seed did not get there.
  int64_t liveness_ms() const { return liveness_ms_; }

  SeedResult Run(int budget) {
    std::mt19937_64 pick(seed_ ^ 0x9e3779b97f4a7c15ull);
    const int nodes = FLAGS_nodes > 0 ? FLAGS_nodes : (pick() % 4 == 0 ? 5 : 3);
    c_ = std::make_unique<Cluster>(nodes);
    c_->seed = seed_;
    c_->Start();
    tail_.assign(nodes, 1);
    sync_failed_.assign(nodes, false);
    stopped_left_.assign(nodes, 0);
    c_->Trace("seed " + std::to_string(seed_) + ": " + std::to_string(nodes) + " journalnodes" +
              (plant_ > 0 ? ", planted bug " + std::to_string(plant_) : ""));
    SeedResult r;
    for (int k = 0; k < kReaders; ++k) NewReader(k);
    Schedule(Event{0, 0, Event::kChaos});
    // Readers' calls do not use up the budget: it is the writers' and the faults' events.
    while (events_ - read_events_ < budget && c_->violations.empty() && !q_.empty()) {
      Step();
    }
    r.first_violation_event = c_->violations.empty() ? -1 : events_;
    if (c_->violations.empty()) r.acked_checked = Quiesce(&liveness_ms_);
    r.events = events_;
    r.violations = c_->violations;
    r.trace = c_->trace;
    return r;
  }

 private:
  uint64_t R(uint64_t n) { return n == 0 ? 0 : c_->rng() % n; }
  bool P(int percent) { return static_cast<int>(R(100)) < percent; }
  int N() const { return c_->nodes; }
  void Trace(const std::string& s) {
    if (tracing_) c_->Trace("[" + std::to_string(now_ / 1000) + "us] " + s);
  }

  void Schedule(Event e) {
    e.seq = ++seq_;
    q_.push(std::move(e));
  }

  // --- The network. ---

  bool Blocked(int proc, int node, bool to_node) const {
    return cut_.count({proc, node, to_node ? 1 : 0}) != 0;
  }
  int64_t Delay() {
    if (fifo_) return 200'000;  // quiesce: in order, 0.2 ms
    int64_t d = 50'000 + static_cast<int64_t>(R(1'000'000));
    if (P(reorder_pct_)) d += static_cast<int64_t>(R(20 * kMs));
    return d;
  }
  // Puts a message on the wire: lost, delayed, maybe duplicated.
  void Wire(Event e) {
    if (P(loss_pct_)) {
      Trace("  lost: " + Describe(e));
      return;
    }
    const int copies = P(dup_pct_) ? 2 : 1;
    for (int k = 0; k < copies; ++k) {
      Event x = e;
      x.at = now_ + Delay();
      Schedule(std::move(x));
    }
  }
  std::string Describe(const Event& e) const {
    if (e.kind == Event::kRequest) return "w" + std::to_string(e.proc) + " " + e.req->ToString();
    if (e.kind == Event::kReply) {
      return "reply #" + std::to_string(e.id) + " jn" + std::to_string(e.node) + "->w" +
             std::to_string(e.proc) + ": " + (e.rep->status.ok() ? "OK" : e.rep->status.ToString());
    }
    return "?";
  }

  // --- One event. ---

  void Step() {
    Event e = q_.top();
    q_.pop();
    now_ = std::max(now_, e.at);
    bool counted = true;
    switch (e.kind) {
      case Event::kRequest:
        DeliverRequest(e);
        break;
      case Event::kReply:
        counted = DeliverReply(e);
        break;
      case Event::kCallTimeout:
        counted = CallTimeout(e);
        break;
      case Event::kTimer:
        counted = Timer(e);
        break;
      case Event::kRead:
        if (e.id != readers_[e.proc]->gen) return;
        ++read_events_;
        ReadStep(*readers_[e.proc]);
        break;
      case Event::kChaos:
        Chaos();
        if (!quiesced_) {
          Schedule(Event{now_ + 100'000 + static_cast<int64_t>(R(4 * kMs)), 0, Event::kChaos});
        }
        break;
    }
    if (!counted) return;
    ++events_;
    ReadBack();
    Tail();
    CheckReaders();
  }

  void DeliverRequest(const Event& e) {
    const WriterRequest& q = *e.req;
    const int i = e.node;
    auto rep = std::make_shared<WriterReply>();
    if (!c_->Up(i)) {
      rep->status = Status::NetworkError("jn" + std::to_string(i) + ": connection refused");
    } else {
      *rep = Execute(i, q, e.serial);
    }
    Trace("deliver " + Describe(e) + " -> " + (rep->status.ok() ? "OK" : rep->status.ToString()));
    if (Blocked(e.proc, i, false)) return;
    Event back{0, 0, Event::kReply, e.proc, i, q.id};
    back.rep = rep;
    Wire(std::move(back));
  }

  WriterReply Execute(int i, const WriterRequest& q, int64_t serial) {
    WriterReply r = c_->Execute(i, q, serial);
    if (!c_->Up(i)) {
      // The process died during the call: the client sees the connection drop.
      r = WriterReply();
      r.status = Status::NetworkError("jn" + std::to_string(i) + ": connection reset");
    } else if (!r.status.ok()) {
      NoteStopped(i);
    }
    return r;
  }

  // A journal that stopped is legitimate only after an injected sync failure.
  void NoteStopped(int i) {
    if (!c_->Up(i)) return;  // crashed meanwhile: the crash stopped it
    auto st = c_->jn[i]->GetState();
    if (!st.ok() || st->unavailable_reason.empty()) return;
    if (c_->SyncFailedSinceStart(i)) {
      if (stopped_left_[i] == 0) stopped_left_[i] = 1 + static_cast<int>(R(5));
      return;
    }
    if (!c_->damaged[i]) c_->Violation(Cluster::Name(i) + " stopped: " + st->unavailable_reason);
  }

  bool DeliverReply(const Event& e) {
    Proc& p = *procs_[e.proc];
    if (!p.alive()) return false;
    auto it = p.calls.find(e.id);
    if (it == p.calls.end()) return false;  // a duplicate, or the call already failed
    p.calls.erase(it);
    Trace("  " + Describe(e));
    p.core->OnReply(e.id, *e.rep, now_);
    Flush(p);
    return true;
  }

  bool CallTimeout(const Event& e) {
    Proc& p = *procs_[e.proc];
    if (!p.alive()) return false;
    auto it = p.calls.find(e.id);
    if (it == p.calls.end()) return false;
    p.calls.erase(it);
    WriterReply r;
    r.status = Status::TimedOut("call #" + std::to_string(e.id) + " to jn" +
                                std::to_string(e.node) + " timed out");
    Trace("  w" + std::to_string(p.id) + ": " + r.status.ToString());
    p.core->OnReply(e.id, r, now_);
    Flush(p);
    return true;
  }

  bool Timer(const Event& e) {
    Proc& p = *procs_[e.proc];
    if (!p.alive() || e.id != p.timer_gen) return false;
    p.timer_at = -1;
    // A core that keeps asking to be woken now, without anything changing, would spin a
    // real driver's thread (and stops simulated time here).
    if (now_ == p.last_tick_at) {
      if (++p.ticks_at_same_time > 1000) {
        c_->Violation("w" + std::to_string(p.id) + " (epoch " + std::to_string(p.core->epoch()) +
                      ") busy loop: 1000 wake-ups at the same instant; " + CoreState(p));
        return true;
      }
    } else {
      p.last_tick_at = now_;
      p.ticks_at_same_time = 0;
    }
    p.core->Tick(now_);
    Flush(p);
    return true;
  }

  std::string CoreState(const Proc& p) const {
    const jn::WriterStats st = p.core->stats();
    std::string out = "committed " + std::to_string(p.core->committed_txid()) + ", last " +
                      std::to_string(p.core->last_txid()) + ", segment " +
                      std::to_string(p.core->segment_start()) + ", busy " +
                      (p.core->busy() ? "yes" : "no") + ", acked";
    for (size_t i = 0; i < st.acked_txid.size(); ++i) {
      out += " jn" + std::to_string(i) + "=" + std::to_string(st.acked_txid[i]) +
             (st.in_pipeline[i] ? "" : "(out)");
    }
    return out;
  }

  // Executes what the core asks for and follows the client's script.
  void Flush(Proc& p) {
    for (int round = 0; round < 4; ++round) {
      jn::WriterOutput out = p.core->TakeOutput();
      if (p.die_mid_send && out.sends.size() >= 2 && out.sends[0].call == *p.die_mid_send) {
        // A random subset leaves (in random order), then the process is gone.
        for (size_t k = 0; k + 1 < out.sends.size(); ++k) {
          std::swap(out.sends[k], out.sends[k + R(out.sends.size() - k)]);
        }
        out.sends.resize(1 + R(out.sends.size() - 1));
        c_->Trace("w" + std::to_string(p.id) + " dies while sending " +
                  std::to_string(out.sends.size()) + " of its " +
                  out.sends[0].ToString().substr(0, 40) + "... requests");
        p.st = Proc::kDead;
      }
      const bool died = !p.alive();
      for (WriterRequest& q : out.sends) {
        const int i = q.node;
        Event e{0, 0, Event::kRequest, p.id, i, q.id};
        e.serial = ++p.serial[i];
        p.calls[q.id] = i;
        Schedule(Event{now_ + q.timeout_ms * kMs, 0, Event::kCallTimeout, p.id, i, q.id});
        e.req = std::make_shared<const WriterRequest>(std::move(q));
        if (Blocked(p.id, i, true)) {
          Trace("  cut: " + Describe(e));
          continue;
        }
        Wire(std::move(e));
      }
      if (out.recovered) {
        // A majority accepted the recovery's choice: committed, even if the process dies
        // while it sends the finalize that follows.
        pending_readback_.push_back({*out.recovered, p.core->epoch()});
        c_->unverified.emplace_back(out.recovered->start_txid, out.recovered->end_txid);
        ReadBack();
      }
      if (died) {
        Commit(p);  // what it counted committed before it died is committed
        return;
      }
      bool again = false;
      for (const auto& [op, s] : out.done) again |= OnDone(p, op, s);
      Commit(p);
      if (out.wake_at_ns >= 0 && out.wake_at_ns != p.timer_at && p.alive()) {
        p.timer_at = out.wake_at_ns;
        Schedule(Event{out.wake_at_ns, 0, Event::kTimer, p.id, -1, ++p.timer_gen});
      }
      if (!again) break;
    }
    if (!p.core->health().ok() && p.alive() && !p.core->busy()) {
      Trace("  w" + std::to_string(p.id) + " stops: " + p.core->health().ToString());
      p.st = Proc::kDead;
    }
  }

  // Returns true if the client issued a new call (more output to flush).
  bool OnDone(Proc& p, WriterOp op, const Status& s) {
    const std::string who =
        "w" + std::to_string(p.id) + " (epoch " + std::to_string(p.core->epoch()) + ")";
    switch (op) {
      case WriterOp::kOpen:
        if (!s.ok()) {
          c_->Trace(who + " cannot become writer: " + s.ToString().substr(0, 160));
          p.st = Proc::kDead;
          return false;
        }
        c_->Trace(who + " is the writer; log ends at " + std::to_string(p.core->last_txid()));
        if (!c_->epochs_won.insert(p.core->epoch()).second) {
          c_->Violation("two writers won epoch " + std::to_string(p.core->epoch()));
        }
        recovered_end_[p.core->epoch()] = p.core->last_txid();
        for (const auto& [txid, e] : committed_in_) CheckRecoveredEnds(txid, e);
        p.truth_upto = p.core->last_txid();
        return StartNext(p);
      case WriterOp::kStartSegment:
        if (!s.ok()) {
          p.st = Proc::kDead;
          return false;
        }
        p.st = Proc::kWriting;
        return false;
      case WriterOp::kFinalizeSegment:
        if (s.ok()) {
          c_->Trace(who + " finalized its segment at " + std::to_string(p.core->last_txid()));
          return StartNext(p);
        }
        p.st = p.core->health().ok() ? Proc::kWriting : Proc::kDead;
        return false;
    }
    return false;
  }

  bool StartNext(Proc& p) {
    p.st = Proc::kStarting;
    if (!p.core->StartSegment(p.core->last_txid() + 1, now_).ok()) {
      p.st = Proc::kDead;
      return false;
    }
    return true;
  }

  // Edits the writer counts as committed become the truth.
  void Commit(Proc& p) {
    const int64_t c = p.core->committed_txid();
    for (int64_t t = p.truth_upto + 1; t <= c; ++t) {
      auto it = p.mine.find(t);
      if (it == p.mine.end()) {
        c_->Violation("w" + std::to_string(p.id) + " counts txid " + std::to_string(t) +
                      " committed but never appended it");
        break;
      }
      c_->SetTruth(t, it->second, "writer " + std::to_string(p.core->epoch()));
      NoteCommitted(t, p.core->epoch());
      ++acked_;
    }
    p.truth_upto = std::max(p.truth_upto, c);
  }

  // An edit committed in epoch e must be in the log that every later epoch recovered
  // (the newEpoch majority intersects the majority that acknowledged it). A writer of an
  // older epoch may still finish Open after a newer one did: its log is not compared with
  // the newer epoch's edits (it will be fenced at its first write).
  void NoteCommitted(int64_t txid, int64_t epoch) {
    auto [it, fresh] = committed_in_.emplace(txid, epoch);
    if (!fresh && epoch >= it->second) return;
    it->second = epoch;
    CheckRecoveredEnds(txid, epoch);
  }
  void CheckRecoveredEnds(int64_t txid, int64_t epoch) {
    for (auto r = recovered_end_.upper_bound(epoch); r != recovered_end_.end(); ++r) {
      if (r->second < txid) {
        c_->Violation("the writer of epoch " + std::to_string(r->first) +
                      " recovered a log ending at " + std::to_string(r->second) + ", below txid " +
                      std::to_string(txid) + " acknowledged in epoch " + std::to_string(epoch));
        return;
      }
    }
  }

  // A recovery's chosen copy, accepted by a majority, is committed: read its bytes back
  // (retried after later events until it can be). Only bytes a majority of journalnodes
  // hold for exactly this range count: a node that did not accept may still hold another
  // copy of a segment with the same start (an older writer's uncommitted edits).
  void ReadBack() {
    for (size_t k = 0; k < pending_readback_.size();) {
      const jn::SegmentState seg = pending_readback_[k].first;
      const int64_t epoch = pending_readback_[k].second;
      std::map<std::string, int> copies;
      const std::string* chosen = nullptr;
      for (int i = 0; i < N() && chosen == nullptr; ++i) {
        if (!c_->Up(i)) continue;
        auto chunk = c_->jn[i]->GetSegmentChunk(seg.start_txid, seg.end_txid, 0, 64 << 20);
        if (!chunk.ok() || !chunk->eof) continue;
        auto recs = SplitRecords(chunk->data);
        if (recs.empty() || recs.begin()->first != seg.start_txid ||
            recs.rbegin()->first != seg.end_txid ||
            static_cast<int64_t>(recs.size()) != seg.end_txid - seg.start_txid + 1) {
          continue;
        }
        auto it = copies.emplace(std::move(chunk->data), 0).first;
        if (++it->second >= c_->majority()) chosen = &it->first;
      }
      if (chosen != nullptr) {
        for (const auto& [txid, rec] : SplitRecords(*chosen)) {
          c_->SetTruth(txid, rec, "the recovery of epoch " + std::to_string(epoch));
          NoteCommitted(txid, epoch);
        }
        auto& u = c_->unverified;
        u.erase(std::find(u.begin(), u.end(), std::make_pair(seg.start_txid, seg.end_txid)));
        pending_readback_.erase(pending_readback_.begin() + static_cast<std::ptrdiff_t>(k));
      } else {
        ++k;
      }
    }
  }

  // Readers tail every journalnode: each edit served must be committed, with its bytes.
  void Tail(bool from_start = false) {
    if (from_start || events_ % 256 == 0) tail_.assign(N(), 1);
    for (int i = 0; i < N(); ++i) {
      if (!c_->Up(i)) continue;
      for (int guard = 0; guard < 100; ++guard) {
        auto r = c_->jn[i]->GetJournaledEdits(tail_[i], 500);
        if (!r.ok()) {
          NoteStopped(i);
          break;
        }
        if (r->num_txns == 0) break;
        bool stop = false;
        for (const auto& [txid, rec] : SplitRecords(r->records)) {
          auto it = c_->truth.find(txid);
          if (it == c_->truth.end()) {
            if (c_->Unverified(txid)) {
              stop = true;  // its recovery read-back is pending: look again later
              break;
            }
            c_->Violation(Cluster::Name(i) + " served txid " + std::to_string(txid) +
                          ", which was never committed");
            return;
          }
          if (it->second != rec) {
            c_->Violation(Cluster::Name(i) + " served a divergent txid " + std::to_string(txid));
            return;
          }
          ++reads_checked_;
          tail_[i] = txid + 1;
        }
        if (stop) break;
      }
    }
  }

  // --- Readers (standby namenodes tailing). ---

  void NewReader(int id) {
    const int64_t gen = id < static_cast<int>(readers_.size()) ? readers_[id]->gen + 1 : 1;
    std::vector<std::string> names;
    for (int i = 0; i < N(); ++i) names.push_back(Cluster::Name(i));
    auto r = std::make_unique<Reader>();
    r->id = id;
    r->gen = gen;
    r->core = std::make_unique<jn::ReaderCore>("r" + std::to_string(id), names);
    // A restarted standby tails again from a txid of its image: here, from the start.
    if (id < static_cast<int>(readers_.size())) {
      readers_[id] = std::move(r);
    } else {
      readers_.push_back(std::move(r));
    }
    ScheduleRead(*readers_[id], kMs + static_cast<int64_t>(R(5 * kMs)));
  }
  void ScheduleRead(const Reader& r, int64_t after) {
    Schedule(Event{now_ + after, 0, Event::kRead, r.id, -1, r.gen});
  }
  // Whether a reader's call to journalnode i gets through (up, not cut, not lost).
  bool ReaderReaches(const Reader& r, int i) {
    return c_->Up(i) && reader_cut_.count({r.id, i}) == 0 && !P(loss_pct_);
  }

  void ReadStep(Reader& r) {
    if (!r.reading) {
      r.max_txns = 1 + static_cast<int>(R(60));
      Status s = r.core->BeginRead(r.next, r.max_txns);
      if (!s.ok()) {
        c_->Violation("r" + std::to_string(r.id) + ": " + s.ToString());
        return;
      }
      if (r.core->NeedRefresh(r.next)) {
        int answers = 0;
        for (int i = 0; i < N(); ++i) {
          if (!ReaderReaches(r, i)) continue;
          auto st = c_->jn[i]->GetState();
          if (!st.ok()) continue;
          r.core->OnState(i, st->committed_txid);
          ++answers;
        }
        if (answers == 0) {
          ScheduleRead(r, 5 * kMs);
          return;
        }
      }
      r.order = r.core->ReadOrder();
      std::reverse(r.order.begin(), r.order.end());  // taken from the back
      r.reading = true;
      ScheduleRead(r, 100'000 + static_cast<int64_t>(R(kMs)));
      return;
    }
    if (r.order.empty()) {
      auto res = r.core->Exhausted();
      Trace("r" + std::to_string(r.id) + " read from " + std::to_string(r.next) + ": " +
            (res.ok() ? "nothing new" : res.status().ToString().substr(0, 120)));
      r.reading = false;
      ScheduleRead(r, kMs + static_cast<int64_t>(R(4 * kMs)));
      return;
    }
    const int i = r.order.back();
    r.order.pop_back();
    ScheduleRead(r, 100'000 + static_cast<int64_t>(R(kMs)));
    if (!ReaderReaches(r, i)) {
      r.core->OnReadFailed(i, Status::NetworkError(Cluster::Name(i) + " unreachable"));
      return;
    }
    auto b = c_->jn[i]->GetJournaledEdits(r.next, r.max_txns);
    if (!b.ok()) {
      r.core->OnReadFailed(i, b.status());
      return;
    }
    std::vector<EditRecord> edits;
    auto done = r.core->OnEdits(i, *b, &edits);
    if (!done.ok()) {
      // Nothing in this simulator damages stored bytes: an invalid answer is a bug.
      c_->Violation("r" + std::to_string(r.id) + " got an invalid answer from " + Cluster::Name(i) +
                    ": " + done.status().ToString().substr(0, 160));
      return;
    }
    if (!*done) return;
    r.reading = false;
    r.order.clear();
    if (edits.empty()) return;
    // The next read starts soon: a tailer with edits to apply keeps going.
    Trace("r" + std::to_string(r.id) + " is handed " + std::to_string(edits.front().txid) + ".." +
          std::to_string(edits.back().txid) + " by " + Cluster::Name(i));
    for (const EditRecord& e : edits) {
      if (e.txid != r.next) {
        c_->Violation("r" + std::to_string(r.id) + " expected txid " + std::to_string(r.next) +
                      ", was handed " + std::to_string(e.txid) + " (out of order or a gap)");
        return;
      }
      std::string rec;
      AppendRecord(&rec, e.txid, e.op, e.payload);
      r.unchecked.emplace(e.txid, std::move(rec));
      ++r.next;
      ++handed_;
    }
    CheckReaders();
  }

  // Every edit handed to a reader is committed, with the committed bytes. An edit inside
  // a recovery whose bytes are not read back yet is judged once they are.
  void CheckReaders() {
    for (auto& r : readers_) {
      for (auto it = r->unchecked.begin(); it != r->unchecked.end();) {
        auto t = c_->truth.find(it->first);
        if (t == c_->truth.end()) {
          if (c_->Unverified(it->first)) {
            ++it;
            continue;
          }
          c_->Violation("r" + std::to_string(r->id) + " was handed txid " +
                        std::to_string(it->first) + ", which was never committed");
          return;
        }
        if (t->second != it->second) {
          c_->Violation("r" + std::to_string(r->id) + " was handed a divergent txid " +
                        std::to_string(it->first));
          return;
        }
        it = r->unchecked.erase(it);
      }
    }
  }

  // --- Chaos. ---

  std::vector<int> Live(Proc::State want) const {
    std::vector<int> v;
    for (const auto& p : procs_) {
      if (p->st == want) v.push_back(p->id);
    }
    return v;
  }

  void Chaos() {
    c_->Settle();
    for (int i = 0; i < N(); ++i) {
      if (!c_->Up(i)) tail_[i] = 1;
      if (stopped_left_[i] > 0 && --stopped_left_[i] == 0) {
        c_->next_loss[i] = static_cast<SimDisk::Loss>(R(5));
        c_->Trace("operator restarts stopped " + Cluster::Name(i));
        sync_failed_[i] = false;
        c_->Restart(i);
        tail_[i] = 1;
        NoteStopped(i);  // a sync may fail again at start-up
      }
    }
    if (quiesced_) return;
    const auto writing = Live(Proc::kWriting);
    int live = 0;
    for (const auto& p : procs_) live += p->alive() ? 1 : 0;
    const int takeover = live == 0 ? 30 : writing.empty() ? 4 : 2;
    const int kinds[] = {takeover, 50, 4, 2, 3, 2, 4, 5, 3, 2, 2};
    int total = 0;
    for (int k : kinds) total += k;
    int x = static_cast<int>(R(total)), kind = 0;
    while (x >= kinds[kind]) x -= kinds[kind++];
    switch (kind) {
      case 0:
        Takeover();
        break;
      case 1:
        if (!writing.empty()) Append(*procs_[writing[R(writing.size())]], 1 + R(12));
        break;
      case 2:
        if (!writing.empty()) {
          Proc& p = *procs_[writing[R(writing.size())]];
          if (p.core->FinalizeSegment(now_).ok()) {
            p.st = Proc::kFinalizing;
            c_->Trace("w" + std::to_string(p.id) + " finalizes its segment");
            Flush(p);
          }
        }
        break;
      case 3:
        if (P(30)) {
          const int k = static_cast<int>(R(readers_.size()));
          c_->Trace("reader r" + std::to_string(k) + " restarts, tails from txid 1");
          NewReader(k);
          break;
        }
        for (auto& p : procs_) {
          if (p->alive() && P(50)) {
            c_->Trace("w" + std::to_string(p->id) + " (epoch " + std::to_string(p->core->epoch()) +
                      ") process dies");
            p->st = Proc::kDead;
            break;
          }
        }
        break;
      case 4:
        PlanCrash();
        break;
      case 5:
        FailSync();
        break;
      case 6:
        Partition();
        break;
      case 7:
        if (!cut_.empty() || !reader_cut_.empty()) c_->Trace("partitions heal");
        cut_.clear();
        reader_cut_.clear();
        break;
      case 8:
        loss_pct_ = P(50) ? 0 : static_cast<int>(R(15));
        dup_pct_ = P(50) ? 0 : static_cast<int>(R(10));
        reorder_pct_ = P(30) ? 0 : static_cast<int>(R(30));
        c_->Trace("network: loss " + std::to_string(loss_pct_) + "%, duplication " +
                  std::to_string(dup_pct_) + "%, reordering " + std::to_string(reorder_pct_) + "%");
        break;
      case 9:
        StrayHeartbeat();
        break;
      default: {
        const int i = static_cast<int>(R(N())), j = static_cast<int>(R(N()));
        if (i != j && c_->Up(i) && c_->Up(j)) {
          auto n = c_->jn[i]->CatchUpFrom(Cluster::Name(j));
          c_->Trace(Cluster::Name(i) + " catches up from " + Cluster::Name(j) + ": " +
                    (n.ok() ? std::to_string(*n) + " segments" : n.status().ToString()));
          if (!n.ok()) NoteStopped(i);
        }
        break;
      }
    }
  }

  jn::WriterCoreOptions CoreOptions(int id) const {
    jn::WriterCoreOptions o;
    o.nodes = N();
    o.name = "w" + std::to_string(id);
    o.journal_id = "ns1";
    o.ns = jn::NamespaceInfo{42, "cluster-a", 1};
    o.rpc_timeout_ms = 200;
    o.write_timeout_ms = 1500;
    o.recovery_timeout_ms = 2000;
    o.accept_recovery_timeout_ms = 2000;
    o.max_queue_bytes = 48 << 10;  // ~65 edits: lagging nodes do get dropped
    o.max_batch_bytes = 8 << 10;
    o.max_inflight_batches = 2;
    o.heartbeat_interval_ms = 20;
    o.max_epoch_attempts = 5;
    return o;
  }

  Proc& NewProc() {
    // At most three processes think they are writers; the oldest live one dies first.
    int live = 0;
    for (const auto& p : procs_) live += p->alive() ? 1 : 0;
    for (auto& p : procs_) {
      if (live < 3) break;
      if (p->alive()) {
        p->st = Proc::kDead;
        --live;
      }
    }
    auto p = std::make_unique<Proc>();
    p->id = static_cast<int>(procs_.size());
    p->core = std::make_unique<WriterCore>(CoreOptions(p->id));
    p->serial.assign(N(), 0);
    procs_.push_back(std::move(p));
    return *procs_.back();
  }

  void Takeover() {
    Proc& p = NewProc();
    if (P(20)) {
      static const WriterCall kCalls[] = {WriterCall::kPrepareRecovery, WriterCall::kAcceptRecovery,
                                          WriterCall::kFinalizeLogSegment};
      p.die_mid_send = kCalls[R(3)];
    }
    c_->Trace("w" + std::to_string(p.id) + " tries to become writer" +
              (p.die_mid_send ? " (and will die in the middle of a fan-out)" : ""));
    p.core->Open(now_);
    Flush(p);
  }

  void Append(Proc& p, uint64_t n) {
    const int64_t first = p.core->last_txid() + 1;
    int64_t t = first;
    for (uint64_t k = 0; k < n; ++k, ++t) {
      std::string rec;
      AppendRecord(&rec, t, 3, Payload(p.core->epoch(), t));
      bool queued = false;
      if (!p.core->Append(t, rec, now_, &queued).ok() || !queued) break;
      p.mine[t] = std::move(rec);
    }
    c_->Trace("w" + std::to_string(p.id) + " (epoch " + std::to_string(p.core->epoch()) +
              ") appends " + std::to_string(first) + ".." + std::to_string(t - 1) + ", committed " +
              std::to_string(p.core->committed_txid()));
    Flush(p);
  }

  void PlanCrash() {
    std::vector<int> cand;
    for (int i = 0; i < N(); ++i) {
      if (c_->Up(i)) cand.push_back(i);
    }
    if (cand.empty()) return;
    const int i = cand[R(cand.size())];
    const int64_t at = c_->disk[i]->steps() + static_cast<int64_t>(R(40));
    c_->disk[i]->CrashAtStep(at);
    c_->next_loss[i] = static_cast<SimDisk::Loss>(R(5));
    c_->restart_delay[i] = P(35) ? 1 + static_cast<int>(R(5)) : 0;
    c_->Trace(Cluster::Name(i) + " will crash at disk step " + std::to_string(at));
  }

  void FailSync() {
    const int i = static_cast<int>(R(N()));
    if (!c_->Up(i) || sync_failed_[i]) return;
    const bool enospc = P(50);
    const int64_t at = c_->disk[i]->steps() + static_cast<int64_t>(R(20));
    c_->disk[i]->FailSyncAtStep(at, enospc);
    sync_failed_[i] = true;  // from now on, its journal may stop (and is restarted)
    c_->Trace(Cluster::Name(i) + ": a sync at or after disk step " + std::to_string(at) +
              " will fail with " + (enospc ? "ENOSPC" : "EIO"));
  }

  // A heartbeat from a process that won no epoch (a confused or partitioned-off client),
  // in an epoch below or above the node's promise, claiming a huge committed txid.
  void StrayHeartbeat() {
    const int i = static_cast<int>(R(N()));
    if (!c_->Up(i)) return;
    auto st = c_->jn[i]->GetState();
    if (!st.ok()) return;
    int64_t e = P(50) ? st->promised_epoch + 1 + static_cast<int64_t>(R(3))
                      : static_cast<int64_t>(R(st->promised_epoch + 1));
    // Never the epoch of a writer process (one still recovering is not in epochs_won yet):
    // that would be the writer itself vouching for its edits, not a stray.
    std::set<int64_t> used(c_->epochs_won.begin(), c_->epochs_won.end());
    for (const auto& p : procs_) used.insert(p->core->epoch());
    while (used.count(e) != 0) ++e;
    const int64_t committed = (int64_t{1} << 60) + static_cast<int64_t>(R(1000));
    Status s = c_->jn[i]->Heartbeat(jn::RequestHeader{"ns1", e, 1000000 + e, committed});
    c_->Trace("stray heartbeat to " + Cluster::Name(i) + ": epoch " + std::to_string(e) +
              ", committed 2^60: " + (s.ok() ? "OK" : "refused"));
  }

  void Partition() {
    const int shape = static_cast<int>(R(3));
    std::string what;
    if (P(30)) {
      const int k = static_cast<int>(R(readers_.size()));
      for (int i = 0; i < N(); ++i) {
        if (!P(45)) continue;
        reader_cut_.insert({k, i});
        what += " " + Cluster::Name(i);
      }
      if (!what.empty()) c_->Trace("partition r" + std::to_string(k) + " from" + what);
      return;
    }
    std::vector<int> live;
    for (const auto& p : procs_) {
      if (p->alive()) live.push_back(p->id);
    }
    if (live.empty()) return;
    const int w = live[R(live.size())];
    for (int i = 0; i < N(); ++i) {
      if (!P(45)) continue;
      // 0: both ways, 1: writer -> node only, 2: node -> writer only.
      if (shape != 2) cut_.insert({w, i, 1});
      if (shape != 1) cut_.insert({w, i, 0});
      what += " " + Cluster::Name(i);
    }
    if (what.empty()) return;
    static const char* const kShape[] = {"both ways", "requests only", "replies only"};
    c_->Trace("partition w" + std::to_string(w) + " from" + what + " (" + kShape[shape] + ")");
  }

  // --- The end: faults stop; liveness and survival. ---

  int64_t Quiesce(int64_t* liveness_ms) {
    quiesced_ = true;
    c_->Trace("quiesce: no more faults");
    cut_.clear();
    reader_cut_.clear();
    loss_pct_ = dup_pct_ = reorder_pct_ = 0;
    fifo_ = true;
    for (auto& p : procs_) p->st = Proc::kDead;
    for (int i = 0; i < N(); ++i) {
      c_->disk[i]->FailSyncAtStep(-1, false);
      if (!c_->disk[i]->crashed()) c_->disk[i]->CrashAtStep(-1);
      c_->restart_delay[i] = 0;
      if (c_->disk[i]->crashed()) c_->Restart(i);
      auto st = c_->jn[i]->GetState();
      if (st.ok() && !st->unavailable_reason.empty()) {
        c_->Trace("operator restarts stopped " + Cluster::Name(i));
        c_->Restart(i);
      }
      stopped_left_[i] = 0;
      sync_failed_[i] = false;
    }
    // The messages of dead writers still in flight arrive first.
    const int64_t drain_until = now_ + 100 * kMs;
    while (!q_.empty() && q_.top().at <= drain_until && c_->violations.empty()) Step();
    for (int i = 0; i < N(); ++i) {
      for (int j = 0; j < N(); ++j) {
        if (i != j) (void)c_->jn[i]->CatchUpFrom(Cluster::Name(j));
      }
    }
    const int64_t start = now_;
    // It reaches a majority: a minority of the journalnodes may stay cut off from it.
    std::vector<int> unreached_nodes;
    std::string unreached;
    if (P(50)) {
      std::vector<int> all(N());
      for (int i = 0; i < N(); ++i) all[i] = i;
      for (int k = 0; k < N() - c_->majority(); ++k) {
        std::swap(all[k], all[k + R(N() - k)]);
        unreached_nodes.push_back(all[k]);
        unreached += " " + Cluster::Name(all[k]);
      }
    }
    // A namenode whose writer was fenced (a stray process promised a newer epoch to some
    // journalnode) tries again, as failoverd would make it.
    int attempts = 0;
    auto final_writer = [&]() -> Proc& {
      Proc& w = NewProc();
      ++attempts;
      for (int i : unreached_nodes) {
        cut_.insert({w.id, i, 1});
        cut_.insert({w.id, i, 0});
      }
      c_->Trace("a final writer w" + std::to_string(w.id) + " reaches " +
                (unreached.empty() ? "every journalnode" : "all but" + unreached));
      w.core->Open(now_);
      Flush(w);
      return w;
    };
    const int64_t bound = int64_t{FLAGS_liveness_s} * 1000 * kMs;
    Proc* w = &final_writer();
    int64_t target = -1;
    bool finalized = false, ok = false;
    while (!q_.empty() && c_->violations.empty() && now_ - start < bound) {
      if (!w->alive()) {
        if (attempts >= 3 || !w->core->health().IsStaleEpoch()) break;
        w = &final_writer();
        target = -1;
        finalized = false;
      }
      Proc& p = *w;
      if (p.st == Proc::kWriting && target < 0) {
        Append(p, 2);
        target = p.core->last_txid();
      }
      if (target > 0 && p.core->committed_txid() >= target && !finalized &&
          p.st == Proc::kWriting) {
        if (p.core->FinalizeSegment(now_).ok()) {
          p.st = Proc::kFinalizing;
          finalized = true;
          Flush(p);
        }
      }
      if (finalized && (p.st == Proc::kStarting || p.st == Proc::kWriting) &&
          p.core->committed_txid() >= target) {
        ok = true;
        break;
      }
      Step();
    }
    Proc& p = *w;
    if (!c_->violations.empty()) return 0;
    if (!ok) {
      c_->Violation("liveness: after the last fault, a writer reaching " +
                    (unreached.empty() ? std::string("every journalnode") : "all but" + unreached) +
                    " did not open, write and finalize within " + std::to_string(FLAGS_liveness_s) +
                    " simulated seconds: " +
                    (p.core->health().ok() ? std::string("still trying")
                                           : p.core->health().ToString().substr(0, 200)));
      return 0;
    }
    c_->Trace("the final writer committed and finalized " + std::to_string(target) + " after " +
              std::to_string((now_ - start) / kMs) + " ms");
    // Readers (every journalnode reachable) tail up to it within the same bound.
    while (!q_.empty() && c_->violations.empty() && now_ - start < bound) {
      bool all = true;
      for (const auto& r : readers_) all &= r->next > target;
      if (all) break;
      Step();
    }
    for (const auto& r : readers_) {
      if (r->next <= target && c_->violations.empty()) {
        c_->Violation("liveness: reader r" + std::to_string(r->id) + " was handed edits up to " +
                      std::to_string(r->next - 1) + " only, not the final writer's " +
                      std::to_string(target) + ", within " + std::to_string(FLAGS_liveness_s) +
                      " simulated seconds after the last fault");
      }
    }
    if (!c_->violations.empty()) return 0;
    *liveness_ms = (now_ - start) / kMs;
    // Let its heartbeats carry the commit point, then check every node from the start.
    const int64_t until = now_ + 100 * kMs;
    while (!q_.empty() && q_.top().at <= until && c_->violations.empty()) Step();
    for (int i = 0; i < N(); ++i) {
      for (int j = 0; j < N(); ++j) {
        if (i != j) (void)c_->jn[i]->CatchUpFrom(Cluster::Name(j));
      }
    }
    ReadBack();
    Tail(/*from_start=*/true);
    c_->CheckFinalizedDurable();
    std::set<int64_t> covered;
    c_->CheckReaders(&covered);
    int64_t checked = 0;
    for (const auto& [txid, rec] : c_->truth) {
      if (covered.count(txid) == 0) {
        c_->Violation("acknowledged txid " + std::to_string(txid) + " is served by no node");
        break;
      }
      ++checked;
    }
    return checked;
  }

  const uint64_t seed_;
  const int plant_;
  const bool tracing_;
  std::unique_ptr<Cluster> c_;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> q_;
  std::vector<std::unique_ptr<Proc>> procs_;
  std::set<std::tuple<int, int, int>> cut_;   // (writer, node, 1: requests / 0: replies)
  std::set<std::pair<int, int>> reader_cut_;  // (reader, node): its calls fail
  std::vector<std::unique_ptr<Reader>> readers_;
  int64_t handed_ = 0;  // edits handed to readers
  int64_t liveness_ms_ = -1;
  int64_t read_events_ = 0;
  std::vector<std::pair<jn::SegmentState, int64_t>> pending_readback_;  // with the epoch
  std::map<int64_t, int64_t> committed_in_;   // txid -> lowest epoch that committed it
  std::map<int64_t, int64_t> recovered_end_;  // epoch -> end of the log it recovered
  std::vector<int64_t> tail_;
  std::vector<bool> sync_failed_;
  std::vector<int> stopped_left_;  // chaos events until an operator restarts it
  int loss_pct_ = 0, dup_pct_ = 0, reorder_pct_ = 10;
  bool fifo_ = false;
  bool quiesced_ = false;
  int64_t now_ = 0;
  int64_t seq_ = 0;
  int64_t events_ = 0;
  int64_t acked_ = 0;
  int64_t reads_checked_ = 0;
};

// Figures over all seeds run, for the summary line.
int64_t g_handed = 0;        // edits handed to readers (each checked)
int64_t g_liveness_max = 0;  // the slowest seed's time from the last fault to liveness

Simulator NetSimulator() {
  Simulator sim;
#ifdef QJ_SIM_PLANTS
  sim.binary = "journal_net_sim_planted";
  sim.planted = true;
#else
  sim.binary = "journal_net_sim";
#endif
  sim.default_events = 2000;
  sim.plant_names = {
      "",
      "(a) startLogSegment keeps paxos/<t>",
      "(b) writer epoch persisted before the segment file",
      "(c) no hole allowance at start-up",
      "(d) committed txid from any epoch, unclamped",
      "(e) acknowledge before fdatasync",
      "(f) no directory fsync after rename",
      "(g) serve in-progress edits beyond committed",
      "(h) commit on one ack (WriterCore)",
  };
  sim.set_plant = [](int p) {
#ifdef QJ_SIM_PLANTS
    qj::sim_plant = p;
#else
    (void)p;
#endif
  };
  sim.run = [](uint64_t seed, int plant) {
    NetRun run(seed, plant, FLAGS_trace);
    SeedResult r = run.Run(FLAGS_events);
    g_handed += run.handed();
    g_liveness_max = std::max(g_liveness_max, run.liveness_ms());
    return r;
  };
  sim.summary = [] {
    return ", edits handed to readers " + std::to_string(g_handed) + ", liveness bound " +
           std::to_string(FLAGS_liveness_s) + " simulated s (slowest seed " +
           std::to_string(g_liveness_max) + " ms)";
  };
  return sim;
}

}  // namespace
}  // namespace qj::sim

int main(int argc, char** argv) { return qj::sim::Main(argc, argv, qj::sim::NetSimulator()); }
