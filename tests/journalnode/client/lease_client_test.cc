// LeaseClient with fake clocks and simulated journalnodes: grant, deny, renew, expiry,
// release, restart grace, majority counting, and the no-overlap property under clock
// rates that differ by up to the drift bound (randomized).
//
// The simulated journalnode follows the grant rule of DESIGN §6 on its own FakeClock; a
// World advances true time and moves every clock at its own rate. Message delivery is
// inline: a request travels `delay` of true time, the journalnode decides, the reply
// travels back. Replies can be lost after the grant happened.
#include "journalnode/client/lease_client.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "tests/support/fake_clock.h"

namespace qj::jn {
namespace {

constexpr int64_t kMs = kNanosPerMilli;

// True time and every clock in the simulation.
class World {
 public:
  FakeClock* NewClock(double rate) {
    clocks_.push_back(std::make_unique<FakeClock>(1'000'000'000, rate));
    rates_.push_back(rate);
    return clocks_.back().get();
  }
  void Advance(int64_t true_nanos) {
    for (auto& c : clocks_) c->Advance(true_nanos);
    now_ += true_nanos;
  }
  int64_t now() const { return now_; }
  // True time at which `clock` shows `reading` (clocks start at 1e9 at true time 0).
  int64_t TrueTimeOf(const FakeClock* clock, int64_t reading) const {
    for (size_t i = 0; i < clocks_.size(); ++i) {
      if (clocks_[i].get() == clock) {
        return static_cast<int64_t>(static_cast<double>(reading - 1'000'000'000) / rates_[i]);
      }
    }
    ADD_FAILURE() << "unknown clock";
    return 0;
  }

 private:
  std::vector<std::unique_ptr<FakeClock>> clocks_;
  std::vector<double> rates_;
  int64_t now_ = 0;
};

// The journalnode's lease table for one journal (the rule H1's daemon implements).
class SimJournalnode {
 public:
  SimJournalnode(const FakeClock* clock, int64_t max_duration_ms)
      : clock_(clock), max_duration_ms_(max_duration_ms) {}
  GrantReply Acquire(const std::string& holder, int64_t duration_ms) {
    GrantReply r;
    const int64_t now = clock_->MonotonicNanos();
    if (now < grace_until_) return r;  // restarted: grants nothing yet
    if (holder_.empty() || now >= expiry_ || holder_ == holder) {
      holder_ = holder;
      expiry_ = now + duration_ms * kMs;
      r.granted = true;
      r.holder = holder;
      r.remaining_ms = duration_ms;
    } else {
      r.holder = holder_;
      r.remaining_ms = (expiry_ - now) / kMs;
    }
    return r;
  }
  void Release(const std::string& holder) {
    if (holder_ == holder) holder_.clear();
  }
  void Restart() {
    holder_.clear();
    grace_until_ = clock_->MonotonicNanos() + max_duration_ms_ * kMs;
  }
  bool up = true;

 private:
  const FakeClock* clock_;
  int64_t max_duration_ms_;
  std::string holder_;
  int64_t expiry_ = 0;
  int64_t grace_until_ = 0;
};

// Delivers calls to one SimJournalnode inline, with random delays and losses.
class SimGrantor : public LeaseGrantor {
 public:
  SimGrantor(World* world, SimJournalnode* jn, std::mt19937* rng, std::string name)
      : world_(world), jn_(jn), rng_(rng), name_(std::move(name)) {}
  std::string name() const override { return name_; }
  void AcquireAsync(const std::string&, const std::string& holder, int64_t duration_ms,
                    std::function<void(GrantReply)> done) override {
    world_->Advance(Delay());
    if (!jn_->up || Lost()) {
      done(GrantReply(Status::NetworkError(name_ + " unreachable")));
      return;
    }
    GrantReply r = jn_->Acquire(holder, duration_ms);
    world_->Advance(Delay());
    if (Lost()) r = GrantReply(Status::NetworkError(name_ + ": reply lost"));
    done(r);
  }
  void ReleaseAsync(const std::string&, const std::string& holder,
                    std::function<void(Status)> done) override {
    world_->Advance(Delay());
    if (jn_->up && !Lost()) jn_->Release(holder);
    done(Status::OK());
  }
  int64_t max_delay_ms = 0;
  double loss = 0;

 private:
  int64_t Delay() {
    if (max_delay_ms == 0) return 0;
    return std::uniform_int_distribution<int64_t>(0, max_delay_ms * kMs)(*rng_);
  }
  bool Lost() { return loss > 0 && std::uniform_real_distribution<double>(0, 1)(*rng_) < loss; }
  World* world_;
  SimJournalnode* jn_;
  std::mt19937* rng_;
  std::string name_;
};

LeaseClientOptions Opts(const std::string& holder) {
  LeaseClientOptions o;
  o.journal_id = "ns1";
  o.holder_id = holder;
  o.duration_ms = 3000;
  o.drift = 0.05;
  o.margin_ms = 200;
  return o;
}

// A cluster of simulated journalnodes plus contenders.
struct Sim {
  explicit Sim(int num_jns, uint32_t seed = 1, std::vector<double> jn_rates = {}) : rng(seed) {
    for (int i = 0; i < num_jns; ++i) {
      double rate = i < static_cast<int>(jn_rates.size()) ? jn_rates[i] : 1.0;
      jns.push_back(std::make_unique<SimJournalnode>(world.NewClock(rate), 3000));
    }
  }
  std::unique_ptr<LeaseClient> NewClient(const LeaseClientOptions& o, double rate = 1.0,
                                         FakeClock** clock_out = nullptr) {
    FakeClock* clock = world.NewClock(rate);
    if (clock_out) *clock_out = clock;
    std::vector<std::unique_ptr<LeaseGrantor>> gs;
    for (size_t i = 0; i < jns.size(); ++i) {
      auto g = std::make_unique<SimGrantor>(&world, jns[i].get(), &rng, "jn" + std::to_string(i));
      grantors.push_back(g.get());
      gs.push_back(std::move(g));
    }
    return std::make_unique<LeaseClient>(o, std::move(gs), clock);
  }
  std::mt19937 rng;
  World world;
  std::vector<std::unique_ptr<SimJournalnode>> jns;
  std::vector<SimGrantor*> grantors;
};

TEST(LeaseDeadline, CountsFromT0WithDriftAndMargin) {
  LeaseClientOptions o = Opts("a");
  EXPECT_EQ(LeaseDeadlineNanos(0, o), (3000 * 95 / 100 - 200) * kMs);
  o.drift = 0;
  o.margin_ms = 0;
  EXPECT_EQ(LeaseDeadlineNanos(5, o), 5 + 3000 * kMs);
}

TEST(LeaseRound, MajorityCounting) {
  LeaseRound r(3);
  EXPECT_EQ(r.outcome(), LeaseRound::Outcome::kPending);
  r.Add(0, GrantReply(Status::OK(), {true, "a", 1}));
  EXPECT_EQ(r.outcome(), LeaseRound::Outcome::kPending);
  r.Add(0, GrantReply(Status::OK(), {true, "a", 1}));  // duplicate ignored
  EXPECT_EQ(r.granted(), 1);
  r.Add(1, GrantReply(Status::NetworkError("x")));
  EXPECT_EQ(r.outcome(), LeaseRound::Outcome::kPending);
  r.Add(2, GrantReply(Status::OK(), {true, "a", 1}));
  EXPECT_EQ(r.outcome(), LeaseRound::Outcome::kGranted);

  LeaseRound d(5);
  d.Add(0, GrantReply(Status::OK(), {false, "b", 100}));
  d.Add(1, GrantReply(Status::OK(), {false, "b", 100}));
  d.Add(2, GrantReply(Status::OK(), {true, "a", 100}));
  EXPECT_EQ(d.outcome(), LeaseRound::Outcome::kPending);
  d.Add(3, GrantReply(Status::NetworkError("x")));
  EXPECT_EQ(d.outcome(), LeaseRound::Outcome::kDenied);
  EXPECT_EQ(d.other_holder(), "b");
}

TEST(LeaseClient, GrantThenDenyOther) {
  Sim sim(3);
  FakeClock* ca;
  auto a = sim.NewClient(Opts("a"), 1.0, &ca);
  auto b = sim.NewClient(Opts("b"));
  const int64_t t0 = ca->MonotonicNanos();
  auto r = a->AcquireOrRenew();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, LeaseDeadlineNanos(t0, a->options()));
  EXPECT_TRUE(a->IsHeld());
  auto rb = b->AcquireOrRenew();
  ASSERT_FALSE(rb.ok());
  EXPECT_EQ(rb.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(b->last_other_holder(), "a");
  EXPECT_FALSE(b->IsHeld());
}

TEST(LeaseClient, RenewExtendsDeadline) {
  Sim sim(3);
  FakeClock* ca;
  auto a = sim.NewClient(Opts("a"), 1.0, &ca);
  ASSERT_TRUE(a->AcquireOrRenew().ok());
  const int64_t first = a->deadline_nanos();
  sim.world.Advance(500 * kMs);
  auto r = a->AcquireOrRenew();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, first + 500 * kMs);
}

TEST(LeaseClient, ExpiresAtDeadlineThenOtherWinsAfterGrantorsExpire) {
  Sim sim(3);
  auto a = sim.NewClient(Opts("a"));
  auto b = sim.NewClient(Opts("b"));
  ASSERT_TRUE(a->AcquireOrRenew().ok());
  sim.world.Advance(2649 * kMs);
  EXPECT_TRUE(a->IsHeld());
  sim.world.Advance(1 * kMs);
  EXPECT_FALSE(a->IsHeld());
  EXPECT_FALSE(b->AcquireOrRenew().ok());  // journalnodes still honour a's grant
  sim.world.Advance(350 * kMs);            // 3000 ms after a's grant
  EXPECT_TRUE(b->AcquireOrRenew().ok());
  EXPECT_FALSE(a->AcquireOrRenew().ok());
}

TEST(LeaseClient, ReleaseLetsOtherWinAtOnce) {
  Sim sim(3);
  auto a = sim.NewClient(Opts("a"));
  auto b = sim.NewClient(Opts("b"));
  ASSERT_TRUE(a->AcquireOrRenew().ok());
  a->Release();
  EXPECT_FALSE(a->IsHeld());
  EXPECT_EQ(a->deadline_nanos(), 0);
  EXPECT_TRUE(b->AcquireOrRenew().ok());
}

TEST(LeaseClient, MajorityNeeded) {
  Sim sim(3);
  auto a = sim.NewClient(Opts("a"));
  sim.jns[2]->up = false;
  ASSERT_TRUE(a->AcquireOrRenew().ok());  // 2 of 3
  a->Release();
  sim.jns[1]->up = false;
  auto r = a->AcquireOrRenew();  // 1 of 3
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(a->IsHeld());

  Sim five(5);
  auto c = five.NewClient(Opts("c"));
  five.jns[0]->up = false;
  five.jns[1]->up = false;
  EXPECT_TRUE(c->AcquireOrRenew().ok());  // 3 of 5
  c->Release();
  five.jns[2]->up = false;
  EXPECT_FALSE(c->AcquireOrRenew().ok());  // 2 of 5
}

TEST(LeaseClient, FailedRenewalKeepsOldDeadlineAndGrants) {
  Sim sim(3);
  auto a = sim.NewClient(Opts("a"));
  auto b = sim.NewClient(Opts("b"));
  ASSERT_TRUE(a->AcquireOrRenew().ok());
  const int64_t d = a->deadline_nanos();
  sim.jns[1]->up = false;
  sim.jns[2]->up = false;
  sim.world.Advance(500 * kMs);
  EXPECT_FALSE(a->AcquireOrRenew().ok());
  EXPECT_EQ(a->deadline_nanos(), d);
  EXPECT_TRUE(a->IsHeld());
  // The minority grant at jn0 was not released (it still backs a's deadline).
  sim.jns[1]->up = true;
  EXPECT_FALSE(b->AcquireOrRenew().ok());
}

TEST(LeaseClient, MinorityGrantsReleasedWhenNotHeld) {
  // a gets only jn0 (jn1 and jn2 down). It must hand jn0 back, or b (with jn0 back up
  // and jn1) would have to wait for expiry.
  Sim sim(3);
  auto a = sim.NewClient(Opts("a"));
  auto b = sim.NewClient(Opts("b"));
  sim.jns[1]->up = false;
  sim.jns[2]->up = false;
  EXPECT_FALSE(a->AcquireOrRenew().ok());
  sim.jns[1]->up = true;
  EXPECT_TRUE(b->AcquireOrRenew().ok());
}

TEST(LeaseClient, RestartedJournalnodeGrantsNothingDuringGrace) {
  Sim sim(3);
  auto a = sim.NewClient(Opts("a"));
  auto b = sim.NewClient(Opts("b"));
  ASSERT_TRUE(a->AcquireOrRenew().ok());
  // jn0 and jn1 restart and forget a's grant; b must not win from them.
  sim.jns[0]->Restart();
  sim.jns[1]->Restart();
  EXPECT_FALSE(b->AcquireOrRenew().ok());
  sim.world.Advance(2999 * kMs);
  EXPECT_FALSE(b->AcquireOrRenew().ok());
  sim.world.Advance(200 * kMs);
  EXPECT_TRUE(b->AcquireOrRenew().ok());
}

// A journalnode that takes every call and answers none until it is destroyed (a hung
// process): the round can only end by its timeout.
class HungGrantor : public LeaseGrantor {
 public:
  ~HungGrantor() override {
    for (auto& done : acquires_) done(GrantReply(Status::NetworkError("hung")));
    for (auto& done : releases_) done(Status::NetworkError("hung"));
  }
  std::string name() const override { return "hung"; }
  void AcquireAsync(const std::string&, const std::string&, int64_t,
                    std::function<void(GrantReply)> done) override {
    std::lock_guard<std::mutex> l(mu_);
    acquires_.push_back(std::move(done));
  }
  void ReleaseAsync(const std::string&, const std::string&,
                    std::function<void(Status)> done) override {
    std::lock_guard<std::mutex> l(mu_);
    releases_.push_back(std::move(done));
  }

 private:
  std::mutex mu_;
  std::vector<std::function<void(GrantReply)>> acquires_;
  std::vector<std::function<void(Status)>> releases_;
};

TEST(LeaseClient, RoundTimeoutRunsOnTheClientsClock) {
  // One journalnode grants, two hang: the round is undecided until its timeout. The
  // timeout is an hour, and only the client's clock passes it (a helper thread moves that
  // clock a minute every few real milliseconds): a round timed on any other clock would
  // outlast this test's CTest timeout.
  Sim sim(1);
  FakeClock clock;
  std::vector<std::unique_ptr<LeaseGrantor>> gs;
  gs.push_back(std::make_unique<SimGrantor>(&sim.world, sim.jns[0].get(), &sim.rng, "jn0"));
  gs.push_back(std::make_unique<HungGrantor>());
  gs.push_back(std::make_unique<HungGrantor>());
  LeaseClientOptions o = Opts("a");
  o.round_timeout_ms = 3600 * 1000;
  LeaseClient client(o, std::move(gs), &clock);
  std::atomic<bool> done{false};
  std::thread mover([&] {
    while (!done.load()) {
      clock.Advance(60'000 * kMs);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  auto r = client.AcquireOrRenew();
  done.store(true);
  mover.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kTimedOut) << r.status();
  EXPECT_FALSE(client.IsHeld());
  // Only jn0 granted.
  EXPECT_NE(r.status().message().find("1/3"), std::string::npos) << r.status();
}

// Randomized: two contenders race for the lease over 5 journalnodes with random delays,
// lost messages, restarts, releases and clock rates. Returns the number of true-time
// instants at which both contenders believed they held the lease (interval overlaps).
int RunRandomContest(uint32_t seed, double max_rate_spread, int64_t margin_ms, double drift,
                     int steps, int* handovers = nullptr) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> rate_dist(1.0, 1.0 + max_rate_spread);
  std::vector<double> jn_rates;
  for (int i = 0; i < 5; ++i) jn_rates.push_back(rate_dist(rng));
  Sim sim(5, seed, jn_rates);
  struct Contender {
    std::unique_ptr<LeaseClient> client;
    FakeClock* clock;
    std::vector<std::pair<int64_t, int64_t>> held;  // true-time intervals
  };
  std::vector<Contender> cs(2);
  for (int i = 0; i < 2; ++i) {
    LeaseClientOptions o = Opts(i == 0 ? "a" : "b");
    o.margin_ms = margin_ms;
    o.drift = drift;
    cs[i].client = sim.NewClient(o, rate_dist(rng), &cs[i].clock);
  }
  for (auto* g : sim.grantors) {
    g->max_delay_ms = 100;
    g->loss = 0.1;
  }
  auto truncate_at = [](Contender& c, int64_t t) {
    for (auto& iv : c.held) iv.second = std::min(iv.second, t);
  };
  for (int step = 0; step < steps; ++step) {
    const int who = std::uniform_int_distribution<int>(0, 1)(rng);
    Contender& c = cs[who];
    const int action = std::uniform_int_distribution<int>(0, 99)(rng);
    if (action < 70) {
      auto r = c.client->AcquireOrRenew();
      if (r.ok()) {
        c.held.emplace_back(sim.world.now(), sim.world.TrueTimeOf(c.clock, *r));
      }
    } else if (action < 80) {
      truncate_at(c, sim.world.now());
      c.client->Release();
    } else if (action < 83) {
      sim.jns[std::uniform_int_distribution<int>(0, 4)(rng)]->Restart();
    } else {
      sim.world.Advance(std::uniform_int_distribution<int64_t>(0, 1500)(rng) * kMs);
    }
  }
  if (handovers) *handovers += static_cast<int>(std::min(cs[0].held.size(), cs[1].held.size()));
  int overlaps = 0;
  for (const auto& x : cs[0].held) {
    for (const auto& y : cs[1].held) {
      if (std::max(x.first, y.first) < std::min(x.second, y.second)) ++overlaps;
    }
  }
  return overlaps;
}

TEST(LeaseClient, NoOverlap_RatesWithinDriftBound_Randomized) {
  int total = 0;
  int handovers = 0;
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    // Rates within [1, 1 + 0.99 x drift]: any two differ by less than drift.
    const int overlaps =
        RunRandomContest(seed, 0.05 * 0.99, /*margin_ms=*/0, 0.05, 3000, &handovers);
    EXPECT_EQ(overlaps, 0) << "seed " << seed;
    total += overlaps;
  }
  EXPECT_EQ(total, 0);
  EXPECT_GT(handovers, 100) << "the contest must actually move the lease back and forth";
}

TEST(LeaseClient, Overlap_FoundWhenRatesExceedDriftBound) {
  // The same contest with rates up to 2x apart (far past the 5% bound) and no margin
  // must be able to produce an overlap: shows the randomized test above can fail.
  int total = 0;
  for (uint32_t seed = 1; seed <= 40 && total == 0; ++seed) {
    total += RunRandomContest(seed, 1.0, /*margin_ms=*/0, 0.05, 3000);
  }
  EXPECT_GT(total, 0);
}

}  // namespace
}  // namespace qj::jn
