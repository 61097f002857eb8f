// Progress lines for long work (image load and save, segment copies, standby bootstrap):
// what, how far, how big, how long. A ProgressLog logs at most every `interval_ms`, and
// once at the end with the size, duration and rate, so an operator watching a slow start
// sees it move instead of a silent process:
//
//   nn1: loading image fsimage_...42: 37% (150.2 of 405.9 MiB) after 5.0 s
//   nn1: loading image fsimage_...42: done, 405.9 MiB in 13.4 s (30.3 MiB/s)
//
// Time comes from the Clock given (the simulator's fake clock in tests). Not thread-safe:
// one owner updates it.
#pragma once

#include <cstdint>
#include <string>

#include "common/clock.h"

namespace qj {

class ProgressLog {
 public:
  // total_bytes 0: unknown (no percentage). interval_ms: between progress lines.
  ProgressLog(std::string what, uint64_t total_bytes, const Clock* clock,
              int64_t interval_ms = 5000);
  // `done` bytes so far; logs a line if the interval has passed since the last one.
  void Update(uint64_t done);
  // Logs the final line ("done, <size> in <s> (<rate>)") with `extra` appended, e.g.
  // ", 1200000 inodes". Returns the elapsed milliseconds.
  int64_t Done(uint64_t done, const std::string& extra = "");

  // "405.9 MiB", "12.0 KiB", "512 B".
  static std::string Bytes(uint64_t n);

 private:
  const std::string what_;
  const uint64_t total_;
  const Clock* const clock_;
  const int64_t interval_ns_;
  const int64_t start_ns_;
  int64_t last_ns_;
};

}  // namespace qj
