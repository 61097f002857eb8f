// FakeClock: a Clock for tests that moves only when a test advances it.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"

namespace qj {

// A clock that moves only when told to; `rate` scales Advance() to model drift.
// A wait on it (WaitUntil) ends when it is signalled or when Advance() moves the clock to
// its deadline or past it, never by itself in real time.
// Thread-safe. Lock order: a waiter's mutex, then the clock's own.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_nanos = 1'000'000'000, double rate = 1.0)
      : now_(start_nanos), rate_(rate) {}
  int64_t MonotonicNanos() const override EXCLUDES(mu_) {
    MutexLock l(&mu_);
    return now_;
  }
  int64_t WallMillis() const override { return MonotonicNanos() / 1'000'000; }

  // As Clock::WaitUntil. The waiter is registered with the clock until it returns; an
  // Advance() past its deadline signals `cv` with `mu` held, so the wake-up cannot fall
  // between the waiter's last reading of the clock and its wait.
  bool WaitUntil(CondVar* cv, Mutex* mu, int64_t deadline_nanos) const override REQUIRES(mu)
      EXCLUDES(mu_) {
    Waiter me{cv, mu, deadline_nanos};
    {
      MutexLock l(&mu_);
      if (now_ >= deadline_nanos) return false;
      waiters_.push_back(&me);
    }
    cv->Wait(mu);
    // Leave the registry. An Advance() that took this waiter out (firing) has yet to
    // signal it under `mu`: let it (the wait releases `mu`), then `me` may end.
    while (true) {
      {
        MutexLock l(&mu_);
        if (!me.firing) {
          waiters_.erase(std::remove(waiters_.begin(), waiters_.end(), &me), waiters_.end());
          break;
        }
      }
      cv->Wait(mu);
    }
    return true;
  }

  // Threads waiting in WaitUntil now.
  size_t waiters() const EXCLUDES(mu_) {
    MutexLock l(&mu_);
    return waiters_.size();
  }

  // Advances by `true_nanos` of true time, i.e. by true_nanos * rate on this clock, and
  // wakes every waiter whose deadline it reaches. Must be called with no mutex held that
  // a waiter waits with (it takes each woken waiter's mutex to signal it).
  void Advance(int64_t true_nanos) EXCLUDES(mu_) {
    std::vector<Waiter*> due;
    {
      MutexLock l(&mu_);
      now_ += static_cast<int64_t>(static_cast<double>(true_nanos) * rate_);
      for (auto it = waiters_.begin(); it != waiters_.end();) {
        if ((*it)->deadline <= now_) {
          (*it)->firing = true;
          due.push_back(*it);
          it = waiters_.erase(it);
        } else {
          ++it;
        }
      }
    }
    // Each waiter stays registered in `due` (firing) until signalled: it is alive until
    // its mutex is released below.
    for (Waiter* w : due) {
      MutexLock wl(w->mu);
      {
        MutexLock l(&mu_);
        w->firing = false;
      }
      w->cv->SignalAll();
    }
  }

 private:
  struct Waiter {
    CondVar* cv;
    Mutex* mu;
    int64_t deadline;
    bool firing = false;  // guarded by the clock's mu_: taken out by an Advance() to wake
  };
  mutable Mutex mu_;
  int64_t now_ GUARDED_BY(mu_);
  mutable std::vector<Waiter*> waiters_ GUARDED_BY(mu_);
  const double rate_;
};

// The real clock, counting how often it is read (a thread that polls its clock reads it
// far more often than one that sleeps until its deadline). Thread-safe.
class CountingClock final : public Clock {
 public:
  int64_t MonotonicNanos() const override {
    reads_.fetch_add(1);
    return RealClock::Get()->MonotonicNanos();
  }
  int64_t WallMillis() const override { return RealClock::Get()->WallMillis(); }
  int64_t reads() const { return reads_.load(); }

 private:
  mutable std::atomic<int64_t> reads_{0};
};

}  // namespace qj
