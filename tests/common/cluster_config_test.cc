#include "common/cluster_config.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

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
lease.renew_interval_ms = 500
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
  EXPECT_EQ(c->lease_renew_interval_ms, 500);
  EXPECT_EQ(c->lease_acquire_interval_ms, 0);  // not set
}

constexpr char kMinimal[] = "namespace.id = 1\ncluster.id = c\njournal.uri = qjournal://a:1/ns1\n";

TEST(ClusterConfigTest, UnknownKeyNamesFileLineAndKey) {
  auto r = ParseClusterConfig(std::string(kMinimal) + "# comment\n\nlease.duraton_ms = 9\n",
                              "conf/cluster.conf");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("conf/cluster.conf:6: unknown key 'lease.duraton_ms'"),
            std::string::npos)
      << r.status();
  // A namenode whose id is not in namenode.ids is unknown too, with a hint.
  r = ParseClusterConfig(std::string(kMinimal) +
                             "namenode.ids = nn1\nnamenode.nn1.host = h\n"
                             "namenode.nn1.rpc_port = 1\nnamenode.nn2.host = h\n",
                         "f");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("f:7: unknown key 'namenode.nn2.host' (is its id in"),
            std::string::npos)
      << r.status();
  // A key set twice.
  r = ParseClusterConfig(std::string(kMinimal) + "cluster.id = d\n", "f");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("f:4: duplicate key 'cluster.id' (first set on line 2)"),
            std::string::npos)
      << r.status();
  // failoverd's settings are typed and checked here (no LOG(FATAL) in failoverd).
  r = ParseClusterConfig(std::string(kMinimal) + "lease.renew_interval_ms = soon\n", "f");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("f:4: lease.renew_interval_ms"), std::string::npos)
      << r.status();
  r = ParseClusterConfig(std::string(kMinimal) + "lease.acquire_interval_ms = 0\n", "f");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("must be > 0"), std::string::npos) << r.status();
}

// Every key of the shipped conf/cluster.conf is known.
TEST(ClusterConfigTest, ShippedClusterFileLoads) {
  auto c = LoadClusterConfig(std::string(QJ_SOURCE_DIR) + "/conf/cluster.conf");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->lease_renew_interval_ms, 250);
  EXPECT_EQ(c->lease_acquire_interval_ms, 100);
  EXPECT_EQ(c->health_journal_stall_ms, 1000);
  // Every daemon of the shipped cluster has a status page, on ports of its own.
  ASSERT_EQ(c->journal_http_ports.size(), 3u);
  std::set<int> ports;
  for (const HostPort& jn : c->journal.journalnodes) ports.insert(jn.port);
  for (int p : c->journal_http_ports) ports.insert(p);
  for (const NamenodeInfo& nn : c->namenodes) {
    EXPECT_GT(nn.http_port, 0) << nn.id;
    EXPECT_GT(nn.failoverd_http_port, 0) << nn.id;
    ports.insert({nn.rpc_port, nn.failoverd_port, nn.http_port, nn.failoverd_http_port});
  }
  EXPECT_EQ(ports.size(), 3u + 3u + 4u * c->namenodes.size()) << "two daemons share a port";
}

TEST(ClusterConfigTest, HttpPorts_ParsedAndChecked) {
  const std::string base =
      "namespace.id = 1\ncluster.id = c\n"
      "journal.uri = qjournal://127.0.0.1:1;127.0.0.1:2;127.0.0.1:3/ns1\n"
      "namenode.ids = nn1\nnamenode.nn1.host = 127.0.0.1\nnamenode.nn1.rpc_port = 10\n";
  auto c = ParseClusterConfig(base +
                                  "namenode.nn1.http_port = 11\n"
                                  "namenode.nn1.failoverd_http_port = 12\n"
                                  "journal.http_ports = 21, 22,23\n",
                              "t");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->namenodes[0].http_port, 11);
  EXPECT_EQ(c->namenodes[0].failoverd_http_port, 12);
  EXPECT_EQ(c->journal_http_ports, (std::vector<int>{21, 22, 23}));
  c = ParseClusterConfig(base, "t");  // all optional
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->namenodes[0].failoverd_http_port, 0);
  EXPECT_TRUE(c->journal_http_ports.empty());

  auto bad = ParseClusterConfig(base + "journal.http_ports = 21,22\n", "t.conf");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "t.conf:7: journal.http_ports: 2 ports for 3 journalnodes in journal.uri");
  bad = ParseClusterConfig(base + "journal.http_ports = 21,x,23\n", "t.conf");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("t.conf:7"), std::string::npos) << bad.status();
  bad = ParseClusterConfig(base + "namenode.nn1.failoverd_http_port = 70000\n", "t.conf");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("out of range"), std::string::npos) << bad.status();
  bad = ParseClusterConfig(base + "namenode.nn2.failoverd_http_port = 1\n", "t.conf");
  ASSERT_FALSE(bad.ok());  // nn2 is not in namenode.ids: strict
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
