#include "journalnode/lease_table.h"

#include <gtest/gtest.h>

#include "tests/support/fake_clock.h"

namespace qj::jn {
namespace {

constexpr int64_t kMs = kNanosPerMilli;

class LeaseTableTest : public ::testing::Test {
 protected:
  LeaseTableTest() : table_(Options()) { clock_.Advance(10'000 * kMs); }  // past the grace
  LeaseOptions Options() {
    LeaseOptions o;
    o.max_duration_ms = 5000;
    o.grace_ms = 10000;
    o.clock = &clock_;
    o.node_name = "jn1";
    return o;
  }
  FakeClock clock_;
  LeaseTable table_;
};

TEST_F(LeaseTableTest, GrantDenyRenewExpire) {
  auto g = table_.Acquire("ns1", "fo1", 3000);
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(g->granted);
  auto d = table_.Acquire("ns1", "fo2", 3000);
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->granted);
  EXPECT_EQ(d->holder, "fo1");
  EXPECT_EQ(d->remaining_ms, 3000);
  EXPECT_TRUE(table_.Acquire("other", "fo2", 3000)->granted);  // per journal
  clock_.Advance(2000 * kMs);
  EXPECT_TRUE(table_.Acquire("ns1", "fo1", 3000)->granted);  // renew: expiry now + 3000
  clock_.Advance(2500 * kMs);
  d = table_.Acquire("ns1", "fo2", 3000);
  EXPECT_FALSE(d->granted);
  EXPECT_EQ(d->remaining_ms, 500);
  clock_.Advance(500 * kMs);  // exactly at expiry: expired
  EXPECT_TRUE(table_.Acquire("ns1", "fo2", 3000)->granted);
  EXPECT_FALSE(table_.Acquire("ns1", "fo1", 3000)->granted);
}

TEST_F(LeaseTableTest, ReleaseByHolderOnly) {
  ASSERT_TRUE(table_.Acquire("ns1", "fo1", 3000)->granted);
  Status s = table_.Release("ns1", "fo2");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("held by fo1"), std::string::npos) << s;
  EXPECT_FALSE(table_.Acquire("ns1", "fo2", 3000)->granted);
  EXPECT_TRUE(table_.Release("ns1", "fo1").ok());
  EXPECT_TRUE(table_.Acquire("ns1", "fo2", 3000)->granted);
  EXPECT_TRUE(table_.Release("nobody-holds-this", "x").ok());
}

TEST_F(LeaseTableTest, BadArguments_AreInvalid) {
  EXPECT_EQ(table_.Acquire("ns1", "fo1", 5001).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(table_.Acquire("ns1", "fo1", 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(table_.Acquire("ns1", "", 100).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(table_.Acquire("ns1", "fo1", 5000)->granted);
}

TEST(LeaseTableGraceTest, RestartGrantsNothingDuringGrace) {
  FakeClock clock;
  LeaseOptions o;
  o.max_duration_ms = 3000;
  o.grace_ms = 3000;
  o.clock = &clock;
  LeaseTable table(o);  // a freshly (re)started journalnode
  auto g = table.Acquire("ns1", "fo1", 1000);
  ASSERT_TRUE(g.ok());
  EXPECT_FALSE(g->granted);
  EXPECT_EQ(g->holder, "");
  EXPECT_EQ(g->remaining_ms, 3000);
  clock.Advance(2999 * kMs);
  EXPECT_FALSE(table.Acquire("ns1", "fo1", 1000)->granted);
  clock.Advance(1 * kMs);
  EXPECT_TRUE(table.Acquire("ns1", "fo1", 1000)->granted);
}

}  // namespace
}  // namespace qj::jn
