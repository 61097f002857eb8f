// The journal client's waits and backoff run on the Clock it is given, not on the host's:
// JournalChannel's reconnect backoff and CallQuorum's timeout, with a FakeClock that only
// the test moves.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "journalnode/client/journal_channel.h"
#include "journalnode/client/quorum_call.h"
#include "tests/support/fake_clock.h"

namespace qj::jn {
namespace {

// A journalnode nobody can connect to; counts the attempts.
class RefusingTransport final : public JournalTransport {
 public:
  explicit RefusingTransport(std::atomic<int>* connects) : connects_(connects) {}
  Status Connect() override {
    connects_->fetch_add(1);
    return Status::NetworkError("refused (test)");
  }
  void Shutdown() override {}
  void Close() override {}
  Status Send(ChannelCall*) override { return Status::NetworkError("not connected"); }
  Status Recv(ChannelCall*) override { return Status::NetworkError("not connected"); }

 private:
  std::atomic<int>* const connects_;
};

std::unique_ptr<JournalChannel> RefusedChannel(int index, const Clock* clock,
                                               std::atomic<int>* connects) {
  ChannelOptions o;
  o.journal_id = "j";
  o.owner = "test";
  o.min_backoff_ms = 20;
  o.max_backoff_ms = 20;
  o.clock = clock;
  return std::make_unique<JournalChannel>(index, HostPort{"127.0.0.1", 9}, o,
                                          std::make_unique<RefusingTransport>(connects));
}

Status IsFormattedStatus(JournalChannel* ch) {
  std::promise<Status> p;
  ch->IsFormatted([&p](Reply<bool> r) { p.set_value(r.status); });
  return p.get_future().get();
}

TEST(ClientClock, ChannelBackoffRunsOnItsClock) {
  FakeClock clock;
  std::atomic<int> connects{0};
  auto ch = RefusedChannel(0, &clock, &connects);
  Status first = IsFormattedStatus(ch.get());
  EXPECT_EQ(first.code(), StatusCode::kNetworkError) << first;
  EXPECT_EQ(connects.load(), 1);
  // Far more real time than the 20 ms backoff, none on the channel's clock: still backing
  // off, the call fails without a connect.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  Status second = IsFormattedStatus(ch.get());
  EXPECT_NE(second.message().find("reconnecting in 20 ms"), std::string::npos) << second;
  EXPECT_EQ(connects.load(), 1);
  // The channel's clock passes the backoff: the next call connects again.
  clock.Advance(21 * kNanosPerMilli);
  Status third = IsFormattedStatus(ch.get());
  EXPECT_NE(third.message().find("refused (test)"), std::string::npos) << third;
  EXPECT_EQ(connects.load(), 2);
}

TEST(ClientClock, CallQuorumTimesOutOnItsClock) {
  // Three journalnodes that never answer and a one-hour timeout that only the given clock
  // passes (a helper thread moves it a minute every few real milliseconds): timed on any
  // other clock, the call would outlast this test's CTest timeout.
  FakeClock clock;
  std::atomic<int> connects{0};
  std::vector<std::unique_ptr<JournalChannel>> channels;
  for (int i = 0; i < 3; ++i) channels.push_back(RefusedChannel(i, &clock, &connects));
  std::vector<ReplyCallback<bool>> unanswered;
  std::atomic<bool> done{false};
  std::thread mover([&] {
    while (!done.load()) {
      clock.Advance(60'000 * kNanosPerMilli);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  auto r = CallQuorum<bool>(
      ChannelPointers(channels), 2, 3600 * 1000, "isFormatted",
      [&](JournalChannel&, ReplyCallback<bool> cb) { unanswered.push_back(std::move(cb)); },
      /*wait_all=*/false, &clock);
  done.store(true);
  mover.join();
  EXPECT_EQ(r.status.code(), StatusCode::kTimedOut) << r.status;
  EXPECT_EQ(r.successes(), 0);
  // Late answers are dropped.
  for (auto& cb : unanswered) cb(Reply<bool>{Status::OK(), true, -1});
}

}  // namespace
}  // namespace qj::jn
