// Randomized faults: for many seeds, writers write while the injectable transport drops
// requests and responses and delays calls, and journalnodes are SIGKILLed and restarted at
// random points, or SIGSTOPped for a while; then a clean writer recovers. Checks: every
// acknowledged edit is present, in order, without gaps; all journalnodes agree up to what they
// serve as committed.
//
// QJ_SOAK_SEEDS=N runs N seeds on 3 nodes and N/3 on 5 nodes instead of the defaults.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <random>

#include "tests/journalnode/client/client_test_util.h"

namespace qj::testing {
namespace {

using jn::QuorumWriter;

int NumSeeds() {
  const char* env = getenv("QJ_SOAK_SEEDS");
  return env != nullptr && atoi(env) > 0 ? atoi(env) : 24;
}

struct SeedResult {
  int64_t acked = 0;
  int64_t log_length = 0;
  int rounds_ok = 0;
};

class FaultRun {
 public:
  FaultRun(uint64_t seed, int nodes)
      : seed_(seed), rng_(seed), cluster_(nodes), partition_(nodes) {}

  void Run(SeedResult* result) {
    ASSERT_OK(cluster_.Format());
    for (int round = 0; round < 5; ++round) {
      ASSERT_NO_FATAL_FAILURE(Round(round, result));
    }
    ASSERT_NO_FATAL_FAILURE(CheckAfterCleanRecovery(result));
  }

 private:
  int64_t Uniform(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

  // Kills (SIGKILL) or pauses (SIGSTOP) a random node, at most one at a time, or brings
  // back the one that is down.
  void MaybeCrashOrRestart() {
    if (down_ >= 0) {
      if (paused_) {
        cluster_.node(down_).Continue();
      } else {
        cluster_.node(down_).Restart();
      }
      down_ = -1;
    } else {
      down_ = static_cast<int>(Uniform(0, cluster_.size() - 1));
      paused_ = Chance(0.3);
      if (paused_) {
        cluster_.node(down_).Stop();
      } else {
        cluster_.node(down_).Kill();
      }
    }
  }

  jn::QuorumOptions FaultyOptions(const std::string& name) {
    jn::QuorumOptions o = cluster_.Options(name);
    o.rpc_timeout_ms = 500;
    o.write_timeout_ms = 3000;
    o.recovery_timeout_ms = 3000;
    jn::FaultOptions f;
    f.seed = seed_ * 1000 + static_cast<uint64_t>(Uniform(0, 999));
    f.drop_request = 0.01;
    f.drop_response = 0.01;
    f.delay = 0.2;
    f.max_delay_ms = 10;
    partition_.Install(&o, f);
    return o;
  }

  void Round(int round, SeedResult* result) {
    const std::string tag = "s" + std::to_string(seed_) + "r" + std::to_string(round);
    std::unique_ptr<QuorumWriter> w;
    // Half the time one node is cut off while the new writer recovers, so recovery must
    // work from the other majority (an edit acknowledged without a majority would be lost).
    if (Chance(0.5)) partition_.Block(static_cast<int>(Uniform(0, cluster_.size() - 1)));
    for (int attempt = 0; attempt < 5 && !w; ++attempt) {
      auto r = QuorumWriter::Open(FaultyOptions(tag), cluster_.ns());
      if (r.ok()) w = std::move(r).value();
    }
    partition_.Heal();
    if (!w) return;  // faults won this round; the next one tries again
    // Recovery must keep every acknowledged edit.
    ASSERT_GE(w->last_txid(), max_acked_) << tag;
    int64_t txid = w->last_txid() + 1;
    if (!w->StartSegment(txid).ok()) return;
    const int64_t n = Uniform(50, 400);
    int64_t next_wait = txid + Uniform(1, 40);
    std::map<int64_t, std::string> pending;
    for (int64_t i = 0; i < n; ++i, ++txid) {
      const std::string payload = TestPayload(tag, txid);
      if (!w->Append(txid, 1, payload).ok()) break;
      pending[txid] = payload;
      if (Chance(0.02)) MaybeCrashOrRestart();
      if (txid == next_wait || i == n - 1) {
        if (!w->WaitCommitted(txid, 3000).ok()) break;
        // Acknowledged: committed on a majority.
        const int64_t committed = w->committed_txid();
        for (auto it = pending.begin(); it != pending.end() && it->first <= committed;) {
          acked_[it->first] = it->second;
          max_acked_ = std::max(max_acked_, it->first);
          it = pending.erase(it);
        }
        next_wait = txid + Uniform(1, 40);
      }
    }
    if (w->health().ok()) result->rounds_ok++;
    if (Chance(0.5)) (void)w->FinalizeSegment();
    w->Close();  // otherwise the writer "crashes" with its segment open
  }

  void CheckAfterCleanRecovery(SeedResult* result) {
    if (down_ >= 0) MaybeCrashOrRestart();
    std::unique_ptr<QuorumWriter> w;
    Status last;
    // Recover from a random majority (no other faults).
    Partition cut(cluster_.size());
    cut.Block(static_cast<int>(Uniform(0, cluster_.size() - 1)));
    jn::QuorumOptions final_opts = cluster_.Options("final");
    cut.Install(&final_opts);
    for (int attempt = 0; attempt < 5 && !w; ++attempt) {
      auto r = QuorumWriter::Open(final_opts, cluster_.ns());
      if (r.ok()) {
        w = std::move(r).value();
      } else {
        last = r.status();
      }
    }
    ASSERT_TRUE(w != nullptr) << "seed " << seed_ << ": clean recovery failed: " << last;
    ASSERT_GE(w->last_txid(), max_acked_);
    w->Close();
    auto log = ReadAll(cluster_.Options("reader"));
    ASSERT_TRUE(log.ok()) << log.status();
    ASSERT_GE(static_cast<int64_t>(log->size()), max_acked_) << "seed " << seed_;
    for (size_t k = 0; k < log->size(); ++k) ASSERT_EQ((*log)[k].txid, static_cast<int64_t>(k + 1));
    for (const auto& [txid, payload] : acked_) {
      ASSERT_EQ((*log)[txid - 1].payload, payload) << "seed " << seed_ << " txid " << txid;
    }
    ASSERT_NO_FATAL_FAILURE(ExpectNodesAgree(cluster_, *log)) << "seed " << seed_;
    result->acked += static_cast<int64_t>(acked_.size());
    result->log_length = static_cast<int64_t>(log->size());
  }

  const uint64_t seed_;
  std::mt19937_64 rng_;
  JnCluster cluster_;
  Partition partition_;
  int down_ = -1;
  bool paused_ = false;
  std::map<int64_t, std::string> acked_;
  int64_t max_acked_ = 0;
};

// Runs `seeds` seeds on clusters of `nodes` journalnodes; prints what it checked.
void RunSeeds(int nodes, int seeds) {
  int64_t acked = 0;
  for (int s = 1; s <= seeds; ++s) {
    SeedResult r;
    const auto t0 = std::chrono::steady_clock::now();
    FaultRun run(static_cast<uint64_t>(s), nodes);
    ASSERT_NO_FATAL_FAILURE(run.Run(&r)) << nodes << " nodes, seed " << s;
    printf("%d nodes, seed %d: %lld acknowledged edits, log of %lld, %d clean rounds, %.1f s\n",
           nodes, s, static_cast<long long>(r.acked), static_cast<long long>(r.log_length),
           r.rounds_ok,
           std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    fflush(stdout);
    acked += r.acked;
  }
  printf("%d nodes: checked %d seeds, %lld acknowledged edits\n", nodes, seeds,
         static_cast<long long>(acked));
  // The faults must leave room for progress, or the test checks nothing.
  EXPECT_GT(acked, 0);
}

TEST(FaultTest, RandomDropsDelaysAndCrashes_EveryAcknowledgedEditSurvives) {
  RunSeeds(3, NumSeeds());
}

TEST(FaultTest, FiveNodes_RandomDropsDelaysAndCrashes_EveryAcknowledgedEditSurvives) {
  RunSeeds(5, std::max(1, NumSeeds() / 3));
}

}  // namespace
}  // namespace qj::testing
