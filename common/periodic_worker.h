// PeriodicWorker: one thread that runs a step, waits an interval on a Clock, and again,
// until stopped; the shape of the namenode's Checkpointer and failoverd's HealthMonitor.
//
//   worker_.Start([this] { Check(); return clock_->MonotonicNanos(); }, /*step_first=*/true);
//
// The step returns the clock time (MonotonicNanos) the next interval counts from. The
// wait between steps is Clock::WaitUntil: on the real clock one timed wait, on a test's
// FakeClock until Advance() reaches the due time. Poke() ends the wait early; Stop()
// ends it and joins.
//
// Thread-safety: thread-safe. The step runs on the worker's thread only, one at a time,
// with no lock of the worker held. Start() once (later calls, and calls after Stop(), do
// nothing); Stop() (or the destructor) joins. An owner whose step uses its own members
// calls Stop() in its destructor, before they go.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/mutex.h"
#include "common/thread_annotations.h"

namespace qj {

class PeriodicWorker {
 public:
  // `thread_name` names the thread (at most 15 characters); `clock` must outlive this
  // object.
  PeriodicWorker(std::string thread_name, int64_t interval_nanos, const Clock* clock);
  ~PeriodicWorker();
  PeriodicWorker(const PeriodicWorker&) = delete;
  PeriodicWorker& operator=(const PeriodicWorker&) = delete;

  // Starts the thread: the first step at once (step_first) or one interval after Start().
  void Start(std::function<int64_t()> step, bool step_first) EXCLUDES(mu_);
  // Ends the wait at once, waits for a step in progress to end, joins. Idempotent.
  void Stop() EXCLUDES(mu_);
  // The next step runs at once: ends the wait, or the next one if a step is running.
  void Poke() EXCLUDES(mu_);
  // The clock time (MonotonicNanos) the next step is due, unless poked; 0 while a step
  // runs, before Start() and after Stop().
  int64_t next_due() const EXCLUDES(mu_);

 private:
  void Run(bool step_first) EXCLUDES(mu_);
  // Until interval_nanos has passed on the clock since `from`, or Poke() or Stop(). False
  // when stopping.
  bool WaitForNextStep(int64_t from) EXCLUDES(mu_);

  const std::string thread_name_;
  const int64_t interval_nanos_;
  const Clock* const clock_;
  std::function<int64_t()> step_;  // set by Start() before the thread exists

  mutable Mutex mu_;
  CondVar cv_;  // signalled by Stop() and Poke()
  bool started_ GUARDED_BY(mu_) = false;
  bool stop_ GUARDED_BY(mu_) = false;
  bool poked_ GUARDED_BY(mu_) = false;
  int64_t next_due_ GUARDED_BY(mu_) = 0;
  std::thread thread_;  // started by Start(), joined by Stop(); touched by no other call
};

}  // namespace qj
