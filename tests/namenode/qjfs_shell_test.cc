// qjfs's hdfs-dfs verbs against a real namenode pair on 3 real journalnodes: relative
// paths (resolved against /user/<user>, shown relative), -ls without a path, -test, -find,
// -setrep, -chmod/-chown/-chgrp -R, -rmdir, -du -s.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/nn_cluster.h"
#include "tests/support/status_macros.h"

namespace qj::testing {
namespace {

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

class QjfsShellTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(c_.Start());
    ASSERT_OK(c_.TransitionToActive(0));
    ASSERT_EQ(Su({"-mkdir", "-p", "/user/alice"}), 0) << out_;
    ASSERT_EQ(Su({"-chown", "alice:staff", "/user/alice"}), 0) << out_;
  }
  int As(const std::string& user, const std::string& groups, std::vector<std::string> args) {
    args.insert(args.begin(), {"--user=" + user, "--groups=" + groups});
    out_.clear();
    return c_.Qjfs(args, &out_);
  }
  int Su(std::vector<std::string> args) { return As("nnsuper", "supergroup", std::move(args)); }
  int Alice(std::vector<std::string> args) { return As("alice", "alice,staff", std::move(args)); }

  NnCluster c_;
  std::string out_;
};

TEST_F(QjfsShellTest, RelativePathsAndLsWithoutPath) {
  ASSERT_EQ(Alice({"-ls"}), 0) << out_;
  EXPECT_EQ(out_, "Found 0 items\n");
  ASSERT_EQ(Alice({"-mkdir", "-p", "docs/sub"}), 0) << out_;
  ASSERT_EQ(Alice({"-touch", "docs/a.txt", "./docs/sub/b.txt"}), 0) << out_;
  ASSERT_EQ(Alice({"-ls"}), 0) << out_;
  EXPECT_TRUE(Contains(out_, "Found 1 items\n")) << out_;
  EXPECT_TRUE(Contains(out_, " alice    staff ")) << out_;
  EXPECT_TRUE(Contains(out_, " docs\n")) << out_;  // shown relative, as typed
  ASSERT_EQ(Alice({"-ls", "/user/alice"}), 0) << out_;
  EXPECT_TRUE(Contains(out_, " /user/alice/docs\n")) << out_;
  ASSERT_EQ(Alice({"-ls", "-R", "-h", "docs"}), 0) << out_;
  EXPECT_TRUE(Contains(out_, " docs/sub/b.txt\n")) << out_;
  EXPECT_TRUE(Contains(out_, " docs/a.txt\n")) << out_;
  ASSERT_EQ(Alice({"-stat", "%n %F", "docs/a.txt"}), 0) << out_;
  EXPECT_EQ(out_, "a.txt regular empty file\n");
  EXPECT_EQ(Alice({"-ls", "nope"}), 1) << out_;
  EXPECT_TRUE(Contains(out_, "ls: `nope': No such file or directory")) << out_;
}

TEST_F(QjfsShellTest, TestFindSetrepAndRecursivePermissions) {
  ASSERT_EQ(Alice({"-mkdir", "-p", "docs/sub"}), 0) << out_;
  ASSERT_EQ(Alice({"-touch", "docs/a.txt", "docs/sub/b.txt"}), 0) << out_;
  // -test: exit status only.
  EXPECT_EQ(Alice({"-test", "-d", "docs"}), 0) << out_;
  EXPECT_EQ(Alice({"-test", "-f", "docs"}), 1) << out_;
  EXPECT_EQ(Alice({"-test", "-f", "docs/a.txt"}), 0) << out_;
  EXPECT_EQ(Alice({"-test", "-e", "docs/none"}), 1) << out_;
  EXPECT_EQ(out_, "");
  EXPECT_EQ(Alice({"-test", "-z", "docs/a.txt"}), 0) << out_;
  EXPECT_EQ(Alice({"-test", "-s", "docs/a.txt"}), 1) << out_;
  EXPECT_EQ(Alice({"-test", "-q", "docs"}), 2) << out_;
  // -find: parents before children, names matched by glob.
  ASSERT_EQ(Alice({"-find", "docs", "-name", "*.txt"}), 0) << out_;
  EXPECT_EQ(out_, "docs/a.txt\ndocs/sub/b.txt\n");
  ASSERT_EQ(Alice({"-find", "/user", "-iname", "B.TXT", "-print"}), 0) << out_;
  EXPECT_EQ(out_, "/user/alice/docs/sub/b.txt\n");
  ASSERT_EQ(Alice({"-find", "docs"}), 0) << out_;
  EXPECT_EQ(out_, "docs\ndocs/a.txt\ndocs/sub\ndocs/sub/b.txt\n");
  // -setrep on a directory: every file below it, HDFS's line per file.
  ASSERT_EQ(Alice({"-setrep", "2", "docs"}), 0) << out_;
  EXPECT_EQ(out_, "Replication 2 set: docs/a.txt\nReplication 2 set: docs/sub/b.txt\n");
  ASSERT_EQ(Alice({"-stat", "%r", "docs/sub/b.txt"}), 0) << out_;
  EXPECT_EQ(out_, "2\n");
  EXPECT_EQ(Alice({"-setrep", "0", "docs"}), 2) << out_;
  // -R for chmod / chgrp / chown.
  ASSERT_EQ(Alice({"-chmod", "-R", "700", "docs"}), 0) << out_;
  ASSERT_EQ(Alice({"-stat", "%a %a", "docs/sub/b.txt"}), 0) << out_;
  EXPECT_EQ(out_, "700 700\n");
  ASSERT_EQ(Alice({"-chmod", "750", "docs"}), 0) << out_;  // without -R: only docs
  ASSERT_EQ(Alice({"-stat", "%a", "docs/sub"}), 0) << out_;
  EXPECT_EQ(out_, "700\n");
  ASSERT_EQ(Alice({"-chgrp", "-R", "alice", "docs"}), 0) << out_;
  ASSERT_EQ(Alice({"-stat", "%g", "docs/sub/b.txt"}), 0) << out_;
  EXPECT_EQ(out_, "alice\n");
  // -du -s: one line per argument.
  ASSERT_EQ(Alice({"-du", "-s", "-h", "docs", "/user/alice"}), 0) << out_;
  EXPECT_EQ(out_, "0          0          docs\n0          0          /user/alice\n");
  ASSERT_EQ(Su({"-chown", "-R", "bob", "/user/alice/docs/sub"}), 0) << out_;
  ASSERT_EQ(Su({"-stat", "%u:%g", "/user/alice/docs/sub/b.txt"}), 0) << out_;
  EXPECT_EQ(out_, "bob:alice\n");
}

TEST_F(QjfsShellTest, Rmdir) {
  ASSERT_EQ(Alice({"-mkdir", "-p", "d/e"}), 0) << out_;
  ASSERT_EQ(Alice({"-touch", "f"}), 0) << out_;
  EXPECT_EQ(Alice({"-rmdir", "d"}), 1) << out_;
  EXPECT_TRUE(Contains(out_, "rmdir: `d': Directory is not empty")) << out_;
  EXPECT_EQ(Alice({"-rmdir", "--ignore-fail-on-non-empty", "d"}), 0) << out_;
  EXPECT_EQ(Alice({"-rmdir", "f"}), 1) << out_;
  EXPECT_TRUE(Contains(out_, "Is not a directory")) << out_;
  ASSERT_EQ(Alice({"-rmdir", "d/e"}), 0) << out_;
  EXPECT_EQ(Alice({"-test", "-e", "d/e"}), 1);
  ASSERT_EQ(Alice({"-rmdir", "d"}), 0) << out_;
  EXPECT_EQ(Alice({"-test", "-e", "d"}), 1);
}

// Start-up logs its image load as a progress line with size and duration.
TEST_F(QjfsShellTest, ImageLoadIsLoggedWithSizeAndDuration) {
  std::ifstream log(c_.log_path(0));
  std::stringstream text;
  text << log.rdbuf();
  EXPECT_TRUE(Contains(text.str(), ": loading: done, ")) << text.str();
  EXPECT_TRUE(Contains(text.str(), "MiB/s), txid 0, 1 inodes")) << text.str();
}

}  // namespace
}  // namespace qj::testing
