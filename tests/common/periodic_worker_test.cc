// PeriodicWorker (common/periodic_worker.h): steps on its clock's intervals (a FakeClock
// that only the test moves, so every interval is exact), Poke, Stop; and on the real
// clock, that the wait between steps is one timed wait, not a poll of the clock.
#include "common/periodic_worker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "common/clock.h"
#include "tests/support/fake_clock.h"
#include "tests/support/process.h"

namespace qj {
namespace {

using testing::WaitFor;

constexpr int64_t kMs = kNanosPerMilli;

TEST(PeriodicWorker, StepsOncePerIntervalOfItsClock) {
  FakeClock clock;
  const int64_t t0 = clock.MonotonicNanos();
  std::atomic<int> steps{0};
  PeriodicWorker w("test-worker", 1000 * kMs, &clock);
  EXPECT_EQ(w.next_due(), 0);
  w.Start(
      [&] {
        ++steps;
        return clock.MonotonicNanos();
      },
      /*step_first=*/false);
  for (int i = 1; i <= 3; ++i) {
    const int64_t due = t0 + i * 1000 * kMs;
    ASSERT_TRUE(WaitFor([&] { return w.next_due() == due; }, 60'000)) << w.next_due();
    EXPECT_EQ(steps.load(), i - 1);
    clock.Advance(999 * kMs);
    ASSERT_EQ(w.next_due(), due);  // not yet
    clock.Advance(1 * kMs);
    ASSERT_TRUE(WaitFor([&] { return steps.load() == i; }, 60'000)) << "step " << i;
  }
  ASSERT_TRUE(WaitFor([&] { return w.next_due() == t0 + 4000 * kMs; }, 60'000));
  EXPECT_EQ(steps.load(), 3);
  w.Stop();
  EXPECT_EQ(w.next_due(), 0);
  EXPECT_EQ(steps.load(), 3);
}

TEST(PeriodicWorker, StepFirstThenIntervalFromWhatTheStepReturns) {
  FakeClock clock;
  const int64_t t0 = clock.MonotonicNanos();
  std::atomic<int> steps{0};
  PeriodicWorker w("test-worker", 200 * kMs, &clock);
  // The step says it ended 50 ms after it began; the interval counts from there.
  w.Start(
      [&] {
        ++steps;
        return clock.MonotonicNanos() + 50 * kMs;
      },
      /*step_first=*/true);
  ASSERT_TRUE(WaitFor([&] { return steps.load() == 1; }, 60'000));
  ASSERT_TRUE(WaitFor([&] { return w.next_due() == t0 + 250 * kMs; }, 60'000)) << w.next_due();
}

TEST(PeriodicWorker, PokeRunsTheNextStepAtOnce) {
  FakeClock clock;
  std::atomic<int> steps{0};
  PeriodicWorker w("test-worker", 1'000'000 * kMs, &clock);
  w.Start(
      [&] {
        ++steps;
        return clock.MonotonicNanos();
      },
      /*step_first=*/false);
  ASSERT_TRUE(WaitFor([&] { return w.next_due() != 0; }, 60'000));
  w.Poke();  // the clock never moves
  ASSERT_TRUE(WaitFor([&] { return steps.load() == 1; }, 60'000));
  ASSERT_TRUE(WaitFor([&] { return w.next_due() != 0; }, 60'000));
  w.Poke();
  ASSERT_TRUE(WaitFor([&] { return steps.load() == 2; }, 60'000));
}

TEST(PeriodicWorker, PokeDuringAStepRunsAnotherRightAfter) {
  FakeClock clock;
  std::atomic<int> steps{0};
  std::atomic<bool> release{false};
  PeriodicWorker w("test-worker", 1'000'000 * kMs, &clock);
  w.Start(
      [&] {
        if (++steps == 1) {
          while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        return clock.MonotonicNanos();
      },
      /*step_first=*/true);
  ASSERT_TRUE(WaitFor([&] { return steps.load() == 1; }, 60'000));
  w.Poke();  // while the first step runs
  release.store(true);
  ASSERT_TRUE(WaitFor([&] { return steps.load() == 2; }, 60'000));
  // Then back to the interval.
  ASSERT_TRUE(WaitFor([&] { return w.next_due() != 0; }, 60'000));
  EXPECT_EQ(steps.load(), 2);
}

TEST(PeriodicWorker, StopEndsTheWaitAtOnceAndStartAfterStopDoesNothing) {
  FakeClock clock;
  std::atomic<int> steps{0};
  PeriodicWorker w("test-worker", 1'000'000 * kMs, &clock);
  auto step = [&] {
    ++steps;
    return clock.MonotonicNanos();
  };
  w.Start(step, /*step_first=*/false);
  ASSERT_TRUE(WaitFor([&] { return w.next_due() != 0; }, 60'000));
  w.Stop();  // must not wait for the interval (the clock never moves)
  EXPECT_EQ(steps.load(), 0);
  w.Stop();  // idempotent
  w.Start(step, /*step_first=*/true);
  w.Stop();
  EXPECT_EQ(steps.load(), 0);
}

// With the real clock the worker sleeps until each step is due: per step it reads the
// clock a few times (the step's end, the wait's start, the wake at the due time), however
// long the interval. A wait that re-read the clock every 20 ms would read it ~10 times per
// 200 ms interval.
TEST(PeriodicWorker, RealClockWaitDoesNotPollTheClock) {
  CountingClock clock;
  std::atomic<int> steps{0};
  PeriodicWorker w("test-worker", 200 * kMs, &clock);
  w.Start(
      [&] {
        ++steps;
        return clock.MonotonicNanos();
      },
      /*step_first=*/false);
  ASSERT_TRUE(WaitFor([&] { return steps.load() >= 4; }, 60'000));
  w.Stop();
  const int64_t reads = clock.reads();
  const int n = steps.load();
  std::printf("%d steps of 200 ms: %lld clock reads\n", n, static_cast<long long>(reads));
  EXPECT_LE(reads, 4 * n + 4) << n << " steps";
}

}  // namespace
}  // namespace qj
