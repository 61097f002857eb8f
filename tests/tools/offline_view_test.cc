// qjview on files written by the real code: segments from SegmentWriter holding the edits
// FsNamespace prepared, images from SaveImage; then the same files damaged. Drives the
// built binary, as an operator would, with no daemon running.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/property_tree/json_parser.hpp>
#include <boost/property_tree/ptree.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/edit_record.h"
#include "common/file_ops.h"
#include "journalnode/segment.h"
#include "namenode/edit_ops.h"
#include "namenode/image.h"
#include "tests/namenode/namespace_test_util.h"
#include "tests/support/process.h"

namespace qj::testing {

using nn::EncodedEdit;
using nn::EncodeEdit;
using nn::ImageFileName;
using nn::NoopEdit;
using nn::SaveImage;

namespace {

using testing_util::Alice;
using testing_util::NsHarness;
using testing_util::Superuser;

struct CmdResult {
  int code;
  std::string out;  // stdout and stderr
};

CmdResult Qjview(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {BinaryPath("tools/qjview")};
  argv.insert(argv.end(), args.begin(), args.end());
  CmdResult r;
  r.code = RunCommand(argv, &r.out, 30000);
  return r;
}

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

boost::property_tree::ptree ParseJson(const std::string& text) {
  std::istringstream in(text);
  boost::property_tree::ptree tree;
  boost::property_tree::read_json(in, tree);  // throws on malformed JSON
  return tree;
}

void FlipByte(const std::string& path, uint64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x5a);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
}

class OfflineViewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(h_.Mkdirs(Superuser(), "/user/alice").ok());
    ASSERT_TRUE(h_.Run(h_.ns().PrepareSetOwner(Superuser(), "/user/alice", "alice", "staff")).ok());
    ASSERT_TRUE(h_.Create(Alice(), "/user/alice/f.txt").ok());
    ASSERT_TRUE(h_.AddBlock(Alice(), "/user/alice/f.txt", -1).ok());
    ASSERT_TRUE(h_.Complete(Alice(), "/user/alice/f.txt", 1234).ok());
    ASSERT_TRUE(h_.Rename(Alice(), "/user/alice/f.txt", "/user/alice/g.txt").ok());
    ASSERT_TRUE(h_.Mkdirs(Alice(), "/user/alice/d \"q\"").ok());
    // Encode the log as the namenode does: txid i+1, op and payload from EncodeEdit.
    for (size_t i = 0; i < h_.log().size(); ++i) {
      EncodedEdit e = EncodeEdit(h_.log()[i]);
      offsets_.push_back(records_.size());
      AppendRecord(&records_, static_cast<int64_t>(i) + 1, e.op, e.payload);
    }
  }
  int64_t count() const { return static_cast<int64_t>(h_.log().size()); }

  // Writes the records with the journalnode's SegmentWriter; finalized unless told not.
  std::string WriteSegment(bool finalize) {
    auto w = jn::SegmentWriter::Create(FileOps::Posix(), dir_.path(), 1, 64 << 10);
    EXPECT_TRUE(w.ok()) << w.status();
    EXPECT_TRUE((*w)->Append(records_, 1, count()).ok());
    if (!finalize) return (*w)->path();
    EXPECT_TRUE((*w)->Finalize().ok());
    return dir_.path() + "/" + jn::FinalizedName(1, count());
  }

  TempDir dir_;
  NsHarness h_;
  std::string records_;
  std::vector<size_t> offsets_;
};

TEST_F(OfflineViewTest, SegmentTextNamesOpsAndOffsets) {
  const std::string path = WriteSegment(true);
  CmdResult r = Qjview({"segment", path});
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(Contains(r.out, "finalized, txids 1.." + std::to_string(count()))) << r.out;
  EXPECT_TRUE(Contains(r.out, "txid=1 offset=0 ")) << r.out;
  EXPECT_TRUE(Contains(r.out, "MKDIR /user/alice")) << r.out;
  EXPECT_TRUE(Contains(r.out, "SET_OWNER /user/alice")) << r.out;
  EXPECT_TRUE(Contains(r.out, "txid=5 offset=" + std::to_string(offsets_[4]) + " ")) << r.out;
  EXPECT_TRUE(Contains(r.out, "RENAME /user/alice/f.txt -> /user/alice/g.txt")) << r.out;
  EXPECT_TRUE(Contains(r.out, "summary: " + std::to_string(count()) + " records")) << r.out;

  CmdResult v = Qjview({"segment", path, "--verify"});
  EXPECT_EQ(v.code, 0) << v.out;
  EXPECT_TRUE(Contains(v.out, "OK " + path)) << v.out;
}

TEST_F(OfflineViewTest, SegmentJsonIsParseableWithDecodedFields) {
  const std::string path = WriteSegment(true);
  CmdResult r = Qjview({"segment", "--json", path});
  ASSERT_EQ(r.code, 0) << r.out;
  auto tree = ParseJson(r.out);
  EXPECT_EQ(tree.get<std::string>("kind"), "segment");
  EXPECT_EQ(tree.get<int64_t>("name.end_txid"), count());
  EXPECT_EQ(tree.get<bool>("result.ok"), true);
  EXPECT_EQ(tree.get<int64_t>("result.records"), count());
  std::vector<boost::property_tree::ptree> recs;
  for (const auto& [k, v] : tree.get_child("records")) recs.push_back(v);
  ASSERT_EQ(static_cast<int64_t>(recs.size()), count());
  EXPECT_EQ(recs[0].get<std::string>("op"), "MKDIR");
  EXPECT_EQ(recs[0].get<std::string>("path"), "/user/alice");
  EXPECT_EQ(recs[1].get<std::string>("op"), "SET_OWNER");
  EXPECT_EQ(recs[1].get<std::string>("owner"), "alice");
  EXPECT_EQ(recs[4].get<std::string>("op"), "COMPLETE");
  EXPECT_EQ(recs[4].get<int64_t>("last_block_length"), 1234);
  EXPECT_EQ(recs[4].get<size_t>("offset"), offsets_[4]);
  EXPECT_EQ(recs[6].get<std::string>("path"), "/user/alice/d \"q\"");  // escaped in JSON
}

TEST_F(OfflineViewTest, CorruptSegmentNamesFirstBadRecord) {
  const std::string path = WriteSegment(true);
  FlipByte(path, offsets_[3] + 25);  // inside txid 4's payload
  CmdResult v = Qjview({"segment", path, "--verify"});
  EXPECT_EQ(v.code, 1) << v.out;
  EXPECT_TRUE(Contains(v.out, path + " offset " + std::to_string(offsets_[3]) + " txid 4:"))
      << v.out;
  EXPECT_TRUE(Contains(v.out, "CRC")) << v.out;
  // The dump shows the good records before it, then fails the same way.
  CmdResult d = Qjview({"segment", path});
  EXPECT_EQ(d.code, 1) << d.out;
  EXPECT_TRUE(Contains(d.out, "txid=3 ")) << d.out;
  EXPECT_FALSE(Contains(d.out, "txid=4 ")) << d.out;
  CmdResult j = Qjview({"segment", path, "--json", "--verify"});
  EXPECT_EQ(j.code, 1);
  auto tree = ParseJson(j.out.substr(0, j.out.find("qjview:")));
  EXPECT_EQ(tree.get<bool>("result.ok"), false);
  EXPECT_EQ(tree.get<size_t>("result.error.offset"), offsets_[3]);
  EXPECT_EQ(tree.get<int64_t>("result.error.txid"), 4);
}

TEST_F(OfflineViewTest, FinalizedSegmentShorterThanItsName) {
  WriteSegment(true);
  const std::string wrong = dir_.path() + "/" + jn::FinalizedName(1, count() + 1);
  ASSERT_EQ(std::rename((dir_.path() + "/" + jn::FinalizedName(1, count())).c_str(), wrong.c_str()),
            0);
  CmdResult v = Qjview({"segment", wrong, "--verify"});
  EXPECT_EQ(v.code, 1) << v.out;
  EXPECT_TRUE(Contains(v.out, "txid " + std::to_string(count() + 1) + ":")) << v.out;
}

TEST_F(OfflineViewTest, InProgressSegmentWithTornTail) {
  const std::string path = WriteSegment(false);  // preallocated zeros after the data
  CmdResult ok = Qjview({"segment", path, "--verify"});
  EXPECT_EQ(ok.code, 0) << ok.out;
  EXPECT_TRUE(Contains(ok.out, std::to_string(count()) + " records")) << ok.out;
  // Cut the last record short: a torn tail, which start-up truncates. Not an error here.
  ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(records_.size() - 3)), 0);
  CmdResult torn = Qjview({"segment", path, "--verify"});
  EXPECT_EQ(torn.code, 0) << torn.out;
  EXPECT_TRUE(Contains(torn.out, "torn tail")) << torn.out;
  EXPECT_TRUE(Contains(torn.out, std::to_string(count() - 1) + " records")) << torn.out;
}

TEST_F(OfflineViewTest, SegmentThatIsNotNamenodeEditsIsBad) {
  // qjournal append's test records: valid framing, but not namenode edits.
  std::string recs;
  const EncodedEdit noop = EncodeEdit(NoopEdit{});  // a namenode edit
  AppendRecord(&recs, 1, noop.op, noop.payload);
  const size_t second = recs.size();
  AppendRecord(&recs, 2, 0x7e57, "qjournal test edit");
  auto w = jn::SegmentWriter::Create(FileOps::Posix(), dir_.path(), 1, 4096);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Append(recs, 1, 2).ok());
  CmdResult v = Qjview({"segment", (*w)->path(), "--verify"});
  EXPECT_EQ(v.code, 1) << v.out;
  EXPECT_TRUE(Contains(
      v.out, "offset " + std::to_string(second) + " txid 2: payload is not a namenode edit"))
      << v.out;
}

TEST_F(OfflineViewTest, ImageTextJsonAndVerify) {
  ASSERT_TRUE(SaveImage(h_.ns(), count(), dir_.path()).ok());
  const std::string path = dir_.path() + "/" + ImageFileName(count());
  CmdResult t = Qjview({"image", path});
  ASSERT_EQ(t.code, 0) << t.out;
  EXPECT_TRUE(Contains(t.out, "txid " + std::to_string(count()))) << t.out;
  EXPECT_TRUE(Contains(t.out, "\n/user/alice\tDIRECTORY\t0\t")) << t.out;
  EXPECT_TRUE(Contains(t.out, "\n/user/alice/g.txt\tFILE\t3\t")) << t.out;
  EXPECT_TRUE(Contains(t.out, "\t1\t1234\t0644\talice\t")) << t.out;  // 1 block, 1234 bytes

  CmdResult j = Qjview({"image", path, "--json"});
  ASSERT_EQ(j.code, 0) << j.out;
  auto tree = ParseJson(j.out);
  EXPECT_EQ(tree.get<int64_t>("txid"), count());
  EXPECT_EQ(tree.get<int64_t>("inode_count"), h_.ns().inode_count());
  std::vector<std::string> paths;
  for (const auto& [k, v] : tree.get_child("inodes")) paths.push_back(v.get<std::string>("path"));
  EXPECT_EQ(paths, (std::vector<std::string>{"/", "/user", "/user/alice", "/user/alice/d \"q\"",
                                             "/user/alice/g.txt"}));

  CmdResult v = Qjview({"image", path, "--verify"});
  EXPECT_EQ(v.code, 0) << v.out;
  EXPECT_TRUE(Contains(v.out, "OK " + path)) << v.out;

  FlipByte(path, 60);
  CmdResult bad = Qjview({"image", path, "--verify"});
  EXPECT_EQ(bad.code, 1) << bad.out;
  EXPECT_TRUE(Contains(bad.out, path)) << bad.out;
  EXPECT_TRUE(Contains(bad.out, "offset")) << bad.out;
  EXPECT_TRUE(Contains(bad.out, "image txid " + std::to_string(count()))) << bad.out;
}

TEST(QjviewCliTest, UsageErrors) {
  EXPECT_EQ(Qjview({"--help"}).code, 0);
  EXPECT_EQ(Qjview({"--version"}).code, 0);
  EXPECT_EQ(Qjview({}).code, 2);
  EXPECT_EQ(Qjview({"segment"}).code, 2);
  EXPECT_EQ(Qjview({"segment", "a", "--bogus"}).code, 2);
  EXPECT_EQ(Qjview({"tree", "a"}).code, 2);
  CmdResult missing =
      Qjview({"segment", "/nonexistent/edits_0000000000000000001-0000000000000000002"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_TRUE(Contains(missing.out, "/nonexistent/")) << missing.out;
}

}  // namespace
}  // namespace qj::testing
