// Clocks. Protocol logic takes a Clock& so tests and the simulator can drive time.
#pragma once

#include <cstdint>
#include <mutex>

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

// A clock that moves only when told to; `rate` scales Advance() to model drift.
// Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_nanos = 1'000'000'000, double rate = 1.0)
      : now_(start_nanos), rate_(rate) {}
  int64_t MonotonicNanos() const override {
    std::lock_guard<std::mutex> l(mu_);
    return now_;
  }
  int64_t WallMillis() const override { return MonotonicNanos() / 1'000'000; }
  // Advances by `true_nanos` of true time, i.e. by true_nanos * rate on this clock.
  void Advance(int64_t true_nanos) {
    std::lock_guard<std::mutex> l(mu_);
    now_ += static_cast<int64_t>(static_cast<double>(true_nanos) * rate_);
  }

 private:
  mutable std::mutex mu_;
  int64_t now_;
  double rate_;
};

inline constexpr int64_t kNanosPerMilli = 1'000'000;

}  // namespace qj
