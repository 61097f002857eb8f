#include "namenode/namespace.h"

#include <gtest/gtest.h>

#include "namenode/path_util.h"
#include "tests/namenode/namespace_test_util.h"

namespace qj::nn {
namespace {

using testing_util::Alice;
using testing_util::Bob;
using testing_util::Carol;
using testing_util::NsHarness;
using testing_util::Superuser;

// Every test's edits are replayed onto a fresh namespace at the end and must give the
// same state (Digest and full comparison).
class NamespaceTest : public ::testing::Test {
 protected:
  void TearDown() override { h_.ExpectReplayEquals(); }
  NsHarness h_;
  const Caller su_ = Superuser();
  const Caller alice_ = Alice();
  const Caller bob_ = Bob();
};

// ---- Paths. ----

TEST(PathTest, ValidAndInvalidPaths) {
  struct Case {
    std::string path;
    bool valid;
    size_t depth;
  };
  const std::vector<Case> cases = {
      {"/", true, 0},
      {"/a", true, 1},
      {"/a/b/c", true, 3},
      {"/a/b/", true, 2},
      {"/a:b/c d/é", true, 3},
      {"", false, 0},
      {"a/b", false, 0},
      {"//", false, 0},
      {"/a//b", false, 0},
      {"/a/./b", false, 0},
      {"/a/../b", false, 0},
      {"/..", false, 0},
      {"/a/b//", false, 0},
      {std::string("/a\0b", 4), false, 0},
      {"/" + std::string(255, 'x'), true, 1},
      {"/" + std::string(256, 'x'), false, 0},
  };
  for (const Case& c : cases) {
    std::vector<std::string_view> comps;
    FsStatus s = SplitPath(c.path, &comps);
    EXPECT_EQ(s.ok(), c.valid) << "'" << c.path << "': " << s;
    if (c.valid) {
      EXPECT_EQ(comps.size(), c.depth) << c.path;
    } else {
      EXPECT_EQ(s.code(), FsError::kInvalidPath);
      EXPECT_NE(s.message().find("invalid path '"), std::string::npos) << s;
    }
  }
  std::string deep;
  for (int i = 0; i < 1000; ++i) deep += "/d";
  EXPECT_TRUE(ValidatePath(deep).ok());
  EXPECT_EQ(ValidatePath(deep + "/d").code(), FsError::kInvalidPath);
  std::string longp;
  while (longp.size() <= kMaxPathLength) longp += "/" + std::string(100, 'y');
  EXPECT_EQ(ValidatePath(longp).code(), FsError::kInvalidPath);
  EXPECT_EQ(NormalizePath("/a/b/"), "/a/b");
  EXPECT_EQ(NormalizePath("/"), "/");
  EXPECT_EQ(ChildPath("/", "x"), "/x");
  EXPECT_EQ(ChildPath("/a", "x"), "/a/x");
}

TEST(NamespaceOptionsTest, Validation) {
  NamespaceOptions o;
  EXPECT_TRUE(ValidateNamespaceOptions(o).ok());
  o.superuser = std::string(256, 's');
  EXPECT_FALSE(ValidateNamespaceOptions(o).ok());
  o = NamespaceOptions();
  o.supergroup = "";
  EXPECT_FALSE(ValidateNamespaceOptions(o).ok());
  o = NamespaceOptions();
  o.root_permission = 010000;
  EXPECT_FALSE(ValidateNamespaceOptions(o).ok());
  o = NamespaceOptions();
  o.max_replication = 0;
  EXPECT_FALSE(ValidateNamespaceOptions(o).ok());
}

TEST(FsStatusTest, MapsOntoStatus) {
  EXPECT_TRUE(FsStatus(FsError::kNotFound, "x").ToStatus().IsNotFound());
  EXPECT_EQ(FsStatus(FsError::kPermissionDenied, "x").ToStatus().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(FsStatus(FsError::kInvalidPath, "x").ToStatus().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FsStatus(FsError::kNotADirectory, "x").ToStatus().code(), StatusCode::kIllegalState);
  EXPECT_EQ(FsStatus(FsError::kDirectoryNotEmpty, "x").ToString(), "DirectoryNotEmpty: x");
}

// ---- mkdirs. ----

TEST_F(NamespaceTest, Mkdirs_CreatesWithParents) {
  ASSERT_FS_OK(h_.Mkdirs(su_, "/a/b/c", 0750));
  FileInfo c = h_.Stat("/a/b/c");
  EXPECT_TRUE(c.is_dir);
  EXPECT_EQ(c.permission, 0750);
  EXPECT_EQ(c.owner, "hdfs");
  EXPECT_EQ(c.group, "supergroup");  // inherited from the root
  EXPECT_EQ(c.atime_ms, 0);
  EXPECT_EQ(h_.Stat("/a").permission, 0750 | 0300);  // parents get u+wx
  EXPECT_EQ(h_.Stat("/a/b").permission, 0750 | 0300);
  EXPECT_EQ(h_.Stat("/a").children_num, 1);
  EXPECT_EQ(h_.ns().inode_count(), 4);
  EXPECT_EQ(h_.Stat("/").mtime_ms, c.mtime_ms);  // the pre-existing parent's mtime
  EXPECT_EQ(h_.log().size(), 1u);                // one edit for the whole call
}

TEST_F(NamespaceTest, Mkdirs_ExistingDirectoryIsNoopWithoutEdit) {
  ASSERT_FS_OK(h_.Mkdirs(su_, "/a"));
  ASSERT_FS_OK(h_.Mkdirs(su_, "/a"));
  ASSERT_FS_OK(h_.Mkdirs(su_, "/a/", 0700, false));
  ASSERT_FS_OK(h_.Mkdirs(su_, "/"));
  EXPECT_EQ(h_.log().size(), 1u);
}

TEST_F(NamespaceTest, Mkdirs_Errors) {
  ASSERT_FS_OK(h_.Mkdirs(su_, "/d"));
  ASSERT_FS_OK(h_.Create(su_, "/d/f"));
  EXPECT_FS_ERR(h_.Mkdirs(su_, "/x/y", 0755, /*parents=*/false), FsError::kNotFound);
  EXPECT_FS_ERR(h_.Mkdirs(su_, "/d/f"), FsError::kAlreadyExists);
  EXPECT_FS_ERR(h_.Mkdirs(su_, "/d/f/g"), FsError::kNotADirectory);
  EXPECT_FS_ERR(h_.Mkdirs(su_, "d/x"), FsError::kInvalidPath);
  EXPECT_FS_ERR(h_.Mkdirs(su_, "/d/../x"), FsError::kInvalidPath);
  EXPECT_FS_ERR(h_.Mkdirs(su_, "/d/x", 010000), FsError::kInvalidArgument);
  EXPECT_FS_ERR(h_.Mkdirs(Caller{"", {}}, "/x"), FsError::kInvalidArgument);
  EXPECT_FALSE(h_.Exists("/x"));
}

TEST_F(NamespaceTest, Mkdirs_NonParentsCreatesOneLevel) {
  ASSERT_FS_OK(h_.Mkdirs(su_, "/a", 0755, false));
  ASSERT_FS_OK(h_.Mkdirs(su_, "/a/b", 0755, false));
  EXPECT_TRUE(h_.Stat("/a/b").is_dir);
}

// ---- create / addBlock / complete. ----

TEST_F(NamespaceTest, Create_NewFileAttributes) {
  ASSERT_FS_OK(h_.Mkdirs(su_, "/u", 0777));
  ASSERT_FS_OK(h_.Create(alice_, "/u/f", 0640, false, 2, 4096));
  FileInfo f = h_.Stat("/u/f");
  EXPECT_FALSE(f.is_dir);
  EXPECT_EQ(f.path, "/u/f");
  EXPECT_EQ(f.owner, "alice");
  EXPECT_EQ(f.group, "supergroup");
  EXPECT_EQ(f.permission, 0640);
  EXPECT_EQ(f.replication, 2);
  EXPECT_EQ(f.block_size, 4096);
  EXPECT_EQ(f.length, 0);
  EXPECT_TRUE(f.under_construction);
  EXPECT_EQ(f.mtime_ms, f.atime_ms);
  EXPECT_EQ(f.file_id, kRootInodeId + 2);
  EXPECT_EQ(h_.Stat("/u").mtime_ms, f.mtime_ms);
}

TEST_F(NamespaceTest, Create_OverwriteReplacesFile) {
  ASSERT_FS_OK(h_.Create(su_, "/f"));
  ASSERT_FS_OK(h_.AddBlock(su_, "/f", 0));
  const int64_t old_id = h_.Stat("/f").file_id;
  EXPECT_FS_ERR(h_.Create(su_, "/f"), FsError::kAlreadyExists);
  ASSERT_FS_OK(h_.Create(su_, "/f", 0600, /*overwrite=*/true));
  FileInfo f = h_.Stat("/f");
  EXPECT_NE(f.file_id, old_id);
  EXPECT_TRUE(f.blocks.empty());
  EXPECT_EQ(f.permission, 0600);
  EXPECT_EQ(h_.ns().inode_count(), 2);
}

TEST_F(NamespaceTest, Create_Errors) {
  ASSERT_FS_OK(h_.Mkdirs(su_, "/d"));
  ASSERT_FS_OK(h_.Create(su_, "/d/f"));
  EXPECT_FS_ERR(h_.Create(su_, "/d"), FsError::kIsADirectory);
  EXPECT_FS_ERR(h_.Create(su_, "/d", 0644, true), FsError::kIsADirectory);
  EXPECT_FS_ERR(h_.Create(su_, "/"), FsError::kIsADirectory);
  EXPECT_FS_ERR(h_.Create(su_, "/nope/f"), FsError::kNotFound);
  EXPECT_FS_ERR(h_.Create(su_, "/d/f/g"), FsError::kNotADirectory);
  EXPECT_FS_ERR(h_.Create(su_, "/d/g", 0644, false, 0), FsError::kInvalidArgument);
  EXPECT_FS_ERR(h_.Create(su_, "/d/g", 0644, false, 513), FsError::kInvalidArgument);
  EXPECT_FS_ERR(h_.Create(su_, "/d/g", 0644, false, 3, 0), FsError::kInvalidArgument);
  EXPECT_FS_ERR(h_.Create(su_, "/d/g", 0644, false, 3, 1000), FsError::kInvalidArgument);
  EXPECT_FS_ERR(h_.Create(su_, "/d/g", 070000), FsError::kInvalidArgument);
  EXPECT_FS_ERR(h_.Create(su_, "/d//g"), FsError::kInvalidPath);
  EXPECT_FALSE(h_.Exists("/d/g"));
}

TEST_F(NamespaceTest, Blocks_AddBlockAndComplete) {
  ASSERT_FS_OK(h_.Create(su_, "/f", 0644, false, 3, 1024));
  ASSERT_FS_OK(h_.AddBlock(su_, "/f", -1));
  ASSERT_FS_OK(h_.AddBlock(su_, "/f", 1024));
  ASSERT_FS_OK(h_.AddBlock(su_, "/f", 1000));
  ASSERT_FS_OK(h_.Complete(su_, "/f", 17));
  FileInfo f = h_.Stat("/f");
  ASSERT_EQ(f.blocks.size(), 3u);
  EXPECT_EQ(f.blocks[0].id, kFirstBlockId);
  EXPECT_EQ(f.blocks[1].id, kFirstBlockId + 1);
  EXPECT_EQ(f.blocks[0].num_bytes, 1024);
  EXPECT_EQ(f.blocks[1].num_bytes, 1000);
  EXPECT_EQ(f.blocks[2].num_bytes, 17);
  EXPECT_EQ(f.blocks[0].gen_stamp, kFirstGenerationStamp);
  EXPECT_LT(f.blocks[0].gen_stamp, f.blocks[2].gen_stamp);
  EXPECT_EQ(f.length, 2041);
  EXPECT_FALSE(f.under_construction);
  EXPECT_EQ(h_.ns().next_block_id(), kFirstBlockId + 3);
  // A retried complete with the same length succeeds without an edit; another fails.
  const size_t edits = h_.log().size();
  EXPECT_FS_OK(h_.Complete(su_, "/f", 17));
  EXPECT_EQ(h_.log().size(), edits);
  EXPECT_FS_ERR(h_.Complete(su_, "/f", 18), FsError::kInvalidArgument);
  EXPECT_FS_ERR(h_.AddBlock(su_, "/f", 17), FsError::kInvalidArgument);
}

TEST_F(NamespaceTest, Blocks_Errors) {
  ASSERT_FS_OK(h_.Mkdirs(su_, "/d", 0777));
  ASSERT_FS_OK(h_.Create(alice_, "/d/f", 0666, false, 3, 1024));
  EXPECT_FS_ERR(h_.AddBlock(alice_, "/d/f", 5), FsError::kInvalidArgument);  // no block yet
  EXPECT_FS_ERR(h_.AddBlock(alice_, "/d", -1), FsError::kIsADirectory);
  EXPECT_FS_ERR(h_.AddBlock(alice_, "/d/nope", -1), FsError::kNotFound);
  EXPECT_FS_ERR(h_.AddBlock(bob_, "/d/f", -1), FsError::kPermissionDenied);  // not the owner
  ASSERT_FS_OK(h_.AddBlock(alice_, "/d/f", 0));
  EXPECT_FS_ERR(h_.AddBlock(alice_, "/d/f", 1025), FsError::kInvalidArgument);
  EXPECT_FS_ERR(h_.AddBlock(alice_, "/d/f", -1), FsError::kInvalidArgument);
  EXPECT_FS_ERR(h_.Complete(alice_, "/d/f", -1), FsError::kInvalidArgument);
  EXPECT_FS_ERR(h_.Complete(bob_, "/d/f", 1), FsError::kPermissionDenied);
  EXPECT_FS_ERR(h_.Complete(alice_, "/d", 1), FsError::kIsADirectory);
  ASSERT_FS_OK(h_.Complete(su_, "/d/f", 1));  // the superuser may
  ASSERT_FS_OK(h_.Create(alice_, "/d/empty"));
  ASSERT_FS_OK(h_.Complete(alice_, "/d/empty", 0));
  EXPECT_EQ(h_.Stat("/d/empty").length, 0);
}

TEST(NamespaceLimitsTest, MaxBlocksPerFile) {
  NamespaceOptions o;
  o.max_blocks_per_file = 2;
  NsHarness h(o);
  ASSERT_FS_OK(h.Create(Superuser(), "/f"));
  ASSERT_FS_OK(h.AddBlock(Superuser(), "/f", 0));
  ASSERT_FS_OK(h.AddBlock(Superuser(), "/f", 5));
  EXPECT_FS_ERR(h.AddBlock(Superuser(), "/f", 5), FsError::kInvalidArgument);
  h.ExpectReplayEquals();
}

// ---- delete. ----

TEST_F(NamespaceTest, Delete_FilesAndDirectories) {
  ASSERT_FS_OK(h_.Mkdirs(su_, "/a/b/c"));
  ASSERT_FS_OK(h_.Create(su_, "/a/b/f"));
  ASSERT_FS_OK(h_.Mkdirs(su_, "/e"));
  EXPECT_FS_ERR(h_.Delete(su_, "/a", false), FsError::kDirectoryNotEmpty);
  EXPECT_FS_OK(h_.Delete(su_, "/e", false));  // empty: fine without recursive
  EXPECT_FS_OK(h_.Delete(su_, "/a/b/f", false));
  EXPECT_FALSE(h_.Exists("/a/b/f"));
  EXPECT_EQ(h_.ns().inode_count(), 4);
  EXPECT_FS_OK(h_.Delete(su_, "/a", true));
  EXPECT_FALSE(h_.Exists("/a/b/c"));
  EXPECT_EQ(h_.ns().inode_count(), 1);
  EXPECT_FS_ERR(h_.Delete(su_, "/a", true), FsError::kNotFound);
  EXPECT_FS_ERR(h_.Delete(su_, "/", true), FsError::kInvalidArgument);
  EXPECT_FS_ERR(h_.Delete(su_, "x", true), FsError::kInvalidPath);
  ASSERT_FS_OK(h_.Create(su_, "/f"));
  EXPECT_FS_ERR(h_.Delete(su_, "/f/x", true), FsError::kNotADirectory);
}

// ---- rename. ----

TEST_F(NamespaceTest, Rename_Semantics) {
  ASSERT_FS_OK(h_.Mkdirs(su_, "/a/b"));
  ASSERT_FS_OK(h_.Create(su_, "/a/b/f"));
  ASSERT_FS_OK(h_.Mkdirs(su_, "/t"));
  const int64_t fid = h_.Stat("/a/b/f").file_id;
  // Plain rename.
  ASSERT_FS_OK(h_.Rename(su_, "/a/b/f", "/a/b/g"));
  EXPECT_FALSE(h_.Exists("/a/b/f"));
  EXPECT_EQ(h_.Stat("/a/b/g").file_id, fid);
  // Into an existing directory.
  ASSERT_FS_OK(h_.Rename(su_, "/a/b/g", "/t"));
  EXPECT_EQ(h_.Stat("/t/g").file_id, fid);
  // A directory moves with its subtree.
  ASSERT_FS_OK(h_.Create(su_, "/a/b/h"));
  ASSERT_FS_OK(h_.Rename(su_, "/a", "/t/a2"));
  EXPECT_TRUE(h_.Exists("/t/a2/b/h"));
  EXPECT_FALSE(h_.Exists("/a"));
  EXPECT_EQ(h_.Stat("/").mtime_ms, h_.Stat("/t").mtime_ms);  // both parents touched
  // Onto itself: success without an edit.
  const size_t edits = h_.log().size();
  EXPECT_FS_OK(h_.Rename(su_, "/t/g", "/t/g"));
  EXPECT_FS_OK(h_.Rename(su_, "/t/g", "/t"));
  EXPECT_EQ(h_.log().size(), edits);
}

TEST_F(NamespaceTest, Rename_Errors) {
  ASSERT_FS_OK(h_.Mkdirs(su_, "/a/b/c"));
  ASSERT_FS_OK(h_.Create(su_, "/f"));
  ASSERT_FS_OK(h_.Create(su_, "/g"));
  ASSERT_FS_OK(h_.Create(su_, "/a/f"));
  EXPECT_FS_ERR(h_.Rename(su_, "/f", "/g"), FsError::kAlreadyExists);
  EXPECT_FS_ERR(h_.Rename(su_, "/f", "/a"), FsError::kAlreadyExists);  // /a/f exists
  EXPECT_FS_ERR(h_.Rename(su_, "/a", "/a/b/c"), FsError::kInvalidArgument);
  EXPECT_FS_ERR(h_.Rename(su_, "/a", "/a/b/x"), FsError::kInvalidArgument);
  EXPECT_FS_ERR(h_.Rename(su_, "/a", "/a"), FsError::kInvalidArgument);  // -> /a/a
  EXPECT_FS_ERR(h_.Rename(su_, "/", "/x"), FsError::kInvalidArgument);
  EXPECT_FS_ERR(h_.Rename(su_, "/nope", "/x"), FsError::kNotFound);
  EXPECT_FS_ERR(h_.Rename(su_, "/f", "/nope/x"), FsError::kNotFound);
  EXPECT_FS_ERR(h_.Rename(su_, "/f", "/g/x"), FsError::kNotADirectory);
  EXPECT_FS_ERR(h_.Rename(su_, "/f", "/x/../y"), FsError::kInvalidPath);
  EXPECT_TRUE(h_.Exists("/f"));
}

// ---- attributes. ----

TEST_F(NamespaceTest, Attributes_SetPermissionOwnerTimesReplication) {
  ASSERT_FS_OK(h_.Create(su_, "/f"));
  ASSERT_FS_OK(h_.Mkdirs(su_, "/d"));
  ASSERT_FS_OK(h_.Chmod(su_, "/f", 01777));
  EXPECT_EQ(h_.Stat("/f").permission, 01777);
  ASSERT_FS_OK(h_.Chown(su_, "/f", "alice", ""));
  EXPECT_EQ(h_.Stat("/f").owner, "alice");
  EXPECT_EQ(h_.Stat("/f").group, "supergroup");
  ASSERT_FS_OK(h_.Chown(su_, "/f", "", "staff"));
  EXPECT_EQ(h_.Stat("/f").owner, "alice");
  EXPECT_EQ(h_.Stat("/f").group, "staff");
  ASSERT_FS_OK(h_.SetTimes(su_, "/f", 5, -1));
  EXPECT_EQ(h_.Stat("/f").mtime_ms, 5);
  const int64_t atime = h_.Stat("/f").atime_ms;
  ASSERT_FS_OK(h_.SetTimes(su_, "/d", -1, 9));
  EXPECT_EQ(h_.Stat("/d").atime_ms, 9);
  EXPECT_EQ(h_.Stat("/f").atime_ms, atime);
  ASSERT_FS_OK(h_.SetRepl(su_, "/f", 7));
  EXPECT_EQ(h_.Stat("/f").replication, 7);

  EXPECT_FS_ERR(h_.SetRepl(su_, "/d", 2), FsError::kIsADirectory);
  EXPECT_FS_ERR(h_.SetRepl(su_, "/f", 0), FsError::kInvalidArgument);
  EXPECT_FS_ERR(h_.SetRepl(su_, "/nope", 2), FsError::kNotFound);
  EXPECT_FS_ERR(h_.Chmod(su_, "/f", 010000), FsError::kInvalidArgument);
  EXPECT_FS_ERR(h_.Chmod(su_, "/nope", 0), FsError::kNotFound);
  EXPECT_FS_ERR(h_.Chown(su_, "/f", "", ""), FsError::kInvalidArgument);
  EXPECT_FS_ERR(h_.Chown(su_, "/f", std::string(256, 'u'), ""), FsError::kInvalidArgument);
  EXPECT_FS_ERR(h_.SetTimes(su_, "/f", -2, 0), FsError::kInvalidArgument);
  EXPECT_FS_ERR(h_.SetTimes(su_, "/nope", 1, 1), FsError::kNotFound);
}

// ---- reads. ----

TEST_F(NamespaceTest, Reads_ListStatusPagingAndContentSummary) {
  ASSERT_FS_OK(h_.Mkdirs(su_, "/d/sub"));
  for (const char* n : {"b", "a", "c", "e"}) {
    ASSERT_FS_OK(h_.Create(su_, std::string("/d/") + n, 0644, false, 2, 1024));
  }
  ASSERT_FS_OK(h_.AddBlock(su_, "/d/a", -1));
  ASSERT_FS_OK(h_.Complete(su_, "/d/a", 100));
  auto page = h_.ns().ListStatus(su_, "/d/", "", 2);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->entries.size(), 2u);
  EXPECT_EQ(page->entries[0].path, "/d/a");
  EXPECT_EQ(page->entries[0].length, 100);
  EXPECT_EQ(page->entries[1].path, "/d/b");
  EXPECT_EQ(page->remaining_entries, 3);
  page = h_.ns().ListStatus(su_, "/d", "b", 2);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->entries.size(), 2u);
  EXPECT_EQ(page->entries[0].path, "/d/c");
  EXPECT_EQ(page->entries[1].path, "/d/e");
  EXPECT_EQ(page->remaining_entries, 1);
  page = h_.ns().ListStatus(su_, "/d", "d", 0);  // start after a name that isn't there
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->entries.size(), 2u);
  EXPECT_EQ(page->entries[0].path, "/d/e");
  EXPECT_EQ(page->entries[1].path, "/d/sub");
  EXPECT_TRUE(page->entries[1].is_dir);
  EXPECT_EQ(page->remaining_entries, 0);
  page = h_.ns().ListStatus(su_, "/d", "zzz", 10);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->entries.empty());
  EXPECT_EQ(page->remaining_entries, 0);
  // A file lists as itself.
  page = h_.ns().ListStatus(su_, "/d/a", "", 10);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->entries.size(), 1u);
  EXPECT_EQ(page->entries[0].path, "/d/a");
  EXPECT_EQ(h_.ns().ListStatus(su_, "/nope", "", 1).status().code(), FsError::kNotFound);

  auto sum = h_.ns().GetContentSummary(su_, "/");
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ(sum->directory_count, 3);
  EXPECT_EQ(sum->file_count, 4);
  EXPECT_EQ(sum->length, 100);
  EXPECT_EQ(sum->space_consumed, 200);
  sum = h_.ns().GetContentSummary(su_, "/d/a");
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ(sum->file_count, 1);
  EXPECT_EQ(sum->directory_count, 0);
  EXPECT_EQ(h_.ns().GetContentSummary(su_, "/x").status().code(), FsError::kNotFound);
  EXPECT_EQ(h_.ns().GetFileInfo(su_, "/d/a/x").status().code(), FsError::kNotADirectory);
  EXPECT_EQ(h_.ns().GetFileInfo(su_, "/d/x").status().code(), FsError::kNotFound);
  EXPECT_EQ(h_.ns().GetFileInfo(su_, "").status().code(), FsError::kInvalidPath);
  EXPECT_EQ(h_.ns().GetFileInfo(su_, "/").value().file_id, kRootInodeId);
}

TEST_F(NamespaceTest, Reads_HugeDirectoryPagesWithExactRemainingCounts) {
  constexpr int kChildren = 20000;
  ASSERT_FS_OK(h_.Mkdirs(su_, "/big"));
  for (int i = 0; i < kChildren; ++i) {
    char name[32];
    std::snprintf(name, sizeof(name), "/big/f%06d", i);
    ASSERT_FS_OK(h_.Create(su_, name));
  }
  std::string after;
  int seen = 0;
  while (true) {
    auto page = h_.ns().ListStatus(su_, "/big", after, 1000);
    ASSERT_TRUE(page.ok());
    if (page->entries.empty()) break;
    seen += static_cast<int>(page->entries.size());
    EXPECT_EQ(page->remaining_entries, kChildren - seen);
    char expect[32];
    std::snprintf(expect, sizeof(expect), "/big/f%06d", seen - 1);
    EXPECT_EQ(page->entries.back().path, expect);
    after = page->entries.back().path.substr(5);
  }
  EXPECT_EQ(seen, kChildren);
}

// ---- Apply. ----

TEST_F(NamespaceTest, Apply_MismatchedEditIsCorruptionAndChangesNothing) {
  ASSERT_FS_OK(h_.Mkdirs(su_, "/a"));
  const uint64_t before = h_.ns().Digest();
  // Applying the same mkdir again: the directory exists.
  Status s = h_.ns().Apply(h_.log().back(), 42);
  EXPECT_TRUE(s.IsCorruption()) << s;
  EXPECT_NE(s.message().find("txid 42"), std::string::npos) << s;
  EXPECT_NE(s.message().find("MKDIR /a"), std::string::npos) << s;
  // An edit naming the wrong inode id.
  SetPermissionEdit sp;
  sp.path = "/a";
  sp.inode_id = 999999;
  sp.permission = 0700;
  EXPECT_TRUE(h_.ns().Apply(sp).IsCorruption());
  // Reused inode ids, missing parents, a rename into its own subtree.
  CreateEdit ce;
  ce.path = "/a/f";
  ce.inode_id = kRootInodeId + 1;
  ce.owner = ce.group = "x";
  ce.replication = 1;
  ce.block_size = 512;
  EXPECT_TRUE(h_.ns().Apply(ce).IsCorruption());
  ce.inode_id = h_.ns().next_inode_id();
  ce.path = "/nope/f";
  EXPECT_TRUE(h_.ns().Apply(ce).IsCorruption());
  RenameEdit re;
  re.src = "/a";
  re.dst = "/a/b";
  re.inode_id = h_.Stat("/a").file_id;
  EXPECT_TRUE(h_.ns().Apply(re).IsCorruption());
  DeleteEdit de;
  de.path = "/";
  de.inode_id = kRootInodeId;
  EXPECT_TRUE(h_.ns().Apply(de).IsCorruption());
  EXPECT_EQ(h_.ns().Digest(), before);
  EXPECT_TRUE(h_.ns().Apply(NoopEdit()).ok());
  EXPECT_EQ(h_.ns().Digest(), before);
}

TEST(NamespaceEqualsTest, ReportsFirstDifference) {
  NsHarness a, b;
  ASSERT_FS_OK(a.Mkdirs(Superuser(), "/x/y"));
  ASSERT_FS_OK(b.Mkdirs(Superuser(), "/x/y"));
  std::string why;
  EXPECT_TRUE(NamespaceEquals(a.ns(), b.ns(), &why)) << why;
  EXPECT_EQ(a.ns().Digest(), b.ns().Digest());
  ASSERT_FS_OK(b.Chmod(Superuser(), "/x/y", 0700));
  EXPECT_FALSE(NamespaceEquals(a.ns(), b.ns(), &why));
  EXPECT_NE(why.find("/x/y: permission"), std::string::npos) << why;
  EXPECT_NE(a.ns().Digest(), b.ns().Digest());
}

}  // namespace
}  // namespace qj::nn
