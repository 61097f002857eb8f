#include "common/cluster_config.h"

#include <gtest/gtest.h>

namespace qj {
namespace {

TEST(ClusterConfigTest, ParsesFullFile) {
  const char* text = R"(
# comment
namespace.id = 42
cluster.id = c1
journal.uri = qjournal://127.0.0.1:1;127.0.0.1:2;127.0.0.1:3/ns1
namenode.ids = nn1, nn2
namenode.nn1.host = 127.0.0.1
namenode.nn1.rpc_port = 8020
namenode.nn1.failoverd_port = 8019
namenode.nn2.host = 127.0.0.1
namenode.nn2.rpc_port = 8021
lease.duration_ms = 4000
lease.drift = 0.1
custom.key = v
)";
  auto c = ParseClusterConfig(text, "t");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->namespace_id, 42);
  EXPECT_EQ(c->journal.journal_id, "ns1");
  ASSERT_EQ(c->journal.journalnodes.size(), 3u);
  EXPECT_EQ(c->journal.journalnodes[2].port, 3);
  ASSERT_EQ(c->namenodes.size(), 2u);
  EXPECT_EQ(c->FindNamenode("nn1")->failoverd_port, 8019);
  EXPECT_EQ(c->lease_duration_ms, 4000);
  EXPECT_DOUBLE_EQ(c->lease_drift, 0.1);
  EXPECT_EQ(c->extra.at("custom.key"), "v");
}

TEST(ClusterConfigTest, BadInputsNameTheProblem) {
  EXPECT_FALSE(ParseJournalUri("http://a:1/x").ok());
  EXPECT_FALSE(ParseJournalUri("qjournal://a:1;a:2/x").ok());  // even count
  EXPECT_FALSE(ParseJournalUri("qjournal://a:1").ok());
  EXPECT_FALSE(ParseJournalUri("qjournal://a:99999/x").ok());
  EXPECT_FALSE(ParseJournalUri("qjournal://a:1/x y").ok());
  auto r = ParseClusterConfig("namespace.id = x\n", "f.conf");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("f.conf"), std::string::npos);
  EXPECT_FALSE(ParseClusterConfig("garbage line\n", "f").ok());
}

}  // namespace
}  // namespace qj
