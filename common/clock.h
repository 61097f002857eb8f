// Clocks. Protocol logic takes a Clock& so tests and the simulator can drive time
// (tests/support/fake_clock.h).
#pragma once

#include <cstdint>

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
