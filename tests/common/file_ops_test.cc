// FileOps::Stat (common/file_ops.h), on the real file system and on the simulated disk
// (tests/support/sim_disk.h) that stands in for it in crash tests: a file's size and
// modification time, NotFound and InvalidArgument as the header says.
#include "common/file_ops.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "tests/support/fake_clock.h"
#include "tests/support/process.h"
#include "tests/support/sim_disk.h"
#include "tests/support/status_macros.h"

namespace qj::testing {
namespace {

TEST(FileOpsStatTest, PosixReportsSizeAndModificationTime) {
  TempDir tmp;
  FileOps* fs = FileOps::Posix();
  const std::string path = tmp.path() + "/f";
  ASSERT_OK(fs->AtomicWrite(path, "twelve bytes"));
  // A known modification time: 2020-01-01 12:00:00.250 UTC.
  const struct timespec times[2] = {{1577880000, 0}, {1577880000, 250'000'000}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  auto info = fs->Stat(path);
  ASSERT_OK(info.status());
  EXPECT_EQ(info->size, 12u);
  EXPECT_EQ(info->mtime_ms, 1577880000250);

  EXPECT_EQ(fs->Stat(tmp.path() + "/missing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fs->Stat(tmp.path()).status().code(), StatusCode::kInvalidArgument);
}

TEST(FileOpsStatTest, SimDiskStampsChangesWithItsClock) {
  FakeClock clock(5'000'000'000);  // wall time 5000 ms
  sim::SimDisk disk(&clock);
  ASSERT_OK(disk.CreateDirs("/d"));
  ASSERT_OK(disk.AtomicWrite("/d/f", "abc"));
  auto info = disk.Stat("/d/f");
  ASSERT_OK(info.status());
  EXPECT_EQ(info->size, 3u);
  EXPECT_EQ(info->mtime_ms, 5000);

  // A write moves the time; a read does not.
  clock.Advance(2'000'000'000);
  {
    auto f = disk.Open("/d/f", FileOps::Mode::kWrite);
    ASSERT_OK(f.status());
    ASSERT_OK((*f)->WriteAt(3, "de"));
  }
  clock.Advance(1'000'000'000);
  std::string data;
  ASSERT_OK(disk.ReadFile("/d/f", &data));
  info = disk.Stat("/d/f");
  ASSERT_OK(info.status());
  EXPECT_EQ(info->size, 5u);
  EXPECT_EQ(info->mtime_ms, 7000);

  EXPECT_EQ(disk.Stat("/d/missing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(disk.Stat("/d").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace qj::testing
