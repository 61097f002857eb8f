// Client workload for failover tests and the failover benchmark.
//
// Writers: each thread runs mkdirs("/w<thread>/d<n>", createParent) for n = 0, 1, ...,
// sending each op to the namenode that answered last and switching to the other on
// NOT_ACTIVE or a refused connection (both prove the op did not run). mkdirs is
// idempotent, so an outcome-unknown failure (timeout, reset) is retried as well. Every
// attempt is recorded: which namenode, [send, receive] on RealClock's monotonic clock, and whether
// it was answered as active (OK). Acknowledged ops are the paths that got OK.
//
// Probers: one thread per namenode calls getFileInfo("/") on that namenode only, back to
// back, recording the same way — a dense sample of who answers as active when.
//
// Thread-safe: Start() / Stop() from the test thread; results after Stop().
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/cluster_config.h"

namespace qj::testing {

enum class CallResult { kOk, kNotActive, kRefused, kUnknown, kError };

struct CallRecord {
  int nn = -1;  // index into the namenode list
  int64_t send_ns = 0, recv_ns = 0;
  CallResult result = CallResult::kError;
  std::string error;
};

struct ThreadLog {
  std::string name;
  std::vector<CallRecord> calls;   // in the order the thread made them
  std::vector<std::string> acked;  // paths acknowledged (writers)
  // Per op: time from the first failed attempt to the acknowledgement (0 if none failed).
  std::vector<int64_t> retry_windows_ns;
  int64_t failed_ops = 0;  // ops given up on (retry budget exhausted)
};

struct WorkloadOptions {
  int writers = 2;
  bool probers = true;
  int64_t rpc_timeout_ms = 2000;
  // An op that finds no active namenode for this long is given up (counted as failed).
  int64_t op_budget_ms = 30000;
  int64_t backoff_ms = 5;
};

class HaWorkload {
 public:
  HaWorkload(std::vector<NamenodeInfo> namenodes, WorkloadOptions opts);
  ~HaWorkload();
  void Start();
  void Stop();

  // Acknowledged writes so far (all threads); safe to call while running.
  int64_t acked_count() const { return acked_.load(); }
  // RealClock monotonic ns of the latest acknowledgement by namenode nn (0 if none).
  int64_t last_ack_ns(int nn) const;
  // Probe answers "as active" from namenode nn so far.
  int64_t probe_ok_count(int nn) const;

  const std::vector<ThreadLog>& logs() const { return logs_; }
  std::vector<std::string> AllAcked() const;

  // Dual-activity check over every thread's records: returns a description of each proof
  // that two namenodes answered as active at the same instant ("" entries none).
  // For every thread, a run of consecutive calls to one namenode all answered as active
  // shows it active throughout [first.recv, last.send] (a namenode's active period is
  // contiguous, and runs are back to back). Another namenode's call answered as active
  // whose whole [send, recv] lies inside that interval proves dual activity.
  std::vector<std::string> FindDualActivity() const;
  // The same check over any records (unit-testable); nn_ids names the namenodes.
  static std::vector<std::string> FindDualActivity(const std::vector<ThreadLog>& logs,
                                                   const std::vector<std::string>& nn_ids);

 private:
  void Writer(int t);
  void Prober(int nn);

  const std::vector<NamenodeInfo> nns_;
  const WorkloadOptions opts_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> acked_{0};
  std::vector<std::atomic<int64_t>> last_ack_ns_;
  std::vector<std::atomic<int64_t>> probe_ok_;
  std::vector<ThreadLog> logs_;  // one per thread, written only by that thread until Stop()
  std::vector<std::thread> threads_;
};

}  // namespace qj::testing
