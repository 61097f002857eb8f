#include "common/progress.h"

#include <glog/logging.h>

#include <cstdio>

namespace qj {

ProgressLog::ProgressLog(std::string what, uint64_t total_bytes, const Clock* clock,
                         int64_t interval_ms)
    : what_(std::move(what)),
      total_(total_bytes),
      clock_(clock),
      interval_ns_(interval_ms * 1000000),
      start_ns_(clock->MonotonicNanos()),
      last_ns_(start_ns_) {}

std::string ProgressLog::Bytes(uint64_t n) {
  char buf[32];
  if (n < 1024) {
    std::snprintf(buf, sizeof(buf), "%llu B", static_cast<unsigned long long>(n));
  } else if (n < (1ull << 20)) {
    std::snprintf(buf, sizeof(buf), "%.1f KiB", static_cast<double>(n) / 1024);
  } else if (n < (1ull << 30)) {
    std::snprintf(buf, sizeof(buf), "%.1f MiB", static_cast<double>(n) / (1 << 20));
  } else {
    std::snprintf(buf, sizeof(buf), "%.2f GiB", static_cast<double>(n) / (1 << 30));
  }
  return buf;
}

void ProgressLog::Update(uint64_t done) {
  const int64_t now = clock_->MonotonicNanos();
  if (now - last_ns_ < interval_ns_) return;
  last_ns_ = now;
  char took[32];
  std::snprintf(took, sizeof(took), "%.1f s", static_cast<double>(now - start_ns_) / 1e9);
  if (total_ > 0) {
    LOG(INFO) << what_ << ": " << done * 100 / total_ << "% (" << Bytes(done) << " of "
              << Bytes(total_) << ") after " << took;
  } else {
    LOG(INFO) << what_ << ": " << Bytes(done) << " after " << took;
  }
}

int64_t ProgressLog::Done(uint64_t done, const std::string& extra) {
  const int64_t ns = clock_->MonotonicNanos() - start_ns_;
  const double secs = static_cast<double>(ns) / 1e9;
  char line[96];
  std::snprintf(line, sizeof(line), " in %.3f s (%.1f MiB/s)", secs,
                secs > 0 ? static_cast<double>(done) / (1 << 20) / secs : 0.0);
  LOG(INFO) << what_ << ": done, " << Bytes(done) << line << extra;
  return ns / 1000000;
}

}  // namespace qj
