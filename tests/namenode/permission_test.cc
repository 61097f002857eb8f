// HDFS-style permission checks of FsNamespace: traverse, parent write, sticky bit,
// subtree checks, owner-only operations, superuser and supergroup bypass.
#include <gtest/gtest.h>

#include "namenode/namespace.h"
#include "tests/namenode/namespace_test_util.h"

namespace qj::nn {
namespace {

using testing_util::Alice;
using testing_util::Bob;
using testing_util::Carol;
using testing_util::NsHarness;
using testing_util::Superuser;

class PermissionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // /pub 0755 alice:staff, /grp 0770 alice:staff, /shared 0777, /tmp 1777 carol,
    // /private 0700 alice with a file inside.
    ASSERT_FS_OK(h_.Mkdirs(su_, "/pub"));
    ASSERT_FS_OK(h_.Chown(su_, "/pub", "alice", "staff"));
    ASSERT_FS_OK(h_.Mkdirs(su_, "/grp", 0770));
    ASSERT_FS_OK(h_.Chown(su_, "/grp", "alice", "staff"));
    ASSERT_FS_OK(h_.Mkdirs(su_, "/shared", 0777));
    ASSERT_FS_OK(h_.Mkdirs(su_, "/tmp", 01777));
    ASSERT_FS_OK(h_.Chown(su_, "/tmp", "carol", ""));
    ASSERT_FS_OK(h_.Mkdirs(su_, "/private", 0700));
    ASSERT_FS_OK(h_.Chown(su_, "/private", "alice", ""));
    ASSERT_FS_OK(h_.Create(alice_, "/private/f"));
  }
  void TearDown() override { h_.ExpectReplayEquals(); }

  NsHarness h_;
  const Caller su_ = Superuser();
  const Caller alice_ = Alice();
  const Caller bob_ = Bob();
  const Caller carol_ = Carol();
};

TEST_F(PermissionTest, Traverse_NeedsExecuteOnEveryAncestor) {
  EXPECT_TRUE(h_.ns().GetFileInfo(bob_, "/private").ok());  // x on / suffices
  EXPECT_EQ(h_.ns().GetFileInfo(bob_, "/private/f").status().code(), FsError::kPermissionDenied);
  // What is below a denied directory stays hidden: denied, not "not found".
  EXPECT_EQ(h_.ns().GetFileInfo(bob_, "/private/nope").status().code(), FsError::kPermissionDenied);
  EXPECT_FS_ERR(h_.Mkdirs(bob_, "/private/x"), FsError::kPermissionDenied);
  EXPECT_TRUE(h_.ns().GetFileInfo(alice_, "/private/f").ok());
  auto s = h_.ns().GetFileInfo(bob_, "/private/f").status();
  EXPECT_NE(
      s.message().find("user=bob, access=EXECUTE, inode=\"/private\":alice:supergroup:drwx------"),
      std::string::npos)
      << s;
}

TEST_F(PermissionTest, MkdirCreate_NeedWriteOnParent) {
  EXPECT_FS_ERR(h_.Mkdirs(bob_, "/pub/x"), FsError::kPermissionDenied);
  EXPECT_FS_ERR(h_.Create(bob_, "/pub/x"), FsError::kPermissionDenied);
  EXPECT_FS_ERR(h_.Mkdirs(bob_, "/pub/a/b/c"), FsError::kPermissionDenied);
  EXPECT_FS_OK(h_.Mkdirs(alice_, "/pub/a/b/c"));
  EXPECT_EQ(h_.Stat("/pub/a/b/c").owner, "alice");
  EXPECT_EQ(h_.Stat("/pub/a/b/c").group, "staff");  // inherited from /pub
  // Group write: bob is in staff, carol is not.
  EXPECT_FS_OK(h_.Create(bob_, "/grp/by-bob"));
  EXPECT_FS_ERR(h_.Create(carol_, "/grp/by-carol"), FsError::kPermissionDenied);
  // Overwriting needs w on the file too.
  ASSERT_FS_OK(h_.Create(alice_, "/shared/af", 0644));
  EXPECT_FS_ERR(h_.Create(bob_, "/shared/af", 0644, true), FsError::kPermissionDenied);
  ASSERT_FS_OK(h_.Chmod(alice_, "/shared/af", 0666));
  EXPECT_FS_OK(h_.Create(bob_, "/shared/af", 0644, true));
  EXPECT_EQ(h_.Stat("/shared/af").owner, "bob");
}

TEST_F(PermissionTest, Delete_ParentWriteAndStickyBit) {
  ASSERT_FS_OK(h_.Create(alice_, "/pub/f"));
  EXPECT_FS_ERR(h_.Delete(bob_, "/pub/f", false), FsError::kPermissionDenied);
  // No sticky bit: anyone with w on the parent may delete.
  ASSERT_FS_OK(h_.Create(alice_, "/shared/f"));
  EXPECT_FS_OK(h_.Delete(bob_, "/shared/f", false));
  // Sticky: only the file's owner or the directory's owner.
  ASSERT_FS_OK(h_.Create(alice_, "/tmp/a1"));
  ASSERT_FS_OK(h_.Create(alice_, "/tmp/a2"));
  ASSERT_FS_OK(h_.Create(bob_, "/tmp/b1"));
  FsStatus s = h_.Delete(bob_, "/tmp/a1", false);
  EXPECT_EQ(s.code(), FsError::kPermissionDenied);
  EXPECT_NE(s.message().find("sticky"), std::string::npos) << s;
  EXPECT_FS_ERR(h_.Rename(bob_, "/tmp/a1", "/tmp/mine"), FsError::kPermissionDenied);
  EXPECT_FS_OK(h_.Delete(alice_, "/tmp/a1", false));
  EXPECT_FS_OK(h_.Delete(carol_, "/tmp/b1", false));  // owns /tmp
  EXPECT_FS_OK(h_.Rename(alice_, "/tmp/a2", "/tmp/a3"));
}

TEST_F(PermissionTest, Delete_RecursiveNeedsFullAccessOnNonEmptySubdirs) {
  ASSERT_FS_OK(h_.Mkdirs(alice_, "/shared/dir/locked", 0777));
  ASSERT_FS_OK(h_.Create(alice_, "/shared/dir/locked/f"));
  ASSERT_FS_OK(h_.Mkdirs(alice_, "/shared/dir/empty", 0500));
  ASSERT_FS_OK(h_.Chmod(alice_, "/shared/dir", 0777));
  ASSERT_FS_OK(h_.Chmod(alice_, "/shared/dir/locked", 0755));
  EXPECT_FS_ERR(h_.Delete(bob_, "/shared/dir", true), FsError::kPermissionDenied);
  ASSERT_FS_OK(h_.Chmod(alice_, "/shared/dir/locked", 0777));
  EXPECT_FS_OK(h_.Delete(bob_, "/shared/dir", true));  // the empty 0500 dir is ignored
  EXPECT_FALSE(h_.Exists("/shared/dir"));
}

TEST_F(PermissionTest, Rename_NeedsWriteOnBothParents) {
  ASSERT_FS_OK(h_.Create(bob_, "/shared/bf"));
  EXPECT_FS_ERR(h_.Rename(bob_, "/shared/bf", "/pub/bf"), FsError::kPermissionDenied);
  EXPECT_FS_ERR(h_.Rename(bob_, "/private/f", "/shared/x"), FsError::kPermissionDenied);
  EXPECT_FS_OK(h_.Rename(bob_, "/shared/bf", "/grp"));  // into /grp (group w)
  EXPECT_TRUE(h_.Exists("/grp/bf"));
}

TEST_F(PermissionTest, Reads_ListNeedsReadExecute_SummaryNeedsSubtree) {
  ASSERT_FS_OK(h_.Mkdirs(alice_, "/shared/noread", 0711));
  ASSERT_FS_OK(h_.Create(alice_, "/shared/noread/f"));
  EXPECT_EQ(h_.ns().ListStatus(bob_, "/shared/noread", "", 10).status().code(),
            FsError::kPermissionDenied);
  EXPECT_TRUE(h_.ns().ListStatus(alice_, "/shared/noread", "", 10).ok());
  EXPECT_TRUE(h_.ns().GetFileInfo(bob_, "/shared/noread/f").ok());  // x is enough
  EXPECT_EQ(h_.ns().GetContentSummary(bob_, "/shared").status().code(), FsError::kPermissionDenied);
  EXPECT_EQ(h_.ns().GetContentSummary(bob_, "/").status().code(), FsError::kPermissionDenied);
  EXPECT_TRUE(h_.ns().GetContentSummary(bob_, "/pub").ok());
  EXPECT_TRUE(h_.ns().ListStatus(bob_, "/", "", 10).ok());
}

TEST_F(PermissionTest, OwnerOnly_SetPermissionAndSetOwner) {
  EXPECT_FS_ERR(h_.Chmod(bob_, "/pub", 0777), FsError::kPermissionDenied);
  EXPECT_FS_OK(h_.Chmod(alice_, "/pub", 0775));
  EXPECT_FS_ERR(h_.Chown(alice_, "/pub", "bob", ""), FsError::kPermissionDenied);
  EXPECT_FS_OK(h_.Chown(alice_, "/pub", "alice", ""));  // to herself: allowed
  EXPECT_FS_OK(h_.Chown(alice_, "/pub", "", "alice"));  // a group she is in
  EXPECT_FS_ERR(h_.Chown(alice_, "/pub", "", "wheel"), FsError::kPermissionDenied);
  EXPECT_FS_ERR(h_.Chown(bob_, "/pub", "", "staff"), FsError::kPermissionDenied);
  EXPECT_FS_OK(h_.Chown(su_, "/pub", "bob", "wheel"));
  EXPECT_EQ(h_.Stat("/pub").owner, "bob");
  EXPECT_EQ(h_.Stat("/pub").group, "wheel");
}

TEST_F(PermissionTest, WriteOnInode_SetTimesAndSetReplication) {
  ASSERT_FS_OK(h_.Create(alice_, "/shared/f", 0644));
  EXPECT_FS_ERR(h_.SetTimes(bob_, "/shared/f", 1, 1), FsError::kPermissionDenied);
  EXPECT_FS_ERR(h_.SetRepl(bob_, "/shared/f", 1), FsError::kPermissionDenied);
  ASSERT_FS_OK(h_.Chmod(alice_, "/shared/f", 0666));
  EXPECT_FS_OK(h_.SetTimes(bob_, "/shared/f", 1, 1));
  EXPECT_FS_OK(h_.SetRepl(bob_, "/shared/f", 1));
}

TEST_F(PermissionTest, SuperuserAndSupergroupBypassEverything) {
  const Caller sg{"dave", {"dave", "supergroup"}};
  for (const Caller& c : {su_, sg}) {
    EXPECT_TRUE(h_.ns().GetFileInfo(c, "/private/f").ok());
    EXPECT_TRUE(h_.ns().ListStatus(c, "/private", "", 10).ok());
    EXPECT_FS_OK(h_.Chmod(c, "/private/f", 0600));
  }
  EXPECT_TRUE(h_.ns().IsSuperuser(sg));
  EXPECT_FALSE(h_.ns().IsSuperuser(bob_));
  EXPECT_FS_OK(h_.Create(sg, "/private/g"));
  EXPECT_FS_OK(h_.Delete(sg, "/private", true));
}

TEST(PermissionsDisabledTest, AnyoneMayDoAnything) {
  NamespaceOptions o;
  o.permissions_enabled = false;
  NsHarness h(o);
  ASSERT_FS_OK(h.Mkdirs(Superuser(), "/locked", 0));
  EXPECT_FS_OK(h.Create(Bob(), "/locked/f"));
  EXPECT_FS_OK(h.Chown(Bob(), "/locked", "carol", "wheel"));
  EXPECT_FS_OK(h.Delete(Carol(), "/locked", true));
  h.ExpectReplayEquals();
}

}  // namespace
}  // namespace qj::nn
