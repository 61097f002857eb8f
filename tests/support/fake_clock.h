// FakeClock: a Clock for tests that moves only when a test advances it.
#pragma once

#include <cstdint>

#include "common/clock.h"
#include "common/mutex.h"

namespace qj {

// A clock that moves only when told to; `rate` scales Advance() to model drift.
// Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_nanos = 1'000'000'000, double rate = 1.0)
      : now_(start_nanos), rate_(rate) {}
  int64_t MonotonicNanos() const override {
    MutexLock l(&mu_);
    return now_;
  }
  int64_t WallMillis() const override { return MonotonicNanos() / 1'000'000; }
  // Advances by `true_nanos` of true time, i.e. by true_nanos * rate on this clock.
  void Advance(int64_t true_nanos) {
    MutexLock l(&mu_);
    now_ += static_cast<int64_t>(static_cast<double>(true_nanos) * rate_);
  }

 private:
  mutable Mutex mu_;
  int64_t now_ GUARDED_BY(mu_);
  const double rate_;
};

}  // namespace qj
