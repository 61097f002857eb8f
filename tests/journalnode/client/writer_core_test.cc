// WriterCore (journalnode/client/writer_core.h) driven by hand against real Journals on
// SimDisks (tests/sim/journal_model.h): each test chooses which request is answered when.
#include "journalnode/client/writer_core.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "common/clock.h"
#include "common/edit_record.h"
#include "tests/sim/journal_model.h"

namespace qj::jn {
namespace {

class WriterCoreTest : public ::testing::Test {
 protected:
  WriterCoreTest() : cluster_(3) {
    cluster_.Start();
    core_ = std::make_unique<WriterCore>(CoreOptions());
  }

  // The core every test starts with: three nodes, no heartbeats.
  static WriterCoreOptions CoreOptions() {
    WriterCoreOptions o;
    o.nodes = 3;
    o.journal_id = "ns1";
    o.ns = NamespaceInfo{42, "cluster-a", 1};
    o.heartbeat_interval_ms = 0;
    return o;
  }

  // Takes the core's output into the queue of unanswered requests.
  void Collect() {
    WriterOutput out = core_->TakeOutput();
    for (auto& q : out.sends) queue_.push_back(std::move(q));
    for (auto& d : out.done) done_.push_back(d);
  }
  // Answers the queued requests to nodes in `to` (all when empty), in order.
  void Deliver(std::vector<int> to = {}) {
    for (int round = 0; round < 20; ++round) {
      Collect();
      std::vector<WriterRequest> later, now;
      for (auto& q : queue_) {
        const bool pick = to.empty() || std::find(to.begin(), to.end(), q.node) != to.end();
        (pick ? now : later).push_back(std::move(q));
      }
      queue_ = std::move(later);
      if (now.empty()) return;
      for (const auto& q : now) {
        core_->OnReply(q.id, cluster_.Execute(q.node, q, ++serial_[q.node]), now_ += 1000);
      }
    }
  }
  Status LastDone(WriterOp op) {
    for (auto it = done_.rbegin(); it != done_.rend(); ++it) {
      if (it->first == op) return it->second;
    }
    return Status::IllegalState("not done");
  }
  void OpenAndStart() {
    core_->Open(now_);
    Deliver();
    ASSERT_TRUE(LastDone(WriterOp::kOpen).ok()) << LastDone(WriterOp::kOpen);
    ASSERT_TRUE(core_->StartSegment(core_->last_txid() + 1, now_).ok());
    Deliver();
    ASSERT_TRUE(LastDone(WriterOp::kStartSegment).ok());
  }
  bool AppendOne() {
    const int64_t t = core_->last_txid() + 1;
    std::string rec;
    AppendRecord(&rec, t, 3, "edit" + std::to_string(t));
    bool queued = false;
    return core_->Append(t, rec, now_, &queued).ok() && queued;
  }

  sim::Cluster cluster_;
  std::unique_ptr<WriterCore> core_;
  std::vector<WriterRequest> queue_;
  std::vector<std::pair<WriterOp, Status>> done_;
  std::map<int, int64_t> serial_;
  int64_t now_ = 1;
};

TEST_F(WriterCoreTest, CommitsOnlyOnAMajorityOfAcks) {
  OpenAndStart();
  ASSERT_TRUE(AppendOne());
  const int64_t txid = core_->last_txid();
  Deliver({0});
  EXPECT_LT(core_->committed_txid(), txid) << "one ack of three must not commit";
  Deliver({1});
  EXPECT_EQ(core_->committed_txid(), txid);
  // The commit point rides on the next request; jn2 has not acked yet and stays behind.
  Deliver();
  EXPECT_EQ(core_->stats().acked_txid[2], txid);
}

TEST_F(WriterCoreTest, EmptySegmentIsNotFinalized) {
  OpenAndStart();
  Status s = core_->FinalizeSegment(now_);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s;
  Collect();
  EXPECT_TRUE(queue_.empty()) << "nothing may be sent: " << queue_[0].ToString();
  EXPECT_TRUE(core_->health().ok());
  ASSERT_TRUE(AppendOne());
  ASSERT_TRUE(core_->FinalizeSegment(now_).ok());
  Deliver();
  EXPECT_TRUE(LastDone(WriterOp::kFinalizeSegment).ok()) << LastDone(WriterOp::kFinalizeSegment);
}

// Found by journal_net_sim (seed 2): finalizing an empty segment stopped the journalnode
// (the segment writer refused, and the journal treated that as a storage failure).
TEST_F(WriterCoreTest, JournalRefusesEmptyFinalizeAndKeepsServing) {
  OpenAndStart();
  const int64_t start = core_->segment_start();
  Journal* j = cluster_.jn[0].get();
  RequestHeader h{"ns1", core_->epoch(), 1000, core_->committed_txid()};
  Status s = j->FinalizeLogSegment(h, start, start - 1);
  EXPECT_FALSE(s.ok());
  auto st = j->GetState();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->unavailable_reason, "") << "the journal stopped on a bad request";
}

// Found by journal_net_sim's busy-loop check: once a lagging node's stall deadline had
// passed, the core asked to be woken at once after every wake-up (nothing happens then:
// only an Append that finds the buffer full drops the node), a spin in a real driver.
TEST_F(WriterCoreTest, NoWakeUpAtOnceAfterALaggingNodesStallDeadline) {
  OpenAndStart();
  ASSERT_TRUE(AppendOne());
  Deliver({0, 1});  // jn2 never answers: in the pipeline, behind the commit point
  ASSERT_EQ(core_->committed_txid(), core_->last_txid());
  const int64_t t = now_ + 200'000'000;  // past the 100 ms stall deadline
  core_->Tick(t);
  WriterOutput out = core_->TakeOutput();
  EXPECT_TRUE(out.wake_at_ns < 0 || out.wake_at_ns > t || !out.sends.empty())
      << "wake-up at " << out.wake_at_ns << " (now " << t << ") with nothing to do";
}

// Found by journal_net_sim's busy-loop check: a node waiting to retry its startLogSegment
// gets no heartbeat, yet its heartbeat deadline woke the core at once until the retry.
TEST_F(WriterCoreTest, NoWakeUpAtOnceWhileAStartRetryWaits) {
  WriterCoreOptions o = CoreOptions();
  o.heartbeat_interval_ms = 20;
  core_ = std::make_unique<WriterCore>(o);
  core_->Open(now_);
  Deliver();
  ASSERT_TRUE(LastDone(WriterOp::kOpen).ok()) << LastDone(WriterOp::kOpen);
  ASSERT_TRUE(core_->StartSegment(core_->last_txid() + 1, now_).ok());
  Collect();
  for (const auto& q : queue_) {
    WriterReply r;
    if (q.node == 2) {
      r.status = Status::NetworkError("jn2: connection refused");  // retried after a backoff
    } else {
      r = cluster_.Execute(q.node, q, ++serial_[q.node]);
    }
    core_->OnReply(q.id, r, now_ += 1000);
  }
  queue_.clear();
  Collect();
  ASSERT_TRUE(queue_.empty()) << queue_[0].ToString();
  ASSERT_TRUE(LastDone(WriterOp::kStartSegment).ok()) << LastDone(WriterOp::kStartSegment);
  const int64_t t = now_ + 30'000'000;  // past a heartbeat interval, before jn2's retry
  core_->Tick(t);
  Collect();
  for (const auto& q : queue_) {
    ASSERT_NE(q.node, 2) << q.ToString();
    core_->OnReply(q.id, cluster_.Execute(q.node, q, ++serial_[q.node]), t);
  }
  queue_.clear();
  WriterOutput out = core_->TakeOutput();
  EXPECT_TRUE(out.sends.empty());
  EXPECT_TRUE(out.wake_at_ns < 0 || out.wake_at_ns > t)
      << "wake-up at " << out.wake_at_ns << " (now " << t << ") with nothing to do";
}

TEST_F(WriterCoreTest, StaleEpochFencesTheWriter) {
  OpenAndStart();
  // A second writer takes a newer epoch on every node.
  WriterCore second(CoreOptions());
  second.Open(now_);
  for (int round = 0; round < 10; ++round) {
    WriterOutput out = second.TakeOutput();
    for (const auto& q : out.sends) {
      second.OnReply(q.id, cluster_.Execute(q.node, q, ++serial_[10 + q.node]), now_ += 1000);
    }
  }
  ASSERT_TRUE(second.opened());
  ASSERT_TRUE(AppendOne());
  Deliver();
  EXPECT_TRUE(core_->health().IsStaleEpoch()) << core_->health();
}

// namenode --initialize_shared_edits: an empty journal may start after an existing image.
TEST_F(WriterCoreTest, EmptyLogStartsAfterAnExistingImage) {
  core_->Open(now_);
  Deliver();
  ASSERT_TRUE(LastDone(WriterOp::kOpen).ok()) << LastDone(WriterOp::kOpen);
  ASSERT_EQ(core_->last_txid(), 0);
  ASSERT_TRUE(core_->StartSegment(101, now_).ok());
  Deliver();
  ASSERT_TRUE(LastDone(WriterOp::kStartSegment).ok()) << LastDone(WriterOp::kStartSegment);
  EXPECT_EQ(core_->last_txid(), 100);
  ASSERT_TRUE(AppendOne());
  Deliver();
  EXPECT_EQ(core_->committed_txid(), 101);
  // Once the log has edits, a segment must follow them.
  ASSERT_TRUE(core_->FinalizeSegment(now_).ok());
  Deliver();
  ASSERT_TRUE(LastDone(WriterOp::kFinalizeSegment).ok());
  EXPECT_EQ(core_->StartSegment(200, now_).code(), StatusCode::kInvalidArgument);
}

// When every journalnode gives the same definite refusal, the writer fails with it (as
// CallQuorum does), not with an Unavailable that hides the code. The newEpoch requests go
// to the real Journals with the writer's namespace (the model cluster would use its own).
TEST_F(WriterCoreTest, UnanimousRefusalKeepsItsCode) {
  WriterCoreOptions o = CoreOptions();
  o.ns = NamespaceInfo{43, "cluster-b", 1};  // not the namespace the journal holds
  core_ = std::make_unique<WriterCore>(o);
  core_->Open(now_);
  for (int round = 0; round < 10; ++round) {
    WriterOutput out = core_->TakeOutput();
    for (auto& d : out.done) done_.push_back(d);
    for (const auto& q : out.sends) {
      WriterReply r;
      if (q.call == WriterCall::kNewEpoch) {
        const NamespaceInfo info{q.ns.namespace_id, q.ns.cluster_id, q.ns.layout_version};
        r.status = cluster_.jn[q.node]->NewEpoch(info, q.epoch).status();
      } else {
        r = cluster_.Execute(q.node, q, ++serial_[q.node]);
      }
      core_->OnReply(q.id, r, now_ += 1000);
    }
  }
  const Status s = LastDone(WriterOp::kOpen);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find("journalnodes said so"), std::string::npos) << s;
}

// The core's timer names only times at which it acts: a deadline already past that nothing
// acts on (here: a lagging node's stall, which only a full buffer acts on) would have a
// driver that honours the timer tick in a busy loop.
TEST_F(WriterCoreTest, NoWakeUpAtOnceWithNothingToDo) {
  OpenAndStart();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(AppendOne());
  Deliver({0, 1});  // jn2's batches stay unanswered
  ASSERT_EQ(core_->committed_txid(), core_->last_txid());
  ASSERT_LT(core_->stats().acked_txid[2], core_->committed_txid());
  now_ += 500 * kNanosPerMilli;  // long past the stall time, short of the write timeout
  core_->Tick(now_);
  WriterOutput out = core_->TakeOutput();
  EXPECT_TRUE(out.sends.empty());
  EXPECT_TRUE(out.wake_at_ns < 0 || out.wake_at_ns > now_)
      << "wake at " << out.wake_at_ns << ", now " << now_;
}

// The threaded driver forms batches on Tick (batch_on_events off) and, after a reply, runs
// one only when HasUnsentWork(): while it is false a Tick must issue nothing, or an ack
// that leaves a node short of edits would strand them until the next timer.
TEST_F(WriterCoreTest, NoUnsentWorkMeansATickIssuesNothing) {
  WriterCoreOptions o = CoreOptions();
  o.batch_on_events = false;
  core_ = std::make_unique<WriterCore>(o);
  OpenAndStart();
  EXPECT_FALSE(core_->HasUnsentWork()) << "nothing appended yet";
  ASSERT_TRUE(AppendOne());
  EXPECT_TRUE(core_->HasUnsentWork()) << "an appended edit waits for the next Tick";
  core_->Tick(now_);
  Collect();
  EXPECT_EQ(queue_.size(), 3u) << "one batch to each node";
  EXPECT_FALSE(core_->HasUnsentWork()) << "every node has been sent every edit";
  Deliver();
  EXPECT_EQ(core_->committed_txid(), core_->last_txid());
  EXPECT_FALSE(core_->HasUnsentWork()) << "the acks leave nothing to send";

  // A random run: appends, answers from any subset of nodes, ticks, with every node's
  // window of batches in flight filling and draining. Whenever HasUnsentWork() is false,
  // a Tick sends nothing.
  uint64_t rng = 12345;
  auto next = [&rng](uint64_t n) {
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (rng >> 33) % n;
  };
  int checked = 0;
  for (int step = 0; step < 400 && core_->health().ok(); ++step) {
    switch (next(4)) {
      case 0:
        for (uint64_t i = next(3) + 1; i > 0; --i) ASSERT_TRUE(AppendOne());
        break;
      case 1:
        core_->Tick(now_ += 1000);
        Collect();
        break;
      case 2: {
        Collect();
        std::vector<int> to;
        for (int n = 0; n < 3; ++n) {
          if (next(2) == 0) to.push_back(n);
        }
        if (to.empty()) to.push_back(static_cast<int>(next(3)));
        // Answer at most one queued request per chosen node, in order.
        std::vector<WriterRequest> later;
        std::set<int> answered;
        for (auto& q : queue_) {
          const bool pick =
              std::find(to.begin(), to.end(), q.node) != to.end() && answered.insert(q.node).second;
          if (!pick) {
            later.push_back(std::move(q));
            continue;
          }
          core_->OnReply(q.id, cluster_.Execute(q.node, q, ++serial_[q.node]), now_ += 1000);
        }
        queue_ = std::move(later);
        break;
      }
      default:
        break;
    }
    Collect();
    if (!core_->HasUnsentWork()) {
      ++checked;
      core_->Tick(now_);
      WriterOutput out = core_->TakeOutput();
      EXPECT_TRUE(out.sends.empty())
          << "step " << step << ": a Tick sent " << out.sends.size() << " calls ("
          << out.sends[0].ToString() << ") though HasUnsentWork() was false";
      for (auto& q : out.sends) queue_.push_back(std::move(q));
    }
  }
  EXPECT_TRUE(core_->health().ok()) << core_->health();
  EXPECT_GT(checked, 20) << "the run must reach states with nothing to send";
}

// The writer's figures: commit latency of each advance, and per node in the pipeline the
// bytes it has not acknowledged and how long the oldest of them has waited.
TEST_F(WriterCoreTest, StatsShowLagAndCommitLatency) {
  OpenAndStart();
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(AppendOne());
  now_ += 7 * kNanosPerMilli;
  Deliver({0, 1});
  WriterStats s = core_->stats(now_ + 3 * kNanosPerMilli);
  ASSERT_EQ(s.queued_bytes.size(), 3u);
  EXPECT_EQ(s.queued_bytes[0], 0);
  EXPECT_GT(s.queued_bytes[2], 0);
  EXPECT_GE(s.lag_ms[2], 10);
  int64_t timed = 0;
  for (int64_t c : s.commit_latency_log2_us_histogram) timed += c;
  EXPECT_GT(timed, 0);
  EXPECT_GE(s.commit_latency_us_sum, 7000);
}

}  // namespace
}  // namespace qj::jn
