// LeaseClient over JournalChannels to real journalnode processes: grant, deny, release,
// majority with a dead and with a paused journalnode, and the restart grace period.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "journalnode/client/lease_client.h"
#include "tests/support/jn_cluster.h"

namespace qj::jn {
namespace {

using qj::testing::JnCluster;

JnCluster::Config ShortGrace() {
  JnCluster::Config o;
  o.extra_flags = {"--journalnode_lease_grace_ms=1500", "--journalnode_lease_max_duration_ms=1500"};
  return o;
}

std::unique_ptr<LeaseClient> Client(const JnCluster& c, const std::string& holder) {
  LeaseClientOptions o;
  o.journal_id = c.journal_id();
  o.holder_id = holder;
  o.duration_ms = 1500;
  o.margin_ms = 100;
  o.round_timeout_ms = 500;
  return NewLeaseClient(o, c.addresses(), 500, RealClock::Get());
}

// Polls until the journalnodes' start-up grace is over (a grant succeeds).
Result<int64_t> AcquireWithin(LeaseClient* c, int timeout_ms) {
  auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    auto r = c->AcquireOrRenew();
    if (r.ok() || std::chrono::steady_clock::now() > give_up) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// Keeps renewing until every journalnode's start-up grace (begun before `started`) is
// over, so that later rounds can count on all of them.
void RenewPastGrace(LeaseClient* c, std::chrono::steady_clock::time_point started) {
  while (std::chrono::steady_clock::now() < started + std::chrono::milliseconds(1800)) {
    (void)c->AcquireOrRenew();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

TEST(LeaseOverJournalnodes, GrantDenyReleaseAndMajority) {
  JnCluster cluster(ShortGrace());
  // After every journalnode listens, hence after each one's grace began: on a loaded
  // machine the processes start well after the test does.
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(cluster.Format().ok());
  auto a = Client(cluster, "nn1");
  auto b = Client(cluster, "nn2");
  // Nothing is granted during the grace period after start-up.
  ASSERT_TRUE(AcquireWithin(a.get(), 10000).ok());
  EXPECT_TRUE(a->IsHeld());
  auto rb = b->AcquireOrRenew();
  ASSERT_FALSE(rb.ok());
  EXPECT_EQ(b->last_other_holder(), "nn1");
  RenewPastGrace(a.get(), started);
  // Renewal with one journalnode dead: still a majority.
  cluster.node(0).Kill();
  auto r0 = a->AcquireOrRenew();
  ASSERT_TRUE(r0.ok()) << r0.status();
  // With a second journalnode paused there is no majority: rounds fail within the round
  // timeout (the paused node's call times out in the background) and the earlier deadline
  // still stands. (SIGSTOP takes effect asynchronously: poll for the first failed round.)
  cluster.node(1).Stop();
  bool failed = false;
  for (int i = 0; i < 10 && !failed; ++i) {
    auto r = a->AcquireOrRenew();
    failed = !r.ok();
    if (failed) {
      EXPECT_TRUE(a->IsHeld());
    }
  }
  EXPECT_TRUE(failed);
  cluster.node(1).Continue();
  ASSERT_TRUE(AcquireWithin(a.get(), 5000).ok());
  // Release: the other side wins at once.
  a->Release();
  EXPECT_FALSE(a->IsHeld());
  ASSERT_TRUE(AcquireWithin(b.get(), 2000).ok());
  EXPECT_FALSE(a->AcquireOrRenew().ok());
}

TEST(LeaseOverJournalnodes, RestartedJournalnodesForgetNothingUnsafe) {
  JnCluster cluster(ShortGrace());
  ASSERT_TRUE(cluster.Format().ok());
  auto a = Client(cluster, "nn1");
  auto b = Client(cluster, "nn2");
  ASSERT_TRUE(AcquireWithin(a.get(), 10000).ok());
  // Two journalnodes restart and forget a's grant: during their grace b gets nothing.
  cluster.node(0).Kill();
  cluster.node(1).Kill();
  cluster.node(0).Start();
  cluster.node(1).Start();
  auto rb = b->AcquireOrRenew();
  EXPECT_FALSE(rb.ok());
  // After the grace (and a's lease) ran out, b wins.
  ASSERT_TRUE(AcquireWithin(b.get(), 10000).ok());
}

}  // namespace
}  // namespace qj::jn
