// JournalChannel against a real journalnode: pipelined journal() calls answered in order,
// typed errors, a dead node failing calls fast instead of blocking, and which thread
// writes a request (the caller's while the connection is idle, else the sender thread).
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <future>
#include <mutex>
#include <set>
#include <thread>

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

// Opens epoch 1 and segment 1 on the channel's journalnode.
void OpenSegment(JnCluster& cluster, JournalChannel& ch) {
  Waiter<int64_t> epoch;
  ch.NewEpoch(cluster.ns(), 1, epoch.cb());
  ASSERT_OK(epoch.get().status);
  Waiter<Void> start;
  ch.StartLogSegment(jn::WriterHeader{1, -1}, 1, 1, start.cb());
  ASSERT_OK(start.get().status);
}

// Issues one-edit batches for txids 1..n (payload(txid)) back to back, without waiting for
// answers, waits for all of them, and checks that each succeeded and that they were
// answered in txid order.
void JournalBatches(JournalChannel& ch, int n,
                    const std::function<std::string(int64_t txid)>& payload) {
  std::mutex mu;
  std::vector<int64_t> order;
  std::vector<Status> results(n);
  std::promise<void> all_done;
  int remaining = n;
  for (int i = 0; i < n; ++i) {
    auto rec = std::make_shared<std::string>();
    AppendRecord(rec.get(), i + 1, 1, payload(i + 1));
    ch.Journal(jn::WriterHeader{1, -1}, 1, i + 1, 1, rec, [&, i](Reply<Void> r) {
      std::lock_guard<std::mutex> l(mu);
      order.push_back(i + 1);
      results[i] = r.status;
      if (--remaining == 0) all_done.set_value();
    });
  }
  all_done.get_future().wait();
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(results[i].ok()) << "batch " << i + 1 << ": " << results[i];
    ASSERT_EQ(order[i], i + 1);
  }
}

TEST(ChannelTest, JournalCallsArePipelinedAndAnsweredInOrder) {
  JnCluster cluster(1);
  ASSERT_OK(cluster.Format());
  auto channels = jn::MakeChannels(cluster.Options("chan"));
  JournalChannel& ch = *channels[0];
  OpenSegment(cluster, ch);
  const jn::WriterHeader h{1, -1};

  // 200 one-edit batches issued back to back, without waiting for answers.
  constexpr int kBatches = 200;
  JournalBatches(ch, kBatches, [](int64_t txid) { return TestPayload("c", txid); });
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

// A real Thrift transport that records which thread wrote each request.
class RecordingTransport final : public jn::JournalTransport {
 public:
  explicit RecordingTransport(std::unique_ptr<jn::JournalTransport> inner)
      : inner_(std::move(inner)) {}
  Status Connect() override { return inner_->Connect(); }
  void Shutdown() override { inner_->Shutdown(); }
  void Close() override { inner_->Close(); }
  Status Send(jn::ChannelCall* call) override {
    {
      std::lock_guard<std::mutex> l(mu_);
      send_threads_.push_back(std::this_thread::get_id());
    }
    return inner_->Send(call);
  }
  Status Recv(jn::ChannelCall* call) override { return inner_->Recv(call); }
  std::vector<std::thread::id> send_threads() {
    std::lock_guard<std::mutex> l(mu_);
    return send_threads_;
  }

 private:
  std::unique_ptr<jn::JournalTransport> inner_;
  std::mutex mu_;
  std::vector<std::thread::id> send_threads_;
};

struct RecordedChannel {
  RecordingTransport* transport;
  std::unique_ptr<JournalChannel> channel;
};

RecordedChannel MakeRecordedChannel(JnCluster& cluster) {
  jn::ChannelOptions o;
  o.journal_id = cluster.Options("chan").journal_id;
  o.owner = "chan";
  const HostPort hp = cluster.Options("chan").journalnodes[0];
  auto t = std::make_unique<RecordingTransport>(jn::NewThriftTransport(hp, jn::TransportOptions{}));
  RecordingTransport* raw = t.get();
  return {raw, std::make_unique<JournalChannel>(0, hp, o, std::move(t))};
}

// A journalnode with epoch 1 and segment 1 open, reached by a channel whose transport
// records which thread writes each request.
class RecordedChannelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(cluster_.Format());
    rc_ = MakeRecordedChannel(cluster_);
    OpenSegment(cluster_, *rc_.channel);  // the first call connects, on the sender thread
  }
  JournalChannel& ch() { return *rc_.channel; }
  std::vector<std::thread::id> send_threads() { return rc_.transport->send_threads(); }

  JnCluster cluster_{1};
  RecordedChannel rc_{};
};

TEST_F(RecordedChannelTest, CallsOnAnIdleConnectionAreWrittenOnTheCallersThread) {
  JournalChannel& ch = this->ch();
  const size_t before = send_threads().size();
  // One edit at a time, each answered before the next: the lone-edit path.
  constexpr int kEdits = 20;
  for (int i = 1; i <= kEdits; ++i) {
    auto rec = std::make_shared<std::string>();
    AppendRecord(rec.get(), i, 1, TestPayload("lone", i));
    Waiter<Void> w;
    ch.Journal(jn::WriterHeader{1, i - 1}, 1, i, 1, rec, w.cb());
    ASSERT_OK(w.get().status);
  }
  const auto threads = send_threads();
  ASSERT_EQ(threads.size(), before + kEdits);
  for (size_t i = before; i < threads.size(); ++i) {
    EXPECT_EQ(threads[i], std::this_thread::get_id()) << "request " << i;
  }
  EXPECT_GE(ch.inline_sends(), kEdits);
}

TEST_F(RecordedChannelTest, ABacklogGoesThroughTheSenderThreadInOrder) {
  // 100 batches of 8 KiB issued without waiting: past the inline bound, later ones queue.
  constexpr int kBatches = 100;
  JournalBatches(ch(), kBatches, [](int64_t txid) {
    return std::string(8 << 10, static_cast<char>('a' + txid % 26));
  });
  const auto threads = send_threads();
  std::set<std::thread::id> writers(threads.begin(), threads.end());
  EXPECT_GE(writers.size(), 2u) << "the sender thread wrote none of the backlog";
  EXPECT_LT(ch().inline_sends(), kBatches);
}

TEST_F(RecordedChannelTest, StopWhileCallersWriteAnswersEveryCallOnce) {
  JournalChannel& ch = this->ch();
  std::atomic<int> issued{0};
  std::atomic<int> answered{0};
  std::atomic<bool> go{true};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&] {
      while (go.load()) {
        ++issued;
        ch.Heartbeat(jn::WriterHeader{1, -1}, [&](Reply<Void>) { ++answered; });
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ch.Stop();
  go = false;
  for (auto& t : callers) t.join();
  // Calls after Stop fail at submission; every call is answered exactly once.
  ASSERT_TRUE(WaitFor([&] { return answered.load() == issued.load(); }, 5000))
      << answered.load() << " of " << issued.load();
  EXPECT_GT(ch.inline_sends(), 0);
}

}  // namespace
}  // namespace qj::testing
