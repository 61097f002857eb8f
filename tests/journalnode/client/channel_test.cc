// JournalChannel against a real journalnode: pipelined journal() calls answered in order,
// typed errors, and a dead node failing calls fast instead of blocking.
#include <gtest/gtest.h>

#include <future>

#include "journalnode/client/journal_channel.h"
#include "tests/journalnode/client/client_test_util.h"

namespace qj::testing {
namespace {

using jn::JournalChannel;
using jn::Reply;
using jn::Void;

template <typename T>
struct Waiter {
  std::promise<Reply<T>> p;
  jn::ReplyCallback<T> cb() {
    return [this](Reply<T> r) { p.set_value(std::move(r)); };
  }
  Reply<T> get() { return p.get_future().get(); }
};

TEST(ChannelTest, JournalCallsArePipelinedAndAnsweredInOrder) {
  JnCluster cluster(1);
  ASSERT_OK(cluster.Format());
  auto channels = jn::MakeChannels(cluster.Options("chan"));
  JournalChannel& ch = *channels[0];
  Waiter<int64_t> epoch;
  ch.NewEpoch(cluster.ns(), 1, epoch.cb());
  ASSERT_OK(epoch.get().status);
  const jn::WriterHeader h{1, -1};
  Waiter<Void> start;
  ch.StartLogSegment(h, 1, 1, start.cb());
  ASSERT_OK(start.get().status);

  // 200 one-edit batches issued back to back, without waiting for answers.
  constexpr int kBatches = 200;
  std::mutex mu;
  std::vector<int64_t> order;
  std::vector<Status> results(kBatches);
  std::promise<void> all_done;
  int remaining = kBatches;
  for (int i = 0; i < kBatches; ++i) {
    auto rec = std::make_shared<std::string>();
    AppendRecord(rec.get(), i + 1, 1, TestPayload("c", i + 1));
    ch.Journal(h, 1, i + 1, 1, rec, [&, i](Reply<Void> r) {
      std::lock_guard<std::mutex> l(mu);
      order.push_back(i + 1);
      results[i] = r.status;
      if (--remaining == 0) all_done.set_value();
    });
  }
  all_done.get_future().wait();
  for (int i = 0; i < kBatches; ++i)
    ASSERT_TRUE(results[i].ok()) << "batch " << i + 1 << ": " << results[i];
  for (int i = 0; i < kBatches; ++i) ASSERT_EQ(order[i], i + 1);
  printf("max pipelined journal calls on one connection: %zu\n", ch.max_inflight());
  EXPECT_GT(ch.max_inflight(), 1u);

  // A gap is a typed OutOfSync naming the txid the journalnode expects.
  auto rec = std::make_shared<std::string>();
  AppendRecord(rec.get(), kBatches + 5, 1, "gap");
  Waiter<Void> gap;
  ch.Journal(h, 1, kBatches + 5, 1, rec, gap.cb());
  Reply<Void> g = gap.get();
  EXPECT_TRUE(g.status.IsOutOfSync()) << g.status;
  EXPECT_EQ(g.expected_txid, kBatches + 1);
  // An old epoch is a typed StaleEpoch naming the promise.
  Waiter<Void> stale;
  ch.Heartbeat(jn::WriterHeader{0, -1}, stale.cb());
  Reply<Void> s = stale.get();
  EXPECT_TRUE(s.status.IsStaleEpoch()) << s.status;
  EXPECT_EQ(s.status.promised_epoch(), 1);
}

TEST(ChannelTest, DeadNodeFailsCallsQuickly) {
  JnCluster cluster(1);
  cluster.node(0).Kill();
  auto channels = jn::MakeChannels(cluster.Options("chan"));
  for (int i = 0; i < 5; ++i) {
    Waiter<jn::JournalState> w;
    channels[0]->GetJournalState(w.cb());
    auto r = w.get();
    EXPECT_EQ(r.status.code(), StatusCode::kNetworkError) << r.status;
  }
  // It reconnects once the node is back.
  cluster.node(0).Restart();
  ASSERT_TRUE(WaitFor(
      [&] {
        Waiter<bool> w;
        channels[0]->IsFormatted(w.cb());
        return w.get().ok();
      },
      10000));
}

}  // namespace
}  // namespace qj::testing
