// lease_sim: the seeded, single-threaded simulator of leases and failover (DESIGN §6).
//
// One run = one seed. Everything random comes from it; simulated real time is the global
// timeline and each process reads its own clock (offset + rate x real time). Running:
//   * journalnodes: the REAL LeaseTable (journalnode/lease_table.h), on their own clocks;
//     a restarted one is a new LeaseTable, so it honours the restart grace period;
//   * namenodes: the REAL HaState (namenode/ha_state.h) — the piece that decides "I serve
//     until my deadline" — plus a model of transitionToActive's duration, hangs, crashes
//     and journal failures (fenced, unhealthy);
//   * failoverds: the REAL ControllerCore and LeaseClientCore, each on its namenode's
//     host clock (a failoverd hands its namenode deadlines on that clock), with a model
//     of the health monitor, of RPC timeouts, and of an admin's graceful failovers.
// Network between hosts: delay, loss, duplication, reordering (requests of one
// connection stay in order, as over TCP: LeaseGrantor's contract), partitions of any
// shape including one-way, healing. Clock rates differ within the drift bound of the
// lease options, or beyond it with --beyond_drift.
//
// Checked after every event:
//   * at most one namenode serves (HaState::CheckServing() OK on its own clock, process
//     up) at any real instant (serving only starts at events, so checking at every event
//     instant sees every overlap);
//   * at most one failoverd believes it holds the lease (unexpired on its own clock);
//   * liveness: once faults stop (all healed and up), some namenode serves within
//     --liveness_s simulated seconds.
//
// Usage: lease_sim --seeds=N [--first_seed=S] [--events=E]; lease_sim --seed=S --trace
// replays one seed with a readable trace. In the planted build (lease_sim_planted):
// --plant=N runs with a planted bug, --plant_table finds each plant's first seed.
#include <gflags/gflags.h>
#include <glog/logging.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <random>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/sim_plant.h"
#include "failover/controller_core.h"
#include "journalnode/client/lease_client.h"
#include "journalnode/lease_table.h"
#include "namenode/ha_state.h"

DEFINE_int32(seeds, 50, "Number of seeds to run");
DEFINE_int64(first_seed, 1, "First seed");
DEFINE_int64(seed, -1, "Run this one seed (with --trace for a readable trace)");
DEFINE_int64(events, 3000, "Events of the fault phase of each seed");
DEFINE_int32(journalnodes, 3, "Journalnodes (3 or 5)");
DEFINE_bool(trace, false, "Print every event");
DEFINE_bool(beyond_drift, false,
            "Clock rates outside the configured drift bound: the checker must report the "
            "overlap this allows");
DEFINE_bool(expect_violation, false,
            "Exit 0 only if some seed reports a violation (for --beyond_drift and plants)");
DEFINE_int64(liveness_s, 45, "After the last fault, a namenode must serve within this");
DEFINE_int32(plant, 0,
             "Planted bug (lease_sim_planted only): 9 no drift term, 10 no "
             "pending deadline during transitionToActive");
DEFINE_bool(plant_table, false, "For every plant: the first seed that catches it");
DEFINE_int32(max_seeds, 10000, "Seeds tried per plant by --plant_table");

namespace qj::sim {

using nn::HaRole;
using nn::HaRoleName;
using nn::HaState;

namespace {

constexpr int64_t kMs = kNanosPerMilli;
constexpr int64_t kSec = 1000 * kMs;
const char* const kJournal = "ns1";

// Lease settings: a small margin so that the drift term is what keeps holders apart.
constexpr int64_t kLeaseMs = 3000;
constexpr double kDrift = 0.05;
constexpr int64_t kMarginMs = 20;
constexpr int64_t kGraceMs = 4000;

// ---------------------------------------------------------------------------------------
// The world: real time, the event queue, process clocks.

class World;

class SimClock final : public Clock {
 public:
  SimClock(const World* w, int64_t offset, double rate) : w_(w), offset_(offset), rate_(rate) {}
  int64_t MonotonicNanos() const override;
  int64_t WallMillis() const override { return MonotonicNanos() / kMs; }
  // The real time at which this clock reads `local` (>= now).
  int64_t RealAt(int64_t local) const;
  double rate() const { return rate_; }

 private:
  const World* w_;
  int64_t offset_;
  double rate_;
};

class World {
 public:
  explicit World(uint64_t seed) : rng(seed) {}
  int64_t now = 0;
  std::mt19937_64 rng;
  uint64_t events = 0;

  void At(int64_t t, std::function<void()> fn) {
    if (t < now) t = now;
    q_.push(Ev{t, seq_++, std::move(fn)});
  }
  bool RunOne() {
    if (q_.empty()) return false;
    Ev e = q_.top();
    q_.pop();
    now = e.t;
    ++events;
    e.fn();
    return true;
  }
  int64_t Uniform(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  }
  double Real(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); }
  bool Chance(double p) { return p > 0 && Real(0, 1) < p; }

 private:
  struct Ev {
    int64_t t;
    uint64_t seq;
    std::function<void()> fn;
    bool operator<(const Ev& o) const { return t != o.t ? t > o.t : seq > o.seq; }
  };
  std::priority_queue<Ev> q_;
  uint64_t seq_ = 0;
};

int64_t SimClock::MonotonicNanos() const {
  return offset_ + static_cast<int64_t>(static_cast<double>(w_->now) * rate_);
}

int64_t SimClock::RealAt(int64_t local) const {
  const double real = static_cast<double>(local - offset_) / rate_;
  int64_t t = static_cast<int64_t>(real) + 1;
  while (offset_ + static_cast<int64_t>(static_cast<double>(t) * rate_) < local) ++t;
  return t < w_->now ? w_->now : t;
}

// ---------------------------------------------------------------------------------------
// The simulation of one seed.

struct Violation {
  std::string what;
  int64_t at = 0;
  uint64_t event = 0;
};

class Sim {
 public:
  Sim(uint64_t seed, int num_jns, bool beyond_drift, bool trace)
      : w_(seed), n_jn_(num_jns), trace_(trace) {
    const double spread = beyond_drift ? 0.15 : 0.024;  // within: max/min - 1 < 5%
    // Nodes: 0..n_jn-1 journalnodes, then hosts 0 and 1 (namenode + failoverd each).
    for (int i = 0; i < n_jn_ + 2; ++i) {
      double rate = 1.0 + w_.Real(-spread, spread);
      if (beyond_drift && i == n_jn_) rate = 1.0 - spread;  // one slow holder host
      if (beyond_drift && i < n_jn_) rate = 1.0 + spread;   // fast grantors
      clocks_.push_back(std::make_unique<SimClock>(&w_, w_.Uniform(0, 1000) * kSec, rate));
    }
    for (int i = 0; i < n_jn_; ++i) jns_.push_back(Jn{});
    for (int i = 0; i < n_jn_; ++i) StartJn(i);
    for (int h = 0; h < 2; ++h) {
      nns_.push_back(std::make_unique<Nn>());
      fos_.push_back(std::make_unique<Fo>());
      StartNn(h);
      // The journalnodes grant nothing during their start-up grace: start contending
      // about when it ends.
      w_.At(w_.Uniform(kGraceMs - 500, kGraceMs + 500) * kMs, [this, h] { StartFo(h); });
    }
    const int nodes = n_jn_ + 2;
    blocked_.assign(nodes, std::vector<bool>(nodes, false));
    fifo_.assign(nodes, std::vector<int64_t>(nodes, 0));
  }

  // Runs the fault phase (`fault_events` events), heals everything, then checks liveness.
  void Run(uint64_t fault_events, int64_t liveness_s) {
    ScheduleFault();
    while (violations_.empty() && w_.events < fault_events && w_.RunOne()) Check();
    if (!violations_.empty()) return;
    faults_on_ = false;
    HealAll();
    const int64_t healed = w_.now;
    Trace("all faults healed; liveness bound " + std::to_string(liveness_s) + " s");
    bool live = false;
    while (violations_.empty() && w_.now < healed + liveness_s * kSec && w_.RunOne()) {
      Check();
      if (ServingCount() > 0) {
        live = true;
        break;
      }
    }
    if (violations_.empty() && !live) {
      Violate("liveness: no namenode active " + std::to_string(liveness_s) +
              " s after the last fault");
    }
  }

  const std::vector<Violation>& violations() const { return violations_; }
  uint64_t events() const { return w_.events; }
  int64_t sim_nanos() const { return w_.now; }

 private:
  // --- processes ------------------------------------------------------------------------
  struct Jn {
    bool up = false;
    uint64_t incarnation = 0;
    std::unique_ptr<jn::LeaseTable> table;
  };
  struct Nn {
    bool up = false;
    bool hung = false;
    bool sick = false;  // journal failure: fenced, monitorHealth says unhealthy
    uint64_t incarnation = 0;
    std::unique_ptr<HaState> ha;
    bool activating = false;
    std::vector<std::function<void()>> waiting;  // transitions queued behind activation
  };
  struct CedeFrom {
    int host;
    uint64_t inc;
    uint64_t call;
  };
  struct Fo {
    bool up = false;
    uint64_t incarnation = 0;
    std::unique_ptr<fo::ControllerCore> core;
    std::unique_ptr<jn::LeaseClientCore> lease;
    uint64_t core_round = 0;   // the controller's round number of the lease round out
    uint64_t lease_round = 0;  // the lease core's
    uint64_t timer_gen = 0;
    uint64_t call_seq = 0;
    // Health monitor model.
    fo::HealthSnapshot health;
    int64_t healthy_at = 0;  // host time the newest probe answered HEALTHY was sent
    uint64_t ha_gen = 0;
    bool probe_out = false;
    uint64_t probe_seq = 0;
    // Cedes asked of this failoverd by its peer, by request number.
    std::map<uint64_t, CedeFrom> pending_cedes;
    // Graceful failover: the request waiting for the peer's cede.
    uint64_t cede_call = 0;
  };

  SimClock* HostClock(int h) { return clocks_[n_jn_ + h].get(); }
  int HostNode(int h) const { return n_jn_ + h; }
  int64_t HostNow(int h) { return HostClock(h)->MonotonicNanos(); }
  std::string NnName(int h) const { return "nn" + std::to_string(h + 1); }
  std::string FoName(int h) const { return "fo" + std::to_string(h + 1); }
  std::string JnName(int j) const { return "jn" + std::to_string(j + 1); }
  std::string Holder(int h) const { return NnName(h) + "@failoverd"; }

  void Trace(const std::string& s) {
    if (!trace_) return;
    std::printf("%10.3f s  #%-7" PRIu64 " %s\n", static_cast<double>(w_.now) / kSec, w_.events,
                s.c_str());
  }

  void StartJn(int j) {
    Jn& jn = jns_[j];
    jn.up = true;
    ++jn.incarnation;
    jn::LeaseOptions o;
    o.max_duration_ms = kLeaseMs;
    o.grace_ms = kGraceMs;
    o.clock = clocks_[j].get();
    o.node_name = JnName(j);
    jn.table = std::make_unique<jn::LeaseTable>(o);
    Trace(JnName(j) + " starts (grace " + std::to_string(kGraceMs) + " ms, clock rate " +
          std::to_string(clocks_[j]->rate()) + ")");
  }

  void StartNn(int h) {
    Nn& nn = *nns_[h];
    nn.up = true;
    nn.hung = false;
    nn.sick = false;
    nn.activating = false;
    nn.waiting.clear();
    ++nn.incarnation;
    nn.ha = std::make_unique<HaState>(NnName(h), HostClock(h));
    nn.ha->SetRole(HaRole::kStandby);
    Trace(NnName(h) + " starts as standby");
  }

  void StartFo(int h) {
    Fo& f = *fos_[h];
    f = Fo{};
    f.up = true;
    f.incarnation = ++fo_incarnations_[h];
    fo::ControllerCoreOptions co;
    co.namenode_id = NnName(h);
    co.jitter_seed = static_cast<uint32_t>(w_.rng());
    // As failoverd sets it (journal stall bound + a health interval + an acquire
    // interval): the hysteresis must not cost safety or liveness.
    co.unhealthy_backoff_ms = 1200;
    // As failoverd sets it (a probe interval + a renew interval): renewals vouch only for
    // what the probes confirmed.
    co.health_fresh_ms = 200 + co.renew_interval_ms;
    f.core = std::make_unique<fo::ControllerCore>(co);
    jn::LeaseClientOptions lo;
    lo.journal_id = kJournal;
    lo.holder_id = Holder(h);
    lo.duration_ms = kLeaseMs;
    lo.drift = kDrift;
    lo.margin_ms = kMarginMs;
    lo.round_timeout_ms = 500;
    f.lease = std::make_unique<jn::LeaseClientCore>(lo, n_jn_);
    Trace(FoName(h) + " starts (host clock rate " + std::to_string(HostClock(h)->rate()) + ")");
    Probe(h);
  }

  // --- network --------------------------------------------------------------------------
  double loss_ = 0;
  double dup_ = 0;
  int64_t max_delay_ms_ = 5;
  std::vector<std::vector<bool>> blocked_;  // [from][to]
  std::vector<std::vector<int64_t>> fifo_;  // last delivery time per connection

  // Sends from node `from` to node `to`; `fifo`: keep the order of this connection.
  void Send(int from, int to, bool fifo, std::function<void()> deliver) {
    if (blocked_[from][to] || w_.Chance(loss_)) return;
    int64_t delay = w_.Uniform(100'000, max_delay_ms_ * kMs);
    if (w_.Chance(0.02)) delay += w_.Uniform(0, 400) * kMs;  // a slow one
    int64_t t = w_.now + delay;
    if (fifo) {
      t = std::max(t, fifo_[from][to]);
      fifo_[from][to] = t;
    }
    w_.At(t, deliver);
    if (w_.Chance(dup_))
      w_.At(fifo ? t : w_.now + w_.Uniform(100'000, max_delay_ms_ * kMs), deliver);
  }

  // --- journalnodes ---------------------------------------------------------------------
  void SendAcquire(int h, int j, uint64_t inc, uint64_t round) {
    Send(HostNode(h), j, true, [this, h, j, inc, round] {
      if (!jns_[j].up) return;
      auto r = jns_[j].table->Acquire(kJournal, Holder(h), kLeaseMs);
      const jn::GrantReply reply =
          r.ok() ? jn::GrantReply(Status::OK(), *r) : jn::GrantReply(r.status());
      Trace(JnName(j) + " acquire from " + Holder(h) + ": " +
            (reply.granted ? "granted" : "refused (" + reply.holder + ")"));
      Send(j, HostNode(h), false, [this, h, inc, round, j, reply] {
        if (!FoAlive(h, inc)) return;
        Fo& f = *fos_[h];
        if (f.lease->OnReply(round, j, reply) && round == f.lease_round) FinishRound(h);
      });
    });
  }

  void SendRelease(int h, int j) {
    Send(HostNode(h), j, true, [this, h, j] {
      if (!jns_[j].up) return;
      Status s = jns_[j].table->Release(kJournal, Holder(h));
      Trace(JnName(j) + " release by " + Holder(h) + ": " + (s.ok() ? "ok" : s.ToString()));
    });
  }

  // --- failoverd ------------------------------------------------------------------------
  bool FoAlive(int h, uint64_t inc) const { return fos_[h]->up && fos_[h]->incarnation == inc; }

  void Apply(int h, const fo::ControllerCore::Actions& acts) {
    for (const auto& a : acts) ApplyOne(h, a);
  }

  void ApplyOne(int h, const fo::ControllerAction& a) {
    Fo& f = *fos_[h];
    const uint64_t inc = f.incarnation;
    using A = fo::ControllerAction;
    if (a.kind != A::kSetTimer) {
      Trace(FoName(h) + " -> " + fo::ControllerActionName(a.kind) +
            (a.deadline ? " deadline+" + std::to_string((a.deadline - HostNow(h)) / kMs) + "ms"
                        : "") +
            (a.reason.empty() ? "" : " (" + a.reason + ")") +
            (a.status.ok() ? "" : " " + a.status.ToString()));
    }
    switch (a.kind) {
      case A::kStartLeaseRound: {
        f.core_round = a.round;
        f.lease_round = f.lease->StartRound(HostNow(h));
        const uint64_t round = f.lease_round;
        for (int j = 0; j < n_jn_; ++j) SendAcquire(h, j, inc, round);
        const int64_t timeout = HostNow(h) + 500 * kMs;
        w_.At(HostClock(h)->RealAt(timeout), [this, h, inc, round] {
          if (FoAlive(h, inc) && fos_[h]->lease_round == round && fos_[h]->lease->round_open()) {
            FinishRound(h);
          }
        });
        break;
      }
      case A::kReleaseLease: {
        auto all = f.lease->Release();
        for (int j : all) SendRelease(h, j);
        break;
      }
      case A::kTransitionToActive: {
        const int64_t d = a.deadline;
        NnCall(
            h, 30 * kSec,
            [this, h, d](std::function<void(Status)> reply) {
              NnTransitionToActive(h, d, std::move(reply));
            },
            [this, h, inc](Status s) {
              if (FoAlive(h, inc)) Apply(h, fos_[h]->core->OnTransitionToActiveDone(HostNow(h), s));
            });
        break;
      }
      case A::kRenewLease: {
        const int64_t d = a.deadline;
        const bool during = a.during_activation;
        NnCall(
            h, 1 * kSec,
            [this, h, d](std::function<void(Status)> reply) { reply(nns_[h]->ha->RenewLease(d)); },
            [this, h, inc, during](Status s) {
              if (FoAlive(h, inc)) Apply(h, fos_[h]->core->OnRenewLeaseDone(HostNow(h), during, s));
            });
        break;
      }
      case A::kTransitionToStandby:
        NnCall(
            h, 1 * kSec,
            [this, h](std::function<void(Status)> reply) {
              NnTransitionToStandby(h, std::move(reply));
            },
            [this, h, inc](Status s) {
              if (!FoAlive(h, inc)) return;
              const bool gone = !s.ok() && !nns_[h]->up;
              Apply(h, fos_[h]->core->OnStandbyDone(HostNow(h), s, gone));
            });
        break;
      case A::kForgetHaState:
        f.health.ha_state.clear();
        ++f.ha_gen;
        Probe(h);
        break;
      case A::kAskPeersToCede: {
        const int peer = 1 - h;
        const uint64_t call = ++f.call_seq;
        f.cede_call = call;
        Send(HostNode(h), HostNode(peer), true, [this, h, peer, inc, call] {
          if (!fos_[peer]->up) return;  // times out at the asker
          Fo& p = *fos_[peer];
          p.pending_cedes[++p.call_seq] = {h, inc, call};
          Apply(peer, p.core->Cede(HostNow(peer), 5000, p.call_seq));
        });
        w_.At(HostClock(h)->RealAt(HostNow(h) + 3 * kSec), [this, h, inc, call] {
          if (FoAlive(h, inc) && fos_[h]->cede_call == call) {
            fos_[h]->cede_call = 0;
            Apply(h, fos_[h]->core->OnPeersCeded(
                         HostNow(h), Status::NetworkError("failoverd of peer: timed out")));
          }
        });
        break;
      }
      case A::kCedeDone: {
        auto it = f.pending_cedes.find(a.request);
        if (it == f.pending_cedes.end()) break;
        const CedeFrom from = it->second;
        f.pending_cedes.erase(it);
        const Status s = a.status;
        Send(HostNode(h), HostNode(from.host), false, [this, from, s] {
          if (!FoAlive(from.host, from.inc) || fos_[from.host]->cede_call != from.call) return;
          fos_[from.host]->cede_call = 0;
          Apply(from.host, fos_[from.host]->core->OnPeersCeded(HostNow(from.host), s));
        });
        break;
      }
      case A::kFailoverDone:
        Trace(FoName(h) + ": graceful failover " + (a.status.ok() ? "done" : a.status.ToString()));
        break;
      case A::kSetTimer: {
        const uint64_t gen = ++f.timer_gen;
        w_.At(HostClock(h)->RealAt(a.at), [this, h, inc, gen] {
          if (FoAlive(h, inc) && fos_[h]->timer_gen == gen)
            Apply(h, fos_[h]->core->OnTick(HostNow(h)));
        });
        break;
      }
    }
  }

  void FinishRound(int h) {
    Fo& f = *fos_[h];
    auto end = f.lease->FinishRound(HostNow(h));
    for (int j : end.release) SendRelease(h, j);
    const bool granted = end.outcome == jn::LeaseRound::Outcome::kGranted;
    Trace(FoName(h) + " lease round " + (granted ? "granted" : "failed") + " (" +
          std::to_string(end.granted) + "/" + std::to_string(n_jn_) + ")");
    Apply(h, f.core->OnLeaseRound(HostNow(h), f.core_round, granted, end.deadline_nanos,
                                  granted ? "" : "not granted by a majority"));
  }

  // A call from failoverd h to its namenode (same host: no network faults) with a timeout
  // on the failoverd's side; `serve` runs at the namenode and answers through `reply`.
  void NnCall(int h, int64_t timeout, std::function<void(std::function<void(Status)>)> serve,
              std::function<void(Status)> done) {
    auto answered = std::make_shared<bool>(false);
    auto finish = [answered, done](Status s) {
      if (*answered) return;
      *answered = true;
      done(s);
    };
    const uint64_t nn_inc = nns_[h]->incarnation;
    w_.At(w_.now + w_.Uniform(50'000, 500'000), [this, h, nn_inc, serve, finish] {
      Nn& nn = *nns_[h];
      if (!nn.up) {
        finish(Status::NetworkError(NnName(h) + ": connection refused"));
        return;
      }
      if (nn.hung || nn.incarnation != nn_inc) return;  // the call times out
      serve([this, h, nn_inc, finish](Status s) {
        w_.At(w_.now + w_.Uniform(50'000, 500'000), [this, h, nn_inc, finish, s] {
          if (nns_[h]->up && nns_[h]->incarnation == nn_inc) finish(s);
        });
      });
    });
    w_.At(HostClock(h)->RealAt(HostNow(h) + timeout),
          [h, finish, this] { finish(Status::NetworkError(NnName(h) + ": timed out")); });
  }

  // The health monitor: a probe every 200 ms; UNRESPONSIVE after 1 s without an answer.
  void Probe(int h) {
    Fo& f = *fos_[h];
    if (f.probe_out) return;
    f.probe_out = true;
    const uint64_t inc = f.incarnation;
    const uint64_t gen = f.ha_gen;
    const uint64_t probe = ++f.call_seq;
    f.probe_seq = probe;
    const uint64_t nn_inc = nns_[h]->incarnation;
    const int64_t sent = HostNow(h);
    auto report = [this, h, inc, gen, probe, sent](fo::HealthSnapshot snap) {
      if (!FoAlive(h, inc) || fos_[h]->probe_seq != probe) return;
      Fo& f = *fos_[h];
      f.probe_out = false;
      f.probe_seq = 0;
      if (gen != f.ha_gen) snap.ha_state.clear();  // a transition happened meanwhile
      if (snap.state == fo::HealthState::kHealthy) f.healthy_at = sent;
      snap.healthy_at = f.healthy_at;
      f.health = snap;
      Apply(h, f.core->OnHealth(HostNow(h), snap));
      w_.At(HostClock(h)->RealAt(HostNow(h) + 200 * kMs), [this, h, inc] {
        if (FoAlive(h, inc)) Probe(h);
      });
    };
    w_.At(w_.now + w_.Uniform(50'000, 500'000), [this, h, nn_inc, report] {
      Nn& nn = *nns_[h];
      fo::HealthSnapshot snap;
      if (!nn.up) {
        snap.state = fo::HealthState::kUnresponsive;
        snap.process_gone = true;
        snap.reason = "connection refused";
        report(snap);
        return;
      }
      if (nn.hung) return;
      snap.state = nn.sick ? fo::HealthState::kUnhealthy : fo::HealthState::kHealthy;
      snap.reason = nn.sick ? "journal failed" : "";
      snap.ha_state = HaRoleName(nn.ha->role());
      (void)nn_inc;
      w_.At(w_.now + w_.Uniform(50'000, 500'000), [report, snap] { report(snap); });
    });
    w_.At(HostClock(h)->RealAt(HostNow(h) + 1000 * kMs), [this, h, report] {
      fo::HealthSnapshot snap;
      snap.state = fo::HealthState::kUnresponsive;
      snap.reason = NnName(h) + ": monitorHealth timed out";
      report(snap);
    });
  }

  // --- namenode -------------------------------------------------------------------------
  void NnTransitionToActive(int h, int64_t deadline, std::function<void(Status)> reply) {
    Nn& nn = *nns_[h];
    if (nn.activating) {  // behind the transition lock
      nn.waiting.push_back(
          [this, h, deadline, reply] { NnTransitionToActive(h, deadline, reply); });
      return;
    }
    if (nn.ha->role() == HaRole::kActive && nn.ha->fence_status().ok()) {
      reply(nn.ha->RenewLease(deadline));
      return;
    }
    if (nn.ha->role() == HaRole::kActive) nn.ha->SetRole(HaRole::kStandby);
    if (nn.sick) {
      reply(Status::IllegalState(NnName(h) + ": journal failed"));
      return;
    }
    nn.ha->BeginActivation(deadline);
    nn.activating = true;
    // New epoch, recovery, catch-up: usually quick, sometimes longer than a lease.
    int64_t ms = w_.Uniform(10, 300);
    if (w_.Chance(0.15)) ms = w_.Uniform(300, 2500);
    if (w_.Chance(0.05)) ms = w_.Uniform(2500, 6000);
    const uint64_t inc = nn.incarnation;
    Trace(NnName(h) + " begins activation (" + std::to_string(ms) + " ms)");
    WhenAwake(h, inc, w_.now + ms * kMs, [this, h, reply] {
      Nn& nn = *nns_[h];
      nn.activating = false;
      Status s;
      if (nn.sick) {
        nn.ha->CancelActivation();
        s = Status::IllegalState(NnName(h) + ": journal failed while becoming active");
      } else {
        const int64_t d = nn.ha->CompleteActivation();
        Trace(NnName(h) + " active (deadline " +
              (d == 0 ? std::string("none") : std::to_string((d - HostNow(h)) / kMs) + " ms") +
              ")");
      }
      reply(s);
      auto waiting = std::move(nn.waiting);
      nn.waiting.clear();
      for (auto& fn : waiting) fn();
    });
  }

  void NnTransitionToStandby(int h, std::function<void(Status)> reply) {
    Nn& nn = *nns_[h];
    if (nn.activating) {
      nn.waiting.push_back([this, h, reply] { NnTransitionToStandby(h, reply); });
      return;
    }
    nn.ha->SetRole(HaRole::kStandby);
    if (!nn.sick) nn.ha->ClearFence();
    reply(Status::OK());
  }

  // Runs `fn` at real time `t` in namenode h's incarnation `inc`, later if it is hung then.
  void WhenAwake(int h, uint64_t inc, int64_t t, std::function<void()> fn) {
    w_.At(t, [this, h, inc, fn] {
      Nn& nn = *nns_[h];
      if (!nn.up || nn.incarnation != inc) return;
      if (nn.hung) {
        WhenAwake(h, inc, w_.now + 100 * kMs, fn);
        return;
      }
      fn();
    });
  }

  // --- faults ---------------------------------------------------------------------------
  bool faults_on_ = true;

  void ScheduleFault() {
    w_.At(w_.now + w_.Uniform(200, 3000) * kMs, [this] {
      if (!faults_on_) return;
      Fault();
      ScheduleFault();
    });
  }

  void Fault() {
    const int nodes = n_jn_ + 2;
    switch (w_.Uniform(0, 13)) {
      case 0: {  // one-way link cut
        const int a = static_cast<int>(w_.Uniform(0, nodes - 1));
        const int b = static_cast<int>(w_.Uniform(0, nodes - 1));
        if (a == b) break;
        blocked_[a][b] = true;
        Trace("fault: link " + NodeName(a) + " -> " + NodeName(b) + " cut");
        break;
      }
      case 1: {  // isolate a node both ways
        const int a = static_cast<int>(w_.Uniform(0, nodes - 1));
        for (int b = 0; b < nodes; ++b) blocked_[a][b] = blocked_[b][a] = a != b;
        Trace("fault: " + NodeName(a) + " isolated");
        break;
      }
      case 2:
        for (auto& row : blocked_) row.assign(nodes, false);
        Trace("fault: partitions healed");
        break;
      case 3:
        loss_ = w_.Chance(0.5) ? 0 : w_.Real(0, 0.3);
        dup_ = w_.Chance(0.5) ? 0 : w_.Real(0, 0.2);
        max_delay_ms_ = w_.Chance(0.5) ? 5 : w_.Uniform(5, 300);
        Trace("fault: network loss " + std::to_string(loss_) + " dup " + std::to_string(dup_) +
              " delay<=" + std::to_string(max_delay_ms_) + "ms");
        break;
      case 4: {  // failoverd crash, restart later
        const int h = static_cast<int>(w_.Uniform(0, 1));
        if (!fos_[h]->up) break;
        fos_[h]->up = false;
        Trace("fault: " + FoName(h) + " crashes");
        w_.At(w_.now + w_.Uniform(100, 8000) * kMs, [this, h] {
          if (!fos_[h]->up) StartFo(h);
        });
        break;
      }
      case 5: {  // journalnode crash, restart later
        const int j = static_cast<int>(w_.Uniform(0, n_jn_ - 1));
        if (!jns_[j].up) break;
        jns_[j].up = false;
        jns_[j].table.reset();
        Trace("fault: " + JnName(j) + " crashes");
        w_.At(w_.now + w_.Uniform(100, 6000) * kMs, [this, j] {
          if (!jns_[j].up) StartJn(j);
        });
        break;
      }
      case 6: {  // namenode hangs (a GC pause, SIGSTOP), wakes up later
        const int h = static_cast<int>(w_.Uniform(0, 1));
        if (!nns_[h]->up || nns_[h]->hung) break;
        nns_[h]->hung = true;
        const uint64_t inc = nns_[h]->incarnation;
        Trace("fault: " + NnName(h) + " hangs");
        w_.At(w_.now + w_.Uniform(100, 8000) * kMs, [this, h, inc] {
          if (nns_[h]->incarnation == inc && nns_[h]->hung) {
            nns_[h]->hung = false;
            Trace(NnName(h) + " wakes up");
          }
        });
        break;
      }
      case 7: {  // namenode crash, restart later
        const int h = static_cast<int>(w_.Uniform(0, 1));
        if (!nns_[h]->up) break;
        nns_[h]->up = false;
        ++nns_[h]->incarnation;
        Trace("fault: " + NnName(h) + " crashes");
        w_.At(w_.now + w_.Uniform(100, 8000) * kMs, [this, h] {
          if (!nns_[h]->up) StartNn(h);
        });
        break;
      }
      case 8: {  // namenode's journal fails: fenced and unhealthy for a while
        const int h = static_cast<int>(w_.Uniform(0, 1));
        if (!nns_[h]->up || nns_[h]->sick) break;
        nns_[h]->sick = true;
        nns_[h]->ha->Fence(Status::IOError("journal failed"));
        const uint64_t inc = nns_[h]->incarnation;
        Trace("fault: " + NnName(h) + " journal fails (fenced)");
        w_.At(w_.now + w_.Uniform(100, 5000) * kMs, [this, h, inc] {
          if (nns_[h]->incarnation == inc) nns_[h]->sick = false;
        });
        break;
      }
      case 9:
      case 10: {  // an admin's graceful failover to one side
        const int h = static_cast<int>(w_.Uniform(0, 1));
        if (!fos_[h]->up) break;
        Trace("admin: graceful failover to " + NnName(h));
        Apply(h, fos_[h]->core->GracefulFailover(HostNow(h), ++fos_[h]->call_seq));
        break;
      }
      default:
        break;  // quiet for a while
    }
  }

  std::string NodeName(int node) const {
    return node < n_jn_ ? JnName(node) : "host" + std::to_string(node - n_jn_ + 1);
  }

  void HealAll() {
    for (auto& row : blocked_) row.assign(row.size(), false);
    loss_ = 0;
    dup_ = 0;
    max_delay_ms_ = 5;
    for (int j = 0; j < n_jn_; ++j) {
      if (!jns_[j].up) StartJn(j);
    }
    for (int h = 0; h < 2; ++h) {
      if (!nns_[h]->up) {
        StartNn(h);
      } else {
        nns_[h]->hung = false;
        nns_[h]->sick = false;
      }
      if (!fos_[h]->up) StartFo(h);
    }
  }

  // --- invariants -----------------------------------------------------------------------
  int ServingCount() const {
    int n = 0;
    for (const auto& nn : nns_) {
      if (nn->up && nn->ha->CheckServing().ok()) ++n;
    }
    return n;
  }

  void Check() {
    if (ServingCount() > 1) {
      std::string d;
      for (int h = 0; h < 2; ++h) {
        const int64_t left = nns_[h]->ha->lease_deadline() == 0
                                 ? -1
                                 : (nns_[h]->ha->lease_deadline() - HostNow(h)) / kMs;
        d += " " + NnName(h) + "(lease " +
             (left < 0 ? std::string("none") : std::to_string(left) + " ms left") + ")";
      }
      Violate("two namenodes serve at once:" + d);
    }
    int held = 0;
    for (int h = 0; h < 2; ++h) {
      if (fos_[h]->up && fos_[h]->lease->IsHeld(HostNow(h))) ++held;
    }
    if (held > 1) Violate("both failoverds hold an unexpired lease at once");
  }

  void Violate(const std::string& what) {
    Trace("VIOLATION: " + what);
    violations_.push_back(Violation{what, w_.now, w_.events});
  }

  World w_;
  const int n_jn_;
  const bool trace_;
  std::vector<std::unique_ptr<SimClock>> clocks_;
  std::vector<Jn> jns_;
  std::vector<std::unique_ptr<Nn>> nns_;
  std::vector<std::unique_ptr<Fo>> fos_;
  uint64_t fo_incarnations_[2] = {0, 0};
  std::vector<Violation> violations_;
};

struct RunResult {
  uint64_t events = 0;
  int64_t sim_nanos = 0;
  std::vector<Violation> violations;
};

RunResult RunSeed(uint64_t seed, bool trace) {
#ifdef QJ_SIM_PLANTS
  ::qj::sim_plant = FLAGS_plant;
#endif
  Sim sim(seed, FLAGS_journalnodes, FLAGS_beyond_drift, trace);
  sim.Run(static_cast<uint64_t>(FLAGS_events), FLAGS_liveness_s);
  return RunResult{sim.events(), sim.sim_nanos(), sim.violations()};
}

std::string ReplayCommand(const char* argv0, uint64_t seed, int plant) {
  std::string cmd = std::string(argv0) + " --seed=" + std::to_string(seed) +
                    " --events=" + std::to_string(FLAGS_events) +
                    " --journalnodes=" + std::to_string(FLAGS_journalnodes) + " --trace";
  if (FLAGS_beyond_drift) cmd += " --beyond_drift";
  if (plant != 0) cmd += " --plant=" + std::to_string(plant);
  return cmd;
}

int PlantTable(const char* argv0) {
#ifndef QJ_SIM_PLANTS
  (void)argv0;
  std::fprintf(stderr, "--plant_table needs the planted build (lease_sim_planted)\n");
  return 2;
#else
  struct Plant {
    int id;
    const char* what;
  };
  const Plant plants[] = {{kLeaseNoDrift, "lease deadline computed without the drift term"},
                          {kNoPendingLease, "no pending lease deadline during transitionToActive"}};
  bool all = true;
  std::printf("%-4s %-55s %-8s %-8s %s\n", "plant", "bug", "seed", "events", "violation");
  for (const Plant& p : plants) {
    FLAGS_plant = p.id;
    bool caught = false;
    uint64_t total = 0;
    for (int64_t seed = FLAGS_first_seed; seed < FLAGS_first_seed + FLAGS_max_seeds; ++seed) {
      RunResult r = RunSeed(static_cast<uint64_t>(seed), false);
      total += r.events;
      if (!r.violations.empty()) {
        // Only a violation the same seed does not show without the plant counts.
        FLAGS_plant = 0;
        RunResult clean = RunSeed(static_cast<uint64_t>(seed), false);
        FLAGS_plant = p.id;
        if (!clean.violations.empty()) {
          std::printf("seed %" PRId64 " fails without a plant too: %s\n", seed,
                      clean.violations[0].what.c_str());
          all = false;
          continue;
        }
        std::printf("%-4d %-55s %-8" PRId64 " %-8" PRIu64 " %s\n      replay: %s\n", p.id, p.what,
                    seed, r.violations[0].event, r.violations[0].what.c_str(),
                    ReplayCommand(argv0, static_cast<uint64_t>(seed), p.id).c_str());
        caught = true;
        break;
      }
    }
    if (!caught) {
      std::printf("%-4d %-55s NOT CAUGHT in %d seeds (%" PRIu64 " events)\n", p.id, p.what,
                  FLAGS_max_seeds, total);
      all = false;
    }
  }
  FLAGS_plant = 0;
  return all ? 0 : 1;
#endif
}

}  // namespace
}  // namespace qj::sim

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "lease_sim --seeds=N [--first_seed=S] [--events=E] | --seed=S --trace\n"
      "Seeded simulation of quorum leases and failover (tests/sim/lease_sim.cc).");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  FLAGS_logtostderr = true;
  FLAGS_minloglevel = 3;  // the real components log every grant; the trace says more
  google::InitGoogleLogging(argv[0]);
  using namespace qj::sim;
  if (FLAGS_journalnodes != 3 && FLAGS_journalnodes != 5) {
    std::fprintf(stderr, "--journalnodes must be 3 or 5\n");
    return 2;
  }
#ifndef QJ_SIM_PLANTS
  if (FLAGS_plant != 0) {
    std::fprintf(stderr, "--plant needs the planted build (lease_sim_planted)\n");
    return 2;
  }
#endif
  if (FLAGS_plant_table) return PlantTable(argv[0]);
  const auto start = std::chrono::steady_clock::now();
  int64_t first = FLAGS_first_seed;
  int64_t count = FLAGS_seeds;
  if (FLAGS_seed >= 0) {
    first = FLAGS_seed;
    count = 1;
  }
  uint64_t events = 0;
  double sim_s = 0;
  int bad_seeds = 0;
  for (int64_t seed = first; seed < first + count; ++seed) {
    RunResult r = RunSeed(static_cast<uint64_t>(seed), FLAGS_trace);
    events += r.events;
    sim_s += static_cast<double>(r.sim_nanos) / 1e9;
    if (!r.violations.empty()) {
      ++bad_seeds;
      for (const auto& v : r.violations) {
        std::printf("seed %" PRId64 ": VIOLATION at %.3f s (event %" PRIu64 "): %s\n  replay: %s\n",
                    seed, static_cast<double>(v.at) / 1e9, v.event, v.what.c_str(),
                    ReplayCommand(argv[0], static_cast<uint64_t>(seed), FLAGS_plant).c_str());
      }
    }
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("lease_sim: seeds %" PRId64 " (first %" PRId64 "), events %" PRIu64
              ", simulated %.0f s, %.0f events/s, %.1f s, violations %d%s\n",
              count, first, events, sim_s, secs > 0 ? static_cast<double>(events) / secs : 0.0,
              secs, bad_seeds, FLAGS_beyond_drift ? " (beyond the drift bound)" : "");
  if (FLAGS_expect_violation) return bad_seeds > 0 ? 0 : 1;
  return bad_seeds == 0 ? 0 : 1;
}
