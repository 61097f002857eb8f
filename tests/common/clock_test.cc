// RealClock (common/clock.h): the clock leases are timed on must count the time the host
// spent suspended.
#include "common/clock.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <string>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace qj {
namespace {

constexpr int kSkip = 77;
constexpr int64_t kSuspendSec = 1000;

int64_t Nanos(clockid_t id) {
  timespec ts;
  clock_gettime(id, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

TEST(RealClock, ReadsBoottime) {
  const int64_t before = Nanos(CLOCK_BOOTTIME);
  const int64_t t = RealClock::Get()->MonotonicNanos();
  const int64_t after = Nanos(CLOCK_BOOTTIME);
  EXPECT_LE(before, t);
  EXPECT_LE(t, after);
}

// In the grandchild: compares RealClock with CLOCK_BOOTTIME; exit 0 when it matches.
[[noreturn]] void CheckInsideTimeNamespace() {
  const int64_t mono = Nanos(CLOCK_MONOTONIC);
  const int64_t before = Nanos(CLOCK_BOOTTIME);
  const int64_t t = RealClock::Get()->MonotonicNanos();
  const int64_t after = Nanos(CLOCK_BOOTTIME);
  // The namespace must really show a suspended host (BOOTTIME ahead of MONOTONIC).
  if (before - mono < (kSuspendSec - 1) * 1'000'000'000) _exit(kSkip);
  _exit(before <= t && t <= after ? 0 : 1);
}

// A host that was suspended for 1000 s is modelled by a time namespace (Linux >= 5.6)
// whose CLOCK_BOOTTIME runs 1000 s ahead of its CLOCK_MONOTONIC: that is exactly what a
// suspend leaves behind. A lease clock that ignores it (CLOCK_MONOTONIC) reads 1000 s
// early, i.e. a suspended holder would still believe in a lease its grantors expired.
TEST(RealClock, CountsTimeTheHostWasSuspended) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // A time namespace needs CAP_SYS_TIME; without root, in a new user namespace.
    if (unshare(CLONE_NEWTIME) != 0 && unshare(CLONE_NEWUSER | CLONE_NEWTIME) != 0) {
      _exit(kSkip);
    }
    // Offsets can be written only before a process enters the namespace.
    const std::string offsets = "boottime " + std::to_string(kSuspendSec) + " 0\n";
    const int fd = open("/proc/self/timens_offsets", O_WRONLY);
    if (fd < 0) _exit(kSkip);
    if (write(fd, offsets.data(), offsets.size()) != static_cast<ssize_t>(offsets.size())) {
      _exit(kSkip);
    }
    close(fd);
    const pid_t grandchild = fork();  // the first process inside the namespace
    if (grandchild < 0) _exit(kSkip);
    if (grandchild == 0) CheckInsideTimeNamespace();
    int status = 0;
    if (waitpid(grandchild, &status, 0) != grandchild || !WIFEXITED(status)) _exit(2);
    _exit(WEXITSTATUS(status));
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == kSkip) {
    GTEST_SKIP() << "time namespaces are not available here";
  }
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "RealClock::MonotonicNanos() does not count suspended time (not CLOCK_BOOTTIME)";
}

}  // namespace
}  // namespace qj
