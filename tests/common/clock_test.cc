// RealClock (common/clock.h): the clock leases are timed on must count the time the host
// spent suspended. Clock::WaitUntil, the one wait for a deadline on a clock: on the real
// clock one timed wait that ends at the deadline or when signalled; on tests' FakeClock
// (tests/support/fake_clock.h) a wait that only the clock's own moves or a signal end.
#include "common/clock.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "common/mutex.h"
#include "tests/support/fake_clock.h"

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

// ---- Clock::WaitUntil ----

// A wait for a deadline on `clock` with nothing signalling: how many times WaitUntil
// returned true (woke up) before it said the deadline had passed.
struct WaitOutcome {
  int wakeups = 0;
  int64_t ended_at = 0;  // clock time
};

WaitOutcome WaitOut(const Clock& clock, int64_t deadline) {
  Mutex mu;
  CondVar cv;
  WaitOutcome out;
  MutexLock l(&mu);
  while (clock.WaitUntil(&cv, &mu, deadline)) ++out.wakeups;
  out.ended_at = clock.MonotonicNanos();
  return out;
}

TEST(ClockWait, RealClockSleepsUntilTheDeadlineInOneWait) {
  const Clock& clock = *RealClock::Get();
  const int64_t deadline = clock.MonotonicNanos() + 300 * kNanosPerMilli;
  const WaitOutcome out = WaitOut(clock, deadline);
  EXPECT_GE(out.ended_at, deadline);
  // One timed wait for the whole 300 ms; a wait that re-read the clock every 50 ms (the
  // old WaitOnClock) or 20 ms would wake 6 or 15 times. One more for a spurious wake-up.
  EXPECT_GE(out.wakeups, 1);
  EXPECT_LE(out.wakeups, 2);
}

TEST(ClockWait, PastDeadlineReturnsAtOnce) {
  Mutex mu;
  CondVar cv;
  MutexLock l(&mu);
  const int64_t now = RealClock::Get()->MonotonicNanos();
  EXPECT_FALSE(RealClock::Get()->WaitUntil(&cv, &mu, now));
  FakeClock fake;
  EXPECT_FALSE(fake.WaitUntil(&cv, &mu, fake.MonotonicNanos()));
  EXPECT_FALSE(fake.WaitUntil(&cv, &mu, fake.MonotonicNanos() - 1));
}

// A waiter until `deadline` on `clock` that stops at `flag` (set under `mu`, then `cv`
// signalled); its future says whether the flag (true) or the deadline (false) ended it.
struct FlagWaiter {
  Mutex mu;
  CondVar cv;
  bool flag GUARDED_BY(mu) = false;
  std::future<bool> done;

  void Start(const Clock* clock, int64_t deadline) {
    done = std::async(std::launch::async, [this, clock, deadline] {
      MutexLock l(&mu);
      while (!flag && clock->WaitUntil(&cv, &mu, deadline)) {
      }
      return flag;
    });
  }
  void Set() {
    {
      MutexLock l(&mu);
      flag = true;
    }
    cv.SignalAll();
  }
  // Whether the waiter ended within `ms` of real time.
  bool EndsWithin(int ms) {
    return done.wait_for(std::chrono::milliseconds(ms)) == std::future_status::ready;
  }
};

TEST(ClockWait, RealClockWakesEarlyWhenSignalled) {
  const Clock* clock = RealClock::Get();
  const int64_t deadline = clock->MonotonicNanos() + 3600 * 1000 * kNanosPerMilli;
  FlagWaiter w;
  w.Start(clock, deadline);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  w.Set();
  ASSERT_TRUE(w.EndsWithin(60'000));
  EXPECT_TRUE(w.done.get());  // the signal ended it, an hour before the deadline
  EXPECT_LT(clock->MonotonicNanos(), deadline);
}

TEST(ClockWait, FakeClockWakesWhenAdvancedToTheDeadlineNotBefore) {
  FakeClock clock;
  const int64_t deadline = clock.MonotonicNanos() + 1000 * kNanosPerMilli;
  FlagWaiter w;
  w.Start(&clock, deadline);
  // Real time alone never ends it, nor a move short of the deadline.
  EXPECT_FALSE(w.EndsWithin(100));
  clock.Advance(999 * kNanosPerMilli);
  EXPECT_FALSE(w.EndsWithin(100));
  clock.Advance(1 * kNanosPerMilli);
  ASSERT_TRUE(w.EndsWithin(60'000)) << "Advance() to the deadline did not wake the waiter";
  EXPECT_FALSE(w.done.get());  // the deadline ended it
}

TEST(ClockWait, FakeClockWaiterWakesWhenSignalled) {
  FakeClock clock;
  FlagWaiter w;
  w.Start(&clock, clock.MonotonicNanos() + 1000 * kNanosPerMilli);
  EXPECT_FALSE(w.EndsWithin(50));
  w.Set();
  ASSERT_TRUE(w.EndsWithin(60'000));
  EXPECT_TRUE(w.done.get());
  // It has left the clock: a later move past its deadline touches nothing.
  clock.Advance(2000 * kNanosPerMilli);
}

TEST(ClockWait, FakeClockAdvanceWakesOnlyTheWaitersItReaches) {
  FakeClock clock;
  const int64_t t0 = clock.MonotonicNanos();
  FlagWaiter early, late;
  early.Start(&clock, t0 + 100 * kNanosPerMilli);
  late.Start(&clock, t0 + 200 * kNanosPerMilli);
  clock.Advance(150 * kNanosPerMilli);
  ASSERT_TRUE(early.EndsWithin(60'000));
  EXPECT_FALSE(early.done.get());
  EXPECT_FALSE(late.EndsWithin(100));
  clock.Advance(50 * kNanosPerMilli);
  ASSERT_TRUE(late.EndsWithin(60'000));
  EXPECT_FALSE(late.done.get());
}

// Waiters come and go (signalled or timed out) while another thread moves the clock: no
// wake-up is lost (every wait ends) and none reaches a waiter that has left (ASan).
TEST(ClockWait, FakeClockAdvanceRacesWithWaitersComingAndGoing) {
  FakeClock clock;
  constexpr int kWaiters = 4;
  constexpr int kRounds = 300;
  std::atomic<int> finished{0};
  std::vector<std::thread> waiters;
  for (int t = 0; t < kWaiters; ++t) {
    waiters.emplace_back([&clock, &finished, t] {
      for (int i = 0; i < kRounds; ++i) {
        Mutex mu;
        CondVar cv;
        bool flag = false;
        std::thread signaller;
        if ((i + t) % 3 == 0) {
          signaller = std::thread([&] {
            {
              MutexLock l(&mu);
              flag = true;
            }
            cv.SignalAll();
          });
        }
        {
          MutexLock l(&mu);
          const int64_t deadline = clock.MonotonicNanos() + (1 + i % 3) * kNanosPerMilli;
          while (!flag && clock.WaitUntil(&cv, &mu, deadline)) {
          }
        }
        if (signaller.joinable()) signaller.join();
      }
      finished.fetch_add(1);
    });
  }
  while (finished.load() < kWaiters) {
    clock.Advance(kNanosPerMilli);
    std::this_thread::yield();
  }
  for (auto& w : waiters) w.join();
}

}  // namespace
}  // namespace qj
