// The quorum writer and reader against real journalnode processes (3 and 5 nodes):
// minority down or paused, a node killed mid-stream catching up, competing writers.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "journalnode/client/journal_channel.h"
#include "journalnode/client/quorum_call.h"
#include "tests/journalnode/client/client_test_util.h"

namespace qj::testing {
namespace {

using jn::QuorumWriter;
using jn::WriterStats;

// Appends txids [from, to] with TestPayload(tag, txid).

void ExpectLog(const std::vector<EditRecord>& log, int64_t n,
               const std::function<std::string(int64_t)>& payload) {
  ASSERT_EQ(static_cast<int64_t>(log.size()), n);
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_EQ(log[i].txid, i + 1);
    ASSERT_EQ(log[i].payload, payload(i + 1)) << "txid " << i + 1;
  }
}

class MinorityDownTest : public ::testing::TestWithParam<int> {};

TEST_P(MinorityDownTest, WritesGoOnWithAMinorityKilled) {
  const int n = GetParam();
  JnCluster cluster(n);
  ASSERT_OK(cluster.Format());
  auto w = QuorumWriter::Open(cluster.Options("nn1"), cluster.ns());
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ((*w)->last_txid(), 0);
  ASSERT_OK((*w)->StartSegment(1));
  ASSERT_OK(AppendRange(w->get(), "a", 1, 200));
  ASSERT_OK((*w)->WaitCommitted(200, 10000));
  // Kill a minority mid-segment; writing goes on.
  for (int i = 0; i < n / 2; ++i) cluster.node(i).Kill();
  ASSERT_OK(AppendRange(w->get(), "a", 201, 600));
  ASSERT_OK((*w)->WaitCommitted(600, 10000));
  ASSERT_OK((*w)->health());
  ASSERT_OK((*w)->FinalizeSegment());
  ASSERT_OK((*w)->StartSegment(601));
  ASSERT_OK(AppendRange(w->get(), "a", 601, 700));
  ASSERT_OK((*w)->WaitCommitted(700, 10000));
  (*w)->Close();
  auto log = ReadAll(cluster.Options("reader"));
  ASSERT_TRUE(log.ok()) << log.status();
  ExpectLog(*log, 700, [](int64_t t) { return TestPayload("a", t); });
  // A new writer recovers the open segment from the majority that is left.
  auto w2 = QuorumWriter::Open(cluster.Options("nn2"), cluster.ns());
  ASSERT_TRUE(w2.ok()) << w2.status();
  EXPECT_EQ((*w2)->last_txid(), 700);
  // Losing one more node loses the quorum: the writer cannot commit and fails.
  cluster.node(n / 2).Kill();
  ASSERT_OK((*w2)->StartSegment(701).ok() ? Status::IllegalState("started without quorum")
                                          : Status::OK());
  EXPECT_FALSE((*w2)->health().ok());
}

INSTANTIATE_TEST_SUITE_P(Nodes, MinorityDownTest, ::testing::Values(3, 5));

class MinorityPausedTest : public ::testing::TestWithParam<int> {};

TEST_P(MinorityPausedTest, WritesGoOnWithAMinorityPaused_AndPausedNodesCatchUp) {
  const int n = GetParam();
  JnCluster cluster(n);
  ASSERT_OK(cluster.Format());
  auto w = QuorumWriter::Open(cluster.Options("nn1"), cluster.ns());
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_OK((*w)->StartSegment(1));
  ASSERT_OK(AppendRange(w->get(), "p", 1, 100));
  ASSERT_OK((*w)->WaitCommitted(100, 10000));
  // SIGSTOP: connections stay open, nothing answers.
  for (int i = n - n / 2; i < n; ++i) cluster.node(i).Stop();
  const auto t0 = std::chrono::steady_clock::now();
  // Many small commits, each waited for: paused nodes must not hold them up.
  for (int64_t t = 101; t <= 1100; t += 10) {
    ASSERT_OK(AppendRange(w->get(), "p", t, t + 9));
    ASSERT_OK((*w)->WaitCommitted(t + 9, 10000));
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  printf("%d nodes, %d paused: 100 commits of 10 edits in %.2f s\n", n, n / 2, secs);
  ASSERT_OK((*w)->health());
  // Resumed, they are caught up within the segment from the writer's buffer.
  for (int i = n - n / 2; i < n; ++i) {
    cluster.node(i).Continue();
    ASSERT_TRUE(WaitFor([&] { return (*w)->stats().acked_txid[i] == 1100; }, 20000))
        << "jn" << i << " acked only " << (*w)->stats().acked_txid[i];
  }
  ASSERT_OK((*w)->FinalizeSegment());
  (*w)->Close();
  auto log = ReadNode(cluster, n - 1);
  ASSERT_TRUE(log.ok()) << log.status();
  ExpectLog(*log, 1100, [](int64_t t) { return TestPayload("p", t); });
}

INSTANTIATE_TEST_SUITE_P(Nodes, MinorityPausedTest, ::testing::Values(3, 5));

TEST(QuorumTest, NodeKilledMidStreamAndRestartedCatchesUpWithinTheSegment) {
  JnCluster cluster(3);
  ASSERT_OK(cluster.Format());
  auto w = QuorumWriter::Open(cluster.Options("nn1"), cluster.ns());
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_OK((*w)->StartSegment(1));
  std::atomic<bool> done{false};
  Status writer_status;
  std::thread writer([&] {
    for (int64_t t = 1; t <= 3000 && writer_status.ok(); ++t) {
      writer_status = (*w)->Append(t, 1, TestPayload("k", t));
      if (writer_status.ok() && t % 50 == 0) writer_status = (*w)->WaitCommitted(t, 10000);
    }
    done = true;
  });
  ASSERT_TRUE(WaitFor([&] { return (*w)->committed_txid() >= 500 || done; }, 30000));
  cluster.node(1).Kill();  // SIGKILL mid-stream
  ASSERT_TRUE(WaitFor([&] { return (*w)->committed_txid() >= 1500 || done; }, 30000));
  {
    // While jn1 is down, what it lacks is queued for it (if it is still in the pipeline).
    const WriterStats s = (*w)->stats();
    ASSERT_EQ(s.queued_bytes.size(), 3u);
    if (s.in_pipeline[1] && s.acked_txid[1] < (*w)->last_txid()) {
      EXPECT_GT(s.queued_bytes[1], 0);
      EXPECT_GE(s.lag_ms[1], 0);
    }
  }
  cluster.node(1).Restart();
  writer.join();
  ASSERT_OK(writer_status);
  ASSERT_OK((*w)->WaitCommitted(3000, 10000));
  // The restarted node rejoins the same segment and ends with every edit.
  ASSERT_TRUE(WaitFor([&] { return (*w)->stats().acked_txid[1] == 3000; }, 20000))
      << "jn1 acked only " << (*w)->stats().acked_txid[1];
  EXPECT_TRUE((*w)->stats().in_pipeline[1]);
  {
    // Everyone has everything: nothing queued, no lag; every commit advance was timed.
    ASSERT_TRUE(WaitFor(
        [&] {
          const WriterStats s = (*w)->stats();
          for (int i = 0; i < 3; ++i) {
            if (s.acked_txid[i] != 3000) return false;
          }
          return true;
        },
        20000));
    const WriterStats s = (*w)->stats();
    int64_t timed = 0;
    for (int64_t c : s.commit_latency_log2_us_histogram) timed += c;
    EXPECT_EQ(timed, s.batches);
    EXPECT_GT(s.commit_latency_us_sum, 0);
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(s.queued_bytes[i], 0) << "jn" << i;
      EXPECT_EQ(s.lag_ms[i], 0) << "jn" << i;
    }
  }
  ASSERT_OK((*w)->FinalizeSegment());
  (*w)->Close();
  for (int i = 0; i < 3; ++i) {
    auto log = ReadNode(cluster, i);
    ASSERT_TRUE(log.ok()) << "jn" << i << ": " << log.status();
    ExpectLog(*log, 3000, [](int64_t t) { return TestPayload("k", t); });
  }
}

TEST(QuorumTest, TwoWritersCompete_OlderIsFencedAndItsLaterEditsAreNeverCommitted) {
  JnCluster cluster(3);
  ASSERT_OK(cluster.Format());
  auto w1 = QuorumWriter::Open(cluster.Options("nn1"), cluster.ns());
  ASSERT_TRUE(w1.ok()) << w1.status();
  ASSERT_OK((*w1)->StartSegment(1));
  ASSERT_OK(AppendRange(w1->get(), "w1", 1, 50));
  ASSERT_OK((*w1)->WaitCommitted(50, 10000));

  auto w2 = QuorumWriter::Open(cluster.Options("nn2"), cluster.ns());
  ASSERT_TRUE(w2.ok()) << w2.status();
  EXPECT_GT((*w2)->epoch(), (*w1)->epoch());
  EXPECT_EQ((*w2)->last_txid(), 50);

  // The old writer is fenced at its next call: nothing it writes now commits.
  Status s = AppendRange(w1->get(), "w1", 51, 60);
  if (s.ok()) s = (*w1)->WaitCommitted(60, 10000);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.IsStaleEpoch()) << s;
  EXPECT_TRUE((*w1)->health().IsStaleEpoch()) << (*w1)->health();
  EXPECT_LT((*w1)->committed_txid(), 51);
  EXPECT_FALSE((*w1)->Append(61, 1, "x").ok());

  ASSERT_OK((*w2)->StartSegment(51));
  ASSERT_OK(AppendRange(w2->get(), "w2", 51, 80));
  ASSERT_OK((*w2)->WaitCommitted(80, 10000));
  ASSERT_OK((*w2)->FinalizeSegment());
  (*w1)->Close();
  (*w2)->Close();
  auto log = ReadAll(cluster.Options("reader"));
  ASSERT_TRUE(log.ok()) << log.status();
  ExpectLog(*log, 80, [](int64_t t) { return TestPayload(t <= 50 ? "w1" : "w2", t); });
  for (int i = 0; i < 3; ++i) {
    auto node_log = ReadNode(cluster, i);
    ASSERT_TRUE(node_log.ok()) << node_log.status();
    for (const auto& e : *node_log) {
      ASSERT_EQ(e.payload, TestPayload(e.txid <= 50 ? "w1" : "w2", e.txid));
    }
  }
}

TEST(QuorumTest, ReaderSeesOnlyCommittedEditsAndFollowsHeartbeats) {
  JnCluster cluster(3);
  ASSERT_OK(cluster.Format());
  auto reader = jn::QuorumReader::Create(cluster.Options("tailer"));
  auto empty = reader->ReadCommitted(1, 10);
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->empty());
  auto w = QuorumWriter::Open(cluster.Options("nn1"), cluster.ns());
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_OK((*w)->StartSegment(1));
  ASSERT_OK(AppendRange(w->get(), "r", 1, 30));
  ASSERT_OK((*w)->WaitCommitted(30, 10000));
  // With no further writes, the heartbeat carries the commit point to the journalnodes.
  ASSERT_TRUE(WaitFor(
      [&] {
        auto c = reader->CommittedTxId();
        return c.ok() && *c == 30;
      },
      10000));
  auto edits = reader->ReadCommitted(11, 100);
  ASSERT_TRUE(edits.ok()) << edits.status();
  ASSERT_EQ(edits->size(), 20u);
  EXPECT_EQ(edits->front().txid, 11);
  EXPECT_EQ(edits->back().payload, TestPayload("r", 30));
  (*w)->Close();
}

// Commit waiters are handed their wake-up after the writer's mutex is released, and
// leave the waiting list themselves on a timeout (quorum_writer.cc): many callers with
// 1 ms timeouts racing the commits each end with OK or TimedOut, never anything else;
// then, with the majority paused, Close() wakes every waiter (not its 20 s timeout).
TEST(QuorumTest, ConcurrentCommitWaiters_ShortTimeoutsRaceCommits_CloseWakesTheRest) {
  JnCluster cluster(3);
  ASSERT_OK(cluster.Format());
  auto w = QuorumWriter::Open(cluster.Options("nn1"), cluster.ns());
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_OK((*w)->StartSegment(1));
  std::mutex append_mu;
  int64_t next = 0;  // under append_mu
  std::atomic<int64_t> timeouts{0};
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        int64_t txid;
        {
          std::lock_guard<std::mutex> l(append_mu);
          txid = ++next;
          if (!(*w)->Append(txid, 1, TestPayload("c", txid)).ok()) ++bad;
        }
        while (true) {
          const Status s = (*w)->WaitCommitted(txid, 1);
          if (s.ok()) break;
          if (s.code() != StatusCode::kTimedOut) {
            ++bad;
            break;
          }
          ++timeouts;
        }
        if ((*w)->committed_txid() < txid) ++bad;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
  std::printf("800 edits, 16 callers: %lld WaitCommitted time-outs of 1 ms before the commit\n",
              static_cast<long long>(timeouts.load()));
  // No majority: appended edits cannot commit; waiters wait until Close wakes them.
  cluster.node(1).Stop();
  cluster.node(2).Stop();
  ASSERT_OK(AppendRange(w->get(), "c", next + 1, next + 8));
  std::atomic<int> woken{0};
  std::vector<std::thread> waiters;
  for (int t = 0; t < 8; ++t) {
    waiters.emplace_back([&, t] {
      const Status s = (*w)->WaitCommitted(next + 1 + t, 20000);
      // Closed (or failed first): anything but committed or the 20 s timeout.
      if (!s.ok() && s.code() != StatusCode::kTimedOut) ++woken;
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  (*w)->Close();
  for (auto& t : waiters) t.join();
  EXPECT_EQ(woken.load(), 8);
  cluster.node(1).Continue();
  cluster.node(2).Continue();
}

TEST(QuorumTest, FormatAndIsFormatted) {
  JnCluster cluster(3);
  auto before = jn::IsJournalFormatted(cluster.Options());
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_FALSE(*before);
  // Becoming writer on an unformatted journal is a clear NotFormatted.
  auto w = QuorumWriter::Open(cluster.Options("nn1"), cluster.ns());
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), StatusCode::kNotFormatted) << w.status();
  ASSERT_OK(cluster.Format());
  auto after = jn::IsJournalFormatted(cluster.Options());
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_TRUE(*after);
  EXPECT_FALSE(jn::FormatJournal(cluster.Options(), cluster.ns(), /*force=*/false).ok());
  EXPECT_OK(jn::FormatJournal(cluster.Options(), cluster.ns(), /*force=*/true));
}

TEST(QuorumTest, PurgeDeletesOldFinalizedSegmentsEverywhere) {
  JnCluster cluster(3);
  ASSERT_OK(cluster.Format());
  auto w = QuorumWriter::Open(cluster.Options("nn1"), cluster.ns());
  ASSERT_TRUE(w.ok()) << w.status();
  for (int64_t seg = 1; seg <= 31; seg += 10) {
    ASSERT_OK((*w)->StartSegment(seg));
    ASSERT_OK(AppendRange(w->get(), "g", seg, seg + 9));
    ASSERT_OK((*w)->FinalizeSegment());
  }
  ASSERT_OK((*w)->Purge(21));
  (*w)->Close();
  auto channels = jn::MakeChannels(cluster.Options("probe"));
  auto r = jn::CallQuorum<jn::JournalState>(
      jn::ChannelPointers(channels), 3, 5000, "getJournalState",
      [](jn::JournalChannel& c, jn::ReplyCallback<jn::JournalState> cb) { c.GetJournalState(cb); });
  ASSERT_OK(r.status);
  for (const auto& rep : r.replies) {
    std::vector<int64_t> starts;
    for (const auto& seg : rep->value.segments) starts.push_back(seg.start_txid);
    EXPECT_EQ(starts, (std::vector<int64_t>{21, 31}));
  }
}

TEST(QuorumTest, ConcurrentOpens_EpochsAreUniqueAndOnlyTheNewestWrites) {
  JnCluster cluster(3);
  ASSERT_OK(cluster.Format());
  std::vector<std::unique_ptr<QuorumWriter>> writers(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      auto w = QuorumWriter::Open(cluster.Options("nn" + std::to_string(i)), cluster.ns());
      if (w.ok()) writers[i] = std::move(w).value();
    });
  }
  for (auto& t : threads) t.join();
  std::set<int64_t> epochs;
  QuorumWriter* newest = nullptr;
  int opened = 0;
  for (auto& w : writers) {
    if (!w) continue;
    ++opened;
    EXPECT_TRUE(epochs.insert(w->epoch()).second) << "epoch " << w->epoch() << " twice";
    if (newest == nullptr || w->epoch() > newest->epoch()) newest = w.get();
  }
  ASSERT_GE(opened, 1);
  // Only the newest writer may commit. (Even it can be fenced: an Open that gave up may
  // have left a higher promise on one node; then nobody writes until the next Open.)
  int committed = 0;
  for (auto& w : writers) {
    if (!w) continue;
    Status s = w->StartSegment(1);
    if (s.ok()) s = AppendRange(w.get(), "e" + std::to_string(w->epoch()), 1, 5);
    if (s.ok()) s = w->WaitCommitted(5, 10000);
    if (s.ok()) {
      ++committed;
      EXPECT_EQ(w.get(), newest) << "writer of epoch " << w->epoch() << " wrote after a newer one";
    } else {
      EXPECT_TRUE(s.IsStaleEpoch()) << s;
    }
  }
  for (auto& w : writers) {
    if (w) w->Close();
  }
  auto log = ReadAll(cluster.Options("reader"));
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_EQ(log->size(), committed == 1 ? 5u : 0u);
  if (committed == 1) {
    EXPECT_EQ((*log)[0].payload, TestPayload("e" + std::to_string(newest->epoch()), 1));
  }
}

TEST(QuorumTest, FullBuffer_PausedNodeLeavesThePipelineAndRejoinsAtTheNextSegment) {
  JnCluster cluster(3);
  ASSERT_OK(cluster.Format());
  jn::QuorumOptions o = cluster.Options("nn1");
  o.max_queue_bytes = 32 << 10;
  auto w = QuorumWriter::Open(o, cluster.ns());
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_OK((*w)->StartSegment(1));
  cluster.node(2).Stop();
  // ~250 KB through a 32 KB buffer: jn2 cannot keep up and must not stall the majority.
  const std::string pad(100, 'x');
  for (int64_t t = 1; t <= 2000; ++t) ASSERT_OK((*w)->Append(t, 1, pad));
  ASSERT_OK((*w)->WaitCommitted(2000, 10000));
  EXPECT_FALSE((*w)->stats().in_pipeline[2]);
  cluster.node(2).Continue();
  ASSERT_OK((*w)->FinalizeSegment());
  ASSERT_OK((*w)->StartSegment(2001));
  ASSERT_OK(AppendRange(w->get(), "n", 2001, 2010));
  ASSERT_OK((*w)->WaitCommitted(2010, 10000));
  ASSERT_TRUE(WaitFor([&] { return (*w)->stats().acked_txid[2] == 2010; }, 10000))
      << "jn2 acked " << (*w)->stats().acked_txid[2];
  EXPECT_TRUE((*w)->stats().in_pipeline[2]);
  (*w)->Close();
}

}  // namespace
}  // namespace qj::testing
