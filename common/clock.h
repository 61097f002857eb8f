// Clocks. Protocol logic takes a Clock& so tests and the simulator can drive time
// (tests/support/fake_clock.h).
#pragma once

#include <cstdint>

#include "common/mutex.h"
#include "common/thread_annotations.h"

namespace qj {

class Clock {
 public:
  virtual ~Clock() = default;
  // A monotonic clock in nanoseconds that also counts time the host spent suspended
  // (RealClock: CLOCK_BOOTTIME). Same time base for every process on one host, so a
  // failoverd can hand its namenode a deadline on this clock. Leases are timed on it
  // (lease client, namenode deadline, journalnode LeaseTable): a suspended lease holder
  // wakes up with its lease expired, as its grantors see it (docs/ARCHITECTURE.md,
  // "Leases and failover", and DESIGN §6). Only differences of two readings mean anything.
  virtual int64_t MonotonicNanos() const = 0;
  // Wall clock, milliseconds since the Unix epoch (for timestamps shown to people only).
  virtual int64_t WallMillis() const = 0;

  // The one wait for a deadline on a clock. With `mu` held, waits on `cv` until it is
  // signalled or this clock reaches `deadline_nanos` (a MonotonicNanos() reading), and
  // returns with `mu` held again. Returns false at once, without waiting, when the
  // deadline has passed; true after a wait, which may also end spuriously, so callers
  // loop, re-checking their condition:
  //   while (!done_ && clock->WaitUntil(&cv_, &mu_, deadline)) {}
  // This implementation is one timed wait on the host's clock for the time left (no
  // polling), right for any clock that runs with real time, as RealClock does. A clock
  // that does not (tests' FakeClock) overrides it so that its own moves end the wait.
  // A timed wait runs on CLOCK_MONOTONIC, which stops while the host is suspended: after
  // a suspend the wait may end up to its length after the deadline passed on
  // CLOCK_BOOTTIME.
  virtual bool WaitUntil(CondVar* cv, Mutex* mu, int64_t deadline_nanos) const REQUIRES(mu);
};

class RealClock final : public Clock {
 public:
  int64_t MonotonicNanos() const override;
  int64_t WallMillis() const override;
  // A process-wide instance.
  static RealClock* Get();
};

inline constexpr int64_t kNanosPerMilli = 1'000'000;

}  // namespace qj
