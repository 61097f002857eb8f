// The namenode's Tailer (namenode/tailer.h) against 3 real journalnode processes on
// 127.0.0.1 (tests/support/jn_cluster.cc): every committed edit applied once, in order,
// across a segment roll; an apply failure stops it; CatchUp times out on the injected clock;
// a stopped tailer catches up a range on its own reader.
#include "namenode/tailer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "journalnode/client/quorum_writer.h"
#include "tests/support/fake_clock.h"
#include "tests/support/jn_cluster.h"
#include "tests/support/process.h"
#include "tests/support/status_macros.h"

namespace qj::nn {
namespace {

using qj::testing::JnCluster;
using qj::testing::WaitFor;

std::string Payload(int64_t txid) { return "edit/" + std::to_string(txid); }

// Appends txids [from, to] and waits until they are committed on a majority.
Status WriteRange(jn::QuorumWriter* w, int64_t from, int64_t to) {
  for (int64_t t = from; t <= to; ++t) QJ_RETURN_IF_ERROR(w->Append(t, 7, Payload(t)));
  return w->WaitCommitted(to, 10000);
}

// Records what an apply callback was given, from any thread.
class Applied {
 public:
  void Add(const EditRecord& r) {
    std::lock_guard<std::mutex> l(mu_);
    records_.push_back(r);
  }
  std::vector<EditRecord> Get() const {
    std::lock_guard<std::mutex> l(mu_);
    return records_;
  }
  size_t size() const {
    std::lock_guard<std::mutex> l(mu_);
    return records_.size();
  }

 private:
  mutable std::mutex mu_;
  std::vector<EditRecord> records_;
};

// Exactly txids [1, n] in order, once each, with the written payloads.
void ExpectExactly(const std::vector<EditRecord>& got, int64_t n) {
  ASSERT_EQ(static_cast<int64_t>(got.size()), n);
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_EQ(got[i].txid, i + 1) << "position " << i;
    ASSERT_EQ(got[i].op, 7) << "txid " << i + 1;
    ASSERT_EQ(got[i].payload, Payload(i + 1)) << "txid " << i + 1;
  }
}

class TailerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(cluster_.Format());
    auto w = jn::QuorumWriter::Open(cluster_.Options("nn1"), cluster_.ns());
    ASSERT_TRUE(w.ok()) << w.status();
    writer_ = std::move(*w);
    ASSERT_EQ(writer_->last_txid(), 0);
  }
  void TearDown() override {
    if (writer_) writer_->Close();
  }

  JnCluster cluster_{3};
  std::unique_ptr<jn::QuorumWriter> writer_;
};

TEST_F(TailerTest, AppliesEveryCommittedEditOnceInOrderAcrossASegmentRoll) {
  Applied applied;
  Tailer tailer(cluster_.Options("nn2-tailer"), [&](const std::vector<EditRecord>& batch) {
    for (const EditRecord& r : batch) applied.Add(r);
    return Status::OK();
  });
  // The tailer runs while the edits are written: it reads the in-progress segments too.
  tailer.Start(1);
  ASSERT_OK(writer_->StartSegment(1));
  ASSERT_OK(WriteRange(writer_.get(), 1, 120));
  ASSERT_OK(writer_->FinalizeSegment());
  ASSERT_OK(writer_->StartSegment(121));
  ASSERT_OK(WriteRange(writer_.get(), 121, 200));  // left in progress
  ASSERT_TRUE(WaitFor([&] { return tailer.next_txid() == 201; }, 20000))
      << "next_txid " << tailer.next_txid() << ", applied " << applied.size();
  // Further polls of an idle log apply nothing more.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_OK(tailer.health());
  EXPECT_TRUE(tailer.running());
  EXPECT_EQ(tailer.next_txid(), 201);
  ExpectExactly(applied.Get(), 200);
  tailer.Stop();
  EXPECT_FALSE(tailer.running());
  EXPECT_EQ(tailer.next_txid(), 201);
}

// transitionToActive's catch-up: once stopped, the tailer applies [from, to] on its own
// reader (refused while it runs), and a later Start goes on from where it is told.
TEST_F(TailerTest, CatchUpStoppedAppliesTheRangeOnTheTailersReader) {
  Applied applied;
  Tailer::ApplyFn apply = [&](const std::vector<EditRecord>& batch) {
    for (const EditRecord& r : batch) applied.Add(r);
    return Status::OK();
  };
  Tailer tailer(cluster_.Options("nn2-tailer"), apply);
  ASSERT_OK(writer_->StartSegment(1));
  ASSERT_OK(WriteRange(writer_.get(), 1, 50));
  tailer.Start(1);
  ASSERT_TRUE(WaitFor([&] { return tailer.next_txid() == 51; }, 20000));
  EXPECT_EQ(tailer.CatchUpStopped(51, 60, apply, 1000).code(), StatusCode::kIllegalState);
  tailer.Stop();
  ASSERT_OK(WriteRange(writer_.get(), 51, 1500));  // more than one read's worth
  ASSERT_OK(tailer.CatchUpStopped(51, 1500, apply, 20000));
  ExpectExactly(applied.Get(), 1500);
  // Nothing beyond `to`, however much more is committed.
  ASSERT_OK(WriteRange(writer_.get(), 1501, 1600));
  ASSERT_OK(tailer.CatchUpStopped(1501, 1550, apply, 20000));
  ExpectExactly(applied.Get(), 1550);
  tailer.Start(1551);
  ASSERT_TRUE(WaitFor([&] { return tailer.next_txid() == 1601; }, 20000));
  ExpectExactly(applied.Get(), 1600);
}

TEST_F(TailerTest, ApplyFailureStopsTheTailer) {
  constexpr int64_t kFailAt = 57;
  const Status kError = Status::Corruption("cannot apply txid " + std::to_string(kFailAt));
  ASSERT_OK(writer_->StartSegment(1));
  ASSERT_OK(WriteRange(writer_.get(), 1, 100));
  Applied applied;
  std::atomic<int> calls_after_failure{0};
  std::atomic<bool> failed{false};
  Tailer tailer(cluster_.Options("nn2-tailer"), [&](const std::vector<EditRecord>& batch) {
    if (failed) ++calls_after_failure;
    // Applies a batch record by record, as the namenode does, up to the bad edit.
    for (const EditRecord& r : batch) {
      if (r.txid == kFailAt) {
        failed = true;
        return kError;
      }
      applied.Add(r);
    }
    return Status::OK();
  });
  tailer.Start(1);
  ASSERT_TRUE(WaitFor([&] { return !tailer.health().ok(); }, 20000))
      << "next_txid " << tailer.next_txid() << ", applied " << applied.size();
  const Status health = tailer.health();
  EXPECT_EQ(health.code(), kError.code()) << health;
  EXPECT_EQ(health.message(), kError.message()) << health;
  // More committed edits arrive; the stopped tailer reads and applies none of them.
  ASSERT_OK(WriteRange(writer_.get(), 101, 150));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(calls_after_failure.load(), 0);
  EXPECT_LE(tailer.next_txid(), kFailAt);
  EXPECT_EQ(tailer.health().code(), kError.code());
  ExpectExactly(applied.Get(), kFailAt - 1);
  tailer.Stop();
  EXPECT_EQ(tailer.health().code(), kError.code());
}

TEST_F(TailerTest, CatchUpTimesOutOnTheInjectedClock) {
  // Txids 1..10 are committed; 11..20 are never written.
  ASSERT_OK(writer_->StartSegment(1));
  ASSERT_OK(WriteRange(writer_.get(), 1, 10));
  constexpr int64_t kTimeoutMs = 3600 * 1000;  // one hour of fake time
  // Shared with the CatchUp thread, which is left detached (not joined) if it never returns,
  // so that a CatchUp that waits on real time fails this test instead of hanging it.
  struct State {
    std::unique_ptr<jn::QuorumReader> reader;
    FakeClock clock;
    Applied applied;
    std::atomic<bool> returned{false};
    Status result;
  };
  auto st = std::make_shared<State>();
  st->reader = jn::QuorumReader::Create(cluster_.Options("nn2"));
  const int64_t start_ns = st->clock.MonotonicNanos();
  std::thread catch_up([st] {
    Status s = Tailer::CatchUp(
        st->reader.get(), 1, 20,
        [st](const std::vector<EditRecord>& batch) {
          for (const EditRecord& r : batch) st->applied.Add(r);
          return Status::OK();
        },
        kTimeoutMs, &st->clock);
    st->result = s;
    st->returned = true;
  });
  // The fake clock stands still: however long in real time, CatchUp keeps trying.
  const bool read_all = WaitFor([&] { return st->applied.size() == 10; }, 20000);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const bool returned_early = st->returned.load();
  // Then fake time runs (one minute per real millisecond) until CatchUp gives up.
  std::atomic<bool> stop_advancing{false};
  std::thread advancer([&] {
    while (!stop_advancing && !st->returned) {
      st->clock.Advance(60LL * 1000 * 1000 * 1000);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  const bool done = WaitFor([&] { return st->returned.load(); }, 30000);
  stop_advancing = true;
  advancer.join();
  if (!done) {
    catch_up.detach();
    FAIL() << "CatchUp did not return within 30 s of real time after its fake timeout passed";
  }
  catch_up.join();
  ASSERT_TRUE(read_all) << st->applied.size() << " edits applied";
  ASSERT_FALSE(returned_early) << "returned before the fake clock moved: " << st->result;
  EXPECT_TRUE(st->result.IsTimedOut()) << st->result;
  EXPECT_NE(st->result.message().find("reached txid 10 of 20"), std::string::npos) << st->result;
  // It gave up only once the fake clock had passed the timeout.
  EXPECT_GE(st->clock.MonotonicNanos() - start_ns, kTimeoutMs * 1000 * 1000);
  ExpectExactly(st->applied.Get(), 10);
}

}  // namespace
}  // namespace qj::nn
