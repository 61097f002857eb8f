// Replaying the edits of a random workload (through the encoding) onto a fresh namespace
// gives an identical namespace; and Apply is deterministic across instances.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <set>

#include "namenode/namespace.h"
#include "tests/namenode/namespace_test_util.h"

namespace qj::nn {
namespace {

using testing_util::NsHarness;
using testing_util::RandomWorkload;

TEST(ReplayTest, RandomWorkload_ReplayedEditsGiveIdenticalNamespace) {
  for (uint64_t seed : {1, 2, 3, 4}) {
    NsHarness h;
    const int ok = RandomWorkload(&h, seed, 4000);
    // The workload must exercise both paths: plenty of successes and of failures.
    EXPECT_GT(ok, 400) << "seed " << seed;
    EXPECT_LT(ok, 3800) << "seed " << seed;
    EXPECT_GT(h.ns().inode_count(), 10) << "seed " << seed;
    h.ExpectReplayEquals();
  }
}

TEST(ReplayTest, RandomWorkload_EveryOpKindAppears) {
  NsHarness h;
  RandomWorkload(&h, 99, 4000);
  std::set<EditOp> kinds;
  for (const Edit& e : h.log()) kinds.insert(OpOf(e));
  for (EditOp op : {EditOp::kMkdir, EditOp::kCreate, EditOp::kAddBlock, EditOp::kComplete,
                    EditOp::kDelete, EditOp::kRename, EditOp::kSetPermission, EditOp::kSetOwner,
                    EditOp::kSetTimes, EditOp::kSetReplication}) {
    EXPECT_TRUE(kinds.count(op)) << EditOpName(op);
  }
}

TEST(ReplayTest, ReplayingTwiceOntoTheSameStateFails) {
  NsHarness h;
  RandomWorkload(&h, 5, 500);
  // Re-applying the last mutation on top of the state it produced must not silently
  // succeed for create/mkdir (they would duplicate ids).
  for (auto it = h.log().rbegin(); it != h.log().rend(); ++it) {
    if (OpOf(*it) == EditOp::kCreate || OpOf(*it) == EditOp::kMkdir) {
      EXPECT_TRUE(h.ns().Apply(*it).IsCorruption()) << DescribeEdit(*it);
      break;
    }
  }
}

// Prints Prepare+Apply rates (no assertion: speed belongs to figures, not to tests).
TEST(ReplayTest, PrintsPrepareApplyRate) {
  NsHarness h;
  const Caller su = testing_util::Superuser();
  constexpr int kDirs = 100, kFiles = 200;
  auto start = std::chrono::steady_clock::now();
  int n = 0;
  for (int d = 0; d < kDirs; ++d) {
    const std::string dir = "/user/alice/data/dir" + std::to_string(d);
    ASSERT_FS_OK(h.Mkdirs(su, dir));
    ++n;
    for (int f = 0; f < kFiles; ++f) {
      ASSERT_FS_OK(h.Create(su, dir + "/part-" + std::to_string(f)));
      ++n;
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("namespace: %d mkdirs/create Prepare+Apply in %.3f s = %.2f us/op\n", n, secs,
              secs * 1e6 / n);
}

}  // namespace
}  // namespace qj::nn
