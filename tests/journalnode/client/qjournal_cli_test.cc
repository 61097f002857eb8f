// The qjournal CLI against a 3-node mini cluster: format, append, dump, status, and the
// exit codes for bad arguments (2) and an unreachable quorum (1).
#include <gtest/gtest.h>

#include <boost/property_tree/json_parser.hpp>
#include <boost/property_tree/ptree.hpp>
#include <chrono>
#include <cstring>
#include <random>
#include <sstream>
#include <thread>

#include "tests/journalnode/client/client_test_util.h"

namespace qj::testing {
namespace {

struct CliRun {
  int code;
  std::string out;
};

CliRun Qjournal(std::vector<std::string> args) {
  args.insert(args.begin(), BinaryPath("journalnode/client/qjournal"));
  CliRun r;
  r.code = RunCommand(args, &r.out, 60000);
  return r;
}

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

TEST(QjournalCliTest, FormatAppendDumpStatus) {
  JnCluster cluster(3);
  const std::string uri = "--journal_uri=" + cluster.uri();
  CliRun r = Qjournal({uri, "format", "--namespace_id=42", "--cluster_id=test-cluster"});
  ASSERT_EQ(r.code, 0) << r.out;
  // A second format without --force refuses to clobber the journal.
  r = Qjournal({uri, "format", "--namespace_id=42", "--cluster_id=test-cluster"});
  EXPECT_EQ(r.code, 1) << r.out;
  // A writer of another namespace is refused.
  r = Qjournal({uri, "append", "--count=1", "--namespace_id=7", "--cluster_id=other"});
  EXPECT_EQ(r.code, 1) << r.out;

  r = Qjournal({uri, "append", "--count=25", "--size=64"});
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(Contains(r.out, "appended txids 1..25, committed")) << r.out;
  r = Qjournal({uri, "append", "--count=5"});
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(Contains(r.out, "appended txids 26..30, committed")) << r.out;

  r = Qjournal({uri, "dump"});
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(Contains(r.out, "30 edits, txids 1..30, no gaps")) << r.out;
  EXPECT_TRUE(Contains(r.out, "\n26 ")) << r.out;
  r = Qjournal({uri, "dump", "--from=11", "--max=5"});
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(Contains(r.out, "5 edits, txids 11..15, no gaps")) << r.out;

  r = Qjournal({uri, "status"});
  ASSERT_EQ(r.code, 0) << r.out;
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(Contains(r.out, cluster.node(i).address().ToString())) << r.out;
  }
  EXPECT_TRUE(Contains(r.out, "3 of 3 journalnodes reachable")) << r.out;
  EXPECT_TRUE(Contains(r.out, "finalized[26..30]")) << r.out;

  // The cluster file names this journal as the namenodes': append refuses it (one line,
  // exit 1, nothing written), unless forced.
  const std::string conf = "--cluster_conf=" + cluster.WriteClusterConf();
  r = Qjournal({conf, "append", "--count=1"});
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(Contains(r.out, "refusing to append to journal")) << r.out;
  EXPECT_TRUE(Contains(r.out, "--force_unsafe_append_to_cluster_journal")) << r.out;
  EXPECT_FALSE(Contains(r.out, "usage: qjournal")) << r.out;
  // Naming the same journal by URI next to the cluster file is refused the same way.
  r = Qjournal({conf, uri, "append", "--count=1"});
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(Contains(r.out, "refusing to append to journal")) << r.out;
  r = Qjournal({uri, "dump"});
  EXPECT_TRUE(Contains(r.out, "30 edits, txids 1..30, no gaps")) << r.out;
  // Read-only commands take the cluster file as before.
  r = Qjournal({conf, "status"});
  EXPECT_EQ(r.code, 0) << r.out;
  r = Qjournal({conf, "append", "--count=1", "--force_unsafe_append_to_cluster_journal"});
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(Contains(r.out, "appended txids 31..31, committed")) << r.out;
  // A scratch journal on the same journalnodes is fine next to the cluster file.
  const std::string scratch =
      "--journal_uri=" + cluster.uri().substr(0, cluster.uri().rfind('/')) + "/scratch";
  r = Qjournal({scratch, "format", "--namespace_id=42", "--cluster_id=test-cluster"});
  ASSERT_EQ(r.code, 0) << r.out;
  r = Qjournal({conf, scratch, "append", "--count=2"});
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(Contains(r.out, "appended txids 1..2, committed")) << r.out;

  // A minority down: still a quorum.
  cluster.node(0).Kill();
  r = Qjournal({uri, "append", "--count=3"});
  EXPECT_EQ(r.code, 0) << r.out;
  r = Qjournal({uri, "status"});
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(Contains(r.out, "2 of 3 journalnodes reachable")) << r.out;
  // A majority down: exit 1 with a clear message.
  cluster.node(1).Kill();
  r = Qjournal({uri, "status", "--rpc_timeout_ms=500"});
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(Contains(r.out, "NO QUORUM")) << r.out;
  r = Qjournal({uri, "append", "--count=1", "--rpc_timeout_ms=500"});
  EXPECT_EQ(r.code, 1) << r.out;
  r = Qjournal({uri, "format", "--force", "--namespace_id=7", "--cluster_id=cli"});
  EXPECT_EQ(r.code, 1) << r.out;
}

// `qjournal health` (like `etcdctl endpoint health`): one line per journalnode, exit 1 if
// any is unhealthy; `status --json` is one parseable document; a refused format keeps its
// code (InvalidArgument: already formatted), said once, not as Unavailable per node.
TEST(QjournalCliTest, HealthStatusJsonAndFormatErrors) {
  JnCluster cluster(3);
  const std::string uri = "--journal_uri=" + cluster.uri();
  CliRun r = Qjournal({uri, "health"});
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(Contains(r.out, cluster.node(0).address().ToString() + " is unhealthy: ")) << r.out;
  EXPECT_TRUE(Contains(r.out, "NotFormatted")) << r.out;
  // Not formatted: said once, with its own code, not wrapped in Unavailable.
  r = Qjournal({uri, "dump"});
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(Contains(r.out, "NotFormatted")) << r.out;
  EXPECT_FALSE(Contains(r.out, "Unavailable")) << r.out;

  ASSERT_EQ(Qjournal({uri, "format", "--namespace_id=42", "--cluster_id=c"}).code, 0);
  r = Qjournal({uri, "format", "--namespace_id=42", "--cluster_id=c"});
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(Contains(r.out, "qjournal format: InvalidArgument: ")) << r.out;
  EXPECT_TRUE(Contains(r.out, "already formatted")) << r.out;
  EXPECT_TRUE(Contains(r.out, "3 of 3 journalnodes said so")) << r.out;
  EXPECT_FALSE(Contains(r.out, "Unavailable")) << r.out;

  r = Qjournal({uri, "health"});
  EXPECT_EQ(r.code, 0) << r.out;
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(Contains(r.out, cluster.node(i).address().ToString() + " is healthy: ")) << r.out;
  }
  EXPECT_TRUE(Contains(r.out, " ms\n")) << r.out;
  ASSERT_EQ(Qjournal({uri, "append", "--count=4"}).code, 0);

  r = Qjournal({uri, "status", "--json"});
  ASSERT_EQ(r.code, 0) << r.out;
  {
    std::istringstream in(r.out);
    boost::property_tree::ptree tree;
    ASSERT_NO_THROW(boost::property_tree::read_json(in, tree)) << r.out;
    EXPECT_EQ(tree.get<int>("reachable"), 3);
    EXPECT_EQ(tree.get<bool>("quorum"), true);
    // The append is acknowledged by a majority; a loaded third node may still be behind.
    int nodes = 0, complete = 0;
    for (const auto& [k, node] : tree.get_child("journalnodes")) {
      EXPECT_EQ(node.get<bool>("formatted"), true);
      EXPECT_LE(node.get<int64_t>("last_written_txid"), 4);
      EXPECT_GE(node.get_child("segments").size(), 1u);
      complete += node.get<int64_t>("last_written_txid") == 4 ? 1 : 0;
      ++nodes;
    }
    EXPECT_EQ(nodes, 3);
    EXPECT_GE(complete, 2) << r.out;
  }

  cluster.node(1).Kill();
  r = Qjournal({uri, "health"});
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(Contains(r.out, cluster.node(0).address().ToString() + " is healthy")) << r.out;
  EXPECT_TRUE(Contains(r.out, cluster.node(1).address().ToString() + " is unhealthy")) << r.out;
  EXPECT_TRUE(Contains(r.out, "1 of 3 journalnodes unhealthy")) << r.out;
  r = Qjournal({uri, "health", "--json"});
  EXPECT_EQ(r.code, 1) << r.out;
  {
    std::istringstream in(r.out.substr(0, r.out.find("qjournal health:")));
    boost::property_tree::ptree tree;
    ASSERT_NO_THROW(boost::property_tree::read_json(in, tree)) << r.out;
    std::vector<bool> health;
    for (const auto& [k, e] : tree) health.push_back(e.get<bool>("health"));
    EXPECT_EQ(health, (std::vector<bool>{true, false, true}));
  }
}

TEST(QjournalCliTest, BadArgumentsExitTwo) {
  const std::string uri = "--journal_uri=qjournal://127.0.0.1:1;127.0.0.1:2;127.0.0.1:3/ns1";
  const std::vector<std::vector<std::string>> bad = {
      {},                                                 // no command, no quorum
      {uri},                                              // no command
      {uri, "frobnicate"},                                // unknown command
      {uri, "append"},                                    // missing --count
      {uri, "append", "--count=abc"},                     // not a number
      {uri, "append", "--count=0"},                       // out of range
      {uri, "dump", "--from=0"},                          // txids start at 1
      {uri, "dump", "--bogus=1"},                         // unknown option
      {uri, "status", "--count=3"},                       // option of another command
      {uri, "format"},                                    // no namespace identity
      {uri, "format", "--namespace_id=1"},                // half of it
      {uri, "status", "extra"},                           // stray argument
      {"--journal_uri=qjournal://nohost/ns1", "status"},  // malformed URI
      {"status"},                                         // no quorum given
  };
  for (const auto& args : bad) {
    CliRun r = Qjournal(args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(r.code, 2) << joined << "\n" << r.out;
    EXPECT_TRUE(Contains(r.out, "usage: qjournal")) << joined << "\n" << r.out;
  }
  // A failure (a missing cluster file) is one line and exit 1, without the usage text.
  CliRun missing = Qjournal({"--cluster_conf=/nonexistent/cluster.conf", "status"});
  EXPECT_EQ(missing.code, 1) << missing.out;
  EXPECT_EQ(missing.out.find('\n'), missing.out.size() - 1) << missing.out;
  EXPECT_TRUE(Contains(missing.out, "/nonexistent/cluster.conf")) << missing.out;
  CliRun help = Qjournal({"--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_TRUE(Contains(help.out, "usage: qjournal"));
}

// The "done when": write with the CLI while journalnodes are SIGKILLed at random
// moments and restarted; dump still shows every acknowledged edit, in order, no gaps.
TEST(QjournalCliTest, AcknowledgedEditsSurviveRandomKills) {
  JnCluster cluster(3);
  ASSERT_OK(cluster.Format());
  const std::string uri = "--journal_uri=" + cluster.uri();
  std::mt19937 rng(7);
  int64_t max_acked = 0;
  for (int round = 0; round < 8; ++round) {
    const int victim = static_cast<int>(rng() % 3);
    const int delay_ms = static_cast<int>(rng() % 60);
    std::thread killer([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      cluster.node(victim).Kill();
    });
    CliRun r = Qjournal({uri, "append", "--count=300", "--rpc_timeout_ms=500"});
    killer.join();
    cluster.node(victim).Restart();
    if (r.code != 0) continue;  // not acknowledged: nothing to check
    const size_t at = r.out.find("appended txids ");
    ASSERT_NE(at, std::string::npos) << r.out;
    const int64_t last = std::stoll(r.out.substr(r.out.find("..", at) + 2));
    max_acked = std::max(max_acked, last);
  }
  ASSERT_GT(max_acked, 0);
  CliRun d = Qjournal({uri, "dump"});
  ASSERT_EQ(d.code, 0) << d.out;
  const size_t at = d.out.find(" edits, txids 1..");
  ASSERT_NE(at, std::string::npos) << d.out.substr(d.out.size() > 500 ? d.out.size() - 500 : 0);
  const int64_t end = std::stoll(d.out.substr(at + strlen(" edits, txids 1..")));
  EXPECT_GE(end, max_acked);
  EXPECT_TRUE(Contains(d.out, "no gaps"));
  printf("CLI: %lld edits acknowledged across random kills, dump shows 1..%lld\n",
         static_cast<long long>(max_acked), static_cast<long long>(end));
}

}  // namespace
}  // namespace qj::testing
