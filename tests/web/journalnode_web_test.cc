// A journalnode's /metrics and /status over HTTP move with real writes to a real journal.
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "journalnode/journal_web.h"
#include "tests/journalnode/journal_test_util.h"
#include "tests/support/process.h"
#include "tests/web/http_get.h"

namespace qj::jn {
namespace {

using testutil::Hdr;
using testutil::Records;

// The value of the first sample line that starts with `series` ("name{labels}").
double Value(const std::string& text, const std::string& series) {
  const size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -12345;
  return std::stod(text.substr(at + series.size() + 2));
}

TEST(JournalNodeWeb, MetricsAndStatus_FollowWritesAndCommits) {
  testing::TempDir dir;
  JournalNodeOptions o;
  o.name = "jnw";
  o.edits_dir = dir.path();
  o.slow_sync_warn_ms = 0;  // every batch counts as slow: the counter must move
  auto node = JournalNode::Open(o);
  ASSERT_TRUE(node.ok()) << node.status();
  auto web = MakeJournalNodeWeb(node->get(), HttpServerOptions{"127.0.0.1", 0, 8, 5000, "jnw"});
  ASSERT_TRUE(web->Start().ok());

  auto j = (*node)->Get("ns1", true);
  ASSERT_TRUE(j.ok());
  ASSERT_TRUE((*j)->Format(testutil::Ns(), false).ok());
  ASSERT_TRUE((*j)->NewEpoch(testutil::Ns(), 3).ok());
  ASSERT_TRUE((*j)->StartLogSegment(Hdr(3, 1), 1, 1).ok());
  const std::string before = testweb::Get(web->port(), "/metrics").body;
  EXPECT_EQ(Value(before, "qj_journalnode_edits_written_total{journal=\"ns1\"}"), 0) << before;
  EXPECT_EQ(Value(before, "qj_journalnode_promised_epoch{journal=\"ns1\"}"), 3);

  const std::string recs = Records(1, 5);
  ASSERT_TRUE((*j)->JournalEdits(Hdr(3, 2, 0), 1, 1, 5, recs).ok());
  ASSERT_TRUE((*j)->JournalEdits(Hdr(3, 3, 5), 1, 6, 2, Records(6, 2)).ok());
  // The writer says 9 is committed, but this node holds only 7: it lags by 2.
  ASSERT_TRUE((*j)->Heartbeat(Hdr(3, 4, 9)).ok());

  testweb::Reply m = testweb::Get(web->port(), "/metrics");
  ASSERT_EQ(m.status, 200);
  const std::string& t = m.body;
  EXPECT_EQ(Value(t, "qj_journalnode_batches_total{journal=\"ns1\"}"), 2) << t;
  EXPECT_EQ(Value(t, "qj_journalnode_edits_written_total{journal=\"ns1\"}"), 7);
  EXPECT_EQ(Value(t, "qj_journalnode_written_bytes_total{journal=\"ns1\"}"),
            static_cast<double>(recs.size() + Records(6, 2).size()));
  EXPECT_EQ(Value(t, "qj_journalnode_slow_syncs_total{journal=\"ns1\"}"), 2);
  EXPECT_EQ(Value(t, "qj_journalnode_last_written_txid{journal=\"ns1\"}"), 7);
  EXPECT_EQ(Value(t, "qj_journalnode_committed_txid{journal=\"ns1\"}"), 7);
  EXPECT_EQ(Value(t, "qj_journalnode_writer_epoch{journal=\"ns1\"}"), 3);
  EXPECT_EQ(Value(t, "qj_journalnode_lag_edits{journal=\"ns1\"}"), 2);
  EXPECT_EQ(Value(t, "qj_journalnode_fsync_seconds_count{journal=\"ns1\"}"), 2);
  EXPECT_EQ(Value(t, "qj_journalnode_fsync_seconds_bucket{journal=\"ns1\",le=\"+Inf\"}"), 2);
  EXPECT_NE(t.find("# TYPE qj_journalnode_fsync_seconds histogram"), std::string::npos);

  // A committed read from the cache, then one from before the cache's start (a miss).
  ASSERT_TRUE((*j)->GetJournaledEdits(1, 100).ok());
  const std::string t2 = testweb::Get(web->port(), "/metrics").body;
  EXPECT_EQ(Value(t2, "qj_journalnode_cache_hits_total{journal=\"ns1\"}"), 1) << t2;

  testweb::Reply s = testweb::Get(web->port(), "/status");
  EXPECT_NE(s.body.find("\"journal\":\"ns1\",\"state\":\"serving\",\"promised_epoch\":3,"
                        "\"writer_epoch\":3,\"last_written_txid\":7,\"committed_txid\":7,"
                        "\"lag_edits\":2"),
            std::string::npos)
      << s.body;
  testweb::Reply page = testweb::Get(web->port(), "/");
  EXPECT_NE(page.body.find("<td class=\"c-last_written_txid\">7</td>"), std::string::npos)
      << page.body;
  web->Stop();
}

}  // namespace
}  // namespace qj::jn
