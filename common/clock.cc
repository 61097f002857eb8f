#include "common/clock.h"

#include <time.h>

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

RealClock* RealClock::Get() {
  static RealClock clock;
  return &clock;
}

}  // namespace qj
