// qjadmin's verbs against a real namenode pair on 3 real journalnodes: -report,
// -saveNamespace, -rollEdits, -fetchImage, their usage errors and their failures; and
// namenode --initialize_shared_edits and --recover, which the admin verbs set up.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "journalnode/client/quorum_writer.h"
#include "namenode/edit_ops.h"
#include "namenode/image.h"
#include "tests/support/nn_cluster.h"
#include "tests/support/status_macros.h"

namespace qj::testing {

using nn::EncodedEdit;
using nn::EncodeEdit;
using nn::FindImages;
using nn::ImageFileName;
using nn::NoopEdit;
using nn::VerifyImageFile;

namespace {

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

class QjadminTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(c_.Start()); }

  int Admin(std::vector<std::string> args) {
    std::vector<std::string> argv = {BinaryPath("namenode/qjadmin"),
                                     "--cluster_conf=" + c_.conf_path()};
    argv.insert(argv.end(), args.begin(), args.end());
    out_.clear();
    return RunCommand(argv, &out_, 120000);
  }
  int Qjfs(std::vector<std::string> args) {
    args.insert(args.begin(), {"--user=nnsuper", "--groups=supergroup"});
    out_.clear();
    return c_.Qjfs(args, &out_);
  }
  // The first number after `prefix` in out_, -1 if none.
  int64_t NumberAfter(const std::string& prefix) const {
    std::smatch m;
    if (!std::regex_search(out_, m, std::regex(prefix + "(-?[0-9]+)"))) return -1;
    return std::stoll(m[1].str());
  }

  NnCluster c_;
  std::string out_;
};

TEST_F(QjadminTest, UsageErrorsExitTwo) {
  EXPECT_EQ(Admin({}), 2) << out_;
  EXPECT_EQ(Admin({"--help"}), 0) << out_;
  EXPECT_TRUE(Contains(out_, "-rollEdits")) << out_;
  EXPECT_EQ(Admin({"-nosuchverb"}), 2) << out_;
  EXPECT_EQ(Admin({"-fetchImage"}), 2) << out_;
  EXPECT_EQ(Admin({"--nosuchflag", "-report"}), 2) << out_;
  EXPECT_EQ(Admin({"-saveNamespace", "nn9"}), 2) << out_;
  EXPECT_TRUE(Contains(out_, "unknown namenode 'nn9'")) << out_;
}

TEST_F(QjadminTest, RollEditsNeedsAnActiveAndStartsANewSegment) {
  // Both standby: refused, with the code kept.
  EXPECT_EQ(Admin({"-rollEdits"}), 1) << out_;
  EXPECT_TRUE(Contains(out_, "NOT_ACTIVE")) << out_;

  ASSERT_OK(c_.TransitionToActive(0));
  ASSERT_EQ(Qjfs({"-mkdir", "/a"}), 0) << out_;
  auto before = c_.GetStatus(0);
  ASSERT_OK(before.status());
  ASSERT_EQ(Admin({"-rollEdits"}), 0) << out_;
  const int64_t first = NumberAfter("New segment starts at txid ");
  EXPECT_EQ(first, before->lastAppliedTxId + 1) << out_;
  // The journalnodes hold the old segment finalized, ending right before the new one.
  std::string status;
  ASSERT_EQ(RunCommand({BinaryPath("journalnode/client/qjournal"),
                        "--cluster_conf=" + c_.conf_path(), "status", "--json"},
                       &status),
            0)
      << status;
  EXPECT_TRUE(
      Contains(status, "\"end_txid\":" + std::to_string(first - 1) + ",\"in_progress\":false}"))
      << status;
  EXPECT_TRUE(Contains(status, "{\"start_txid\":" + std::to_string(first) + ",")) << status;
  // A second roll right away: the segment holding only the NOOP is finalized and the
  // next one opens after it.
  ASSERT_EQ(Admin({"-rollEdits"}), 0) << out_;
  EXPECT_EQ(NumberAfter("New segment starts at txid "), first + 1) << out_;
  // Edits after a roll still commit (qjfs's reads add barrier NOOPs, hence >=) and the
  // standby tails across the finalized segments.
  ASSERT_EQ(Qjfs({"-mkdir", "/b"}), 0) << out_;
  auto after = c_.GetStatus(0);
  ASSERT_OK(after.status());
  EXPECT_GE(after->lastAppliedTxId, first + 2);
  EXPECT_TRUE(c_.WaitForAppliedTxId(1, after->lastAppliedTxId, 20000));
  ASSERT_EQ(Qjfs({"-test", "-d", "/b"}), 0) << out_;
}

TEST_F(QjadminTest, SaveNamespaceWritesAnImageNowOnBothNamenodes) {
  ASSERT_OK(c_.TransitionToActive(0));
  ASSERT_EQ(Qjfs({"-mkdir", "-p", "/x/y", "/z"}), 0) << out_;
  auto active = c_.GetStatus(0);
  ASSERT_OK(active.status());
  const int64_t txid = active->lastAppliedTxId;
  ASSERT_TRUE(c_.WaitForAppliedTxId(1, txid, 20000));
  ASSERT_EQ(Admin({"-saveNamespace"}), 0) << out_;
  EXPECT_TRUE(Contains(
      out_, "Save namespace successful for nn1 (image at txid " + std::to_string(txid) + ")"))
      << out_;
  EXPECT_TRUE(Contains(out_, "Save namespace successful for nn2")) << out_;
  EXPECT_TRUE(std::filesystem::exists(c_.name_dir(0) + "/" + ImageFileName(txid))) << out_;
  // The active's image holds the whole tree at that txid.
  auto images = FindImages(c_.name_dir(0));
  ASSERT_OK(images.status());
  ASSERT_FALSE(images->empty());
  EXPECT_EQ(images->back().txid, txid);
  auto info = VerifyImageFile(images->back().path);
  ASSERT_OK(info.status());
  EXPECT_EQ(info->inode_count, 4);  // root, /x, /x/y, /z

  // One namenode down: the other still saves, the command reports the failure.
  c_.namenode(1).Kill();
  EXPECT_EQ(Admin({"-saveNamespace"}), 1) << out_;
  EXPECT_TRUE(Contains(out_, "Save namespace successful for nn1")) << out_;
  EXPECT_TRUE(Contains(out_, "saveNamespace: nn2")) << out_;
  EXPECT_EQ(Admin({"-saveNamespace", "nn1"}), 0) << out_;
}

// A call the namenode's state refuses (IllegalState: a namespace that may hold uncommitted
// edits after the journal failed) reaches qjadmin as INVALID_ARGUMENT, through the admin
// error table (rpc::AdminErrors()), not as IO_ERROR.
TEST_F(QjadminTest, SaveNamespaceAfterTheJournalFailedIsInvalidArgument) {
  ASSERT_OK(c_.TransitionToActive(0));
  auto nn1 = c_.NewDirectClient(0, 30000);
  bool created = false;
  ASSERT_OK(nn1->Mkdirs(SuperUser(), "/a", 0755, false, &created));
  c_.journalnodes().node(1).Kill();
  c_.journalnodes().node(2).Kill();
  EXPECT_FALSE(nn1->Mkdirs(SuperUser(), "/b", 0755, false, &created).ok());
  EXPECT_EQ(Admin({"-saveNamespace", "nn1"}), 1) << out_;
  EXPECT_TRUE(Contains(out_, "INVALID_ARGUMENT")) << out_;
  EXPECT_TRUE(Contains(out_, "no image saved")) << out_;
}

TEST_F(QjadminTest, ReportAndFetchImage) {
  ASSERT_OK(c_.TransitionToActive(0));
  ASSERT_EQ(Qjfs({"-mkdir", "/r1", "/r2"}), 0) << out_;
  ASSERT_EQ(Admin({"-report"}), 0) << out_;
  EXPECT_TRUE(Contains(out_, "Name: nn1 (")) << out_;
  EXPECT_TRUE(Contains(out_, "HA state: active")) << out_;
  EXPECT_TRUE(Contains(out_, "HA state: standby")) << out_;
  EXPECT_TRUE(Contains(out_, "Inodes: 3\n")) << out_;
  EXPECT_TRUE(Contains(out_, "Committed txid: ")) << out_;
  EXPECT_TRUE(Contains(out_, "Image txid: 0 (written ")) << out_;
  EXPECT_TRUE(Contains(out_, "Journalnodes (journal ")) << out_;
  size_t reachable = 0;
  for (size_t p = out_.find("Reachable: yes"); p != std::string::npos;
       p = out_.find("Reachable: yes", p + 1)) {
    ++reachable;
  }
  EXPECT_EQ(reachable, 5u) << out_;  // 2 namenodes + 3 journalnodes

  ASSERT_EQ(Admin({"-saveNamespace", "nn1"}), 0) << out_;
  const int64_t txid = NumberAfter("image at txid ");
  ASSERT_GT(txid, 0) << out_;
  const std::string dir = c_.dir() + "/fetched";
  ASSERT_EQ(Admin({"-fetchImage", dir}), 0) << out_;
  EXPECT_TRUE(Contains(out_, "Downloaded image " + ImageFileName(txid))) << out_;
  auto images = FindImages(dir);
  ASSERT_OK(images.status());
  ASSERT_EQ(images->size(), 1u);
  EXPECT_EQ(images->front().txid, txid);
  auto info = VerifyImageFile(images->front().path);
  ASSERT_OK(info.status());
  EXPECT_EQ(info->inode_count, 3);  // root, /r1, /r2

  // Nothing reachable: both verbs fail with a one-line reason.
  c_.namenode(0).Kill();
  c_.namenode(1).Kill();
  EXPECT_EQ(Admin({"-fetchImage", dir}), 1) << out_;
  EXPECT_TRUE(Contains(out_, "fetchImage: no namenode answered")) << out_;
  EXPECT_EQ(Admin({"-report"}), 1) << out_;
  EXPECT_TRUE(Contains(out_, "Reachable: no (nn1")) << out_;
  EXPECT_TRUE(Contains(out_, "no namenode is reachable")) << out_;
}

// A namenode whose image outlived its journal: the journal is reformatted (its edits
// gone), so the namenode, at txid T, cannot become active (the journal ends at 0) until
// --initialize_shared_edits starts the journal at T + 1.
TEST_F(QjadminTest, InitializeSharedEditsContinuesTheImage) {
  ASSERT_OK(c_.TransitionToActive(0));
  ASSERT_EQ(Qjfs({"-mkdir", "-p", "/kept/dir"}), 0) << out_;
  ASSERT_EQ(Admin({"-saveNamespace", "nn1"}), 0) << out_;
  const int64_t txid = NumberAfter("image at txid ");
  ASSERT_GT(txid, 0) << out_;
  c_.namenode(0).Kill();
  c_.namenode(1).Kill();

  std::vector<std::string> init = c_.NamenodeArgv(0);
  init.push_back("--initialize_shared_edits");
  // The journal is formatted: refused without --force, nothing changed.
  EXPECT_EQ(RunCommand(init, &out_), 1) << out_;
  EXPECT_TRUE(Contains(out_, "is already formatted (use --force")) << out_;

  // Lose the journal's edits (as with a new set of journalnodes).
  jn::QuorumOptions q;
  q.journalnodes = c_.conf().journal.journalnodes;
  q.journal_id = c_.conf().journal.journal_id;
  q.name = "test";
  jn::NamespaceInfo ns;
  ns.namespace_id = c_.conf().namespace_id;
  ns.cluster_id = c_.conf().cluster_id;
  ASSERT_OK(jn::FormatJournal(q, ns, /*force=*/true));
  ASSERT_OK(c_.RestartNamenode(0));
  Status refused = c_.TransitionToActive(0);
  EXPECT_FALSE(refused.ok());
  EXPECT_TRUE(Contains(refused.ToString(), "recovered journal ends at 0")) << refused;
  c_.namenode(0).Kill();

  init.push_back("--force");
  ASSERT_EQ(RunCommand(init, &out_), 0) << out_;
  ASSERT_OK(c_.RestartNamenode(0));
  ASSERT_OK(c_.TransitionToActive(0));
  EXPECT_EQ(Qjfs({"-test", "-d", "/kept/dir"}), 0) << out_;
  ASSERT_EQ(Qjfs({"-mkdir", "/after"}), 0) << out_;
  auto st = c_.GetStatus(0);
  ASSERT_OK(st.status());
  EXPECT_GT(st->lastAppliedTxId, txid + 1);
}

// A committed record the namenode cannot decode (as `qjournal append` on the cluster's
// journal once wrote) stops every catch-up; --recover names it and, with --force,
// truncates the log before it.
TEST_F(QjadminTest, RecoverReportsTheFirstBadRecordAndTruncatesWithForce) {
  ASSERT_OK(c_.TransitionToActive(0));
  ASSERT_EQ(Qjfs({"-mkdir", "/good"}), 0) << out_;
  c_.namenode(0).Kill();
  c_.namenode(1).Kill();

  jn::QuorumOptions q;
  q.journalnodes = c_.conf().journal.journalnodes;
  q.journal_id = c_.conf().journal.journal_id;
  q.name = "test-writer";
  jn::NamespaceInfo ns;
  ns.namespace_id = c_.conf().namespace_id;
  ns.cluster_id = c_.conf().cluster_id;
  int64_t bad = 0;
  {
    auto w = jn::QuorumWriter::Open(q, ns);
    ASSERT_OK(w.status());
    bad = (*w)->last_txid() + 1;
    ASSERT_OK((*w)->StartSegment(bad));
    ASSERT_OK((*w)->Append(bad, 0x7e57, "not an edit"));
    EncodedEdit noop = EncodeEdit(NoopEdit{});
    ASSERT_OK((*w)->Append(bad + 1, noop.op, noop.payload));
    ASSERT_OK((*w)->FinalizeSegment());
    (*w)->Close();
  }
  ASSERT_OK(c_.RestartNamenode(0));
  EXPECT_FALSE(c_.TransitionToActive(0).ok());  // catch-up stops at the bad record
  c_.namenode(0).Kill();

  std::vector<std::string> recover = c_.NamenodeArgv(0);
  recover.push_back("--recover");
  EXPECT_EQ(RunCommand(recover, &out_), 1) << out_;
  EXPECT_TRUE(Contains(out_, "first bad record at txid " + std::to_string(bad) + ": ")) << out_;
  EXPECT_TRUE(Contains(out_, "op 0x7e57")) << out_;
  // The bad record, the NOOP after it (and the failed activation's NOOP when the
  // journalnodes already report it committed).
  EXPECT_TRUE(Contains(
      out_, " committed edits from txid " + std::to_string(bad) + " on would be discarded"))
      << out_;
  EXPECT_TRUE(Contains(out_, "rerun with --force")) << out_;

  recover.push_back("--force");
  ASSERT_EQ(RunCommand(recover, &out_), 0) << out_;
  EXPECT_TRUE(Contains(out_, "log truncated before txid " + std::to_string(bad))) << out_;
  recover.pop_back();
  ASSERT_EQ(RunCommand(recover, &out_), 0) << out_;
  EXPECT_TRUE(Contains(out_, "nothing to recover")) << out_;

  ASSERT_OK(c_.RestartNamenode(0));
  ASSERT_OK(c_.TransitionToActive(0));
  EXPECT_EQ(Qjfs({"-test", "-d", "/good"}), 0) << out_;
  ASSERT_EQ(Qjfs({"-mkdir", "/after"}), 0) << out_;
}

}  // namespace
}  // namespace qj::testing
