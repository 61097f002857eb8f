#include "common/clock.h"

#include <time.h>

#include <algorithm>
#include <chrono>

namespace qj {

int64_t RealClock::MonotonicNanos() const {
  // CLOCK_BOOTTIME, not CLOCK_MONOTONIC: MONOTONIC stops while the host is suspended, so
  // a suspended lease holder would wake up still believing in a lease its grantors (whose
  // clocks kept running) have long given away.
  timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

int64_t RealClock::WallMillis() const {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

bool Clock::WaitUntil(CondVar* cv, Mutex* mu, int64_t deadline_nanos) const {
  // At most a day per wait: the host clock's now plus the time left must not overflow
  // (a caller may wait "forever" with a deadline near INT64_MAX).
  constexpr int64_t kMaxWaitNanos = int64_t{24} * 3600 * 1'000'000'000;
  const int64_t left = deadline_nanos - MonotonicNanos();
  if (left <= 0) return false;
  cv->WaitFor(mu, std::chrono::nanoseconds(std::min(left, kMaxWaitNanos)));
  return true;
}

RealClock* RealClock::Get() {
  static RealClock clock;
  return &clock;
}

}  // namespace qj
