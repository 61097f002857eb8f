#include "common/periodic_worker.h"

#include <pthread.h>

#include <utility>

namespace qj {

PeriodicWorker::PeriodicWorker(std::string thread_name, int64_t interval_nanos, const Clock* clock)
    : thread_name_(std::move(thread_name)), interval_nanos_(interval_nanos), clock_(clock) {}

PeriodicWorker::~PeriodicWorker() { Stop(); }

void PeriodicWorker::Start(std::function<int64_t()> step, bool step_first) {
  {
    MutexLock l(&mu_);
    if (stop_ || started_) return;
    started_ = true;
  }
  step_ = std::move(step);
  thread_ = std::thread([this, step_first] { Run(step_first); });
}

void PeriodicWorker::Stop() {
  {
    MutexLock l(&mu_);
    stop_ = true;
  }
  cv_.SignalAll();
  if (thread_.joinable()) thread_.join();
}

void PeriodicWorker::Poke() {
  {
    MutexLock l(&mu_);
    poked_ = true;
  }
  cv_.SignalAll();
}

int64_t PeriodicWorker::next_due() const {
  MutexLock l(&mu_);
  return next_due_;
}

void PeriodicWorker::Run(bool step_first) {
  pthread_setname_np(pthread_self(), thread_name_.c_str());
  int64_t from = clock_->MonotonicNanos();
  if (!step_first && !WaitForNextStep(from)) return;
  while (true) {
    from = step_();
    if (!WaitForNextStep(from)) return;
  }
}

bool PeriodicWorker::WaitForNextStep(int64_t from) {
  MutexLock l(&mu_);
  const int64_t due = from + interval_nanos_;
  next_due_ = due;
  while (!stop_ && !poked_ && clock_->WaitUntil(&cv_, &mu_, due)) {
  }
  next_due_ = 0;
  poked_ = false;
  return !stop_;
}

}  // namespace qj
