// qj::Mutex, MutexLock and CondVar (common/mutex.h): exclusion, and the waits' results.
#include "common/mutex.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

namespace qj {
namespace {

class Counter {
 public:
  void Add() EXCLUDES(mu_) {
    MutexLock l(&mu_);
    ++total_;
  }
  int total() const EXCLUDES(mu_) {
    MutexLock l(&mu_);
    return total_;
  }

 private:
  mutable Mutex mu_;
  int total_ GUARDED_BY(mu_) = 0;
};

TEST(MutexTest, ExcludesConcurrentWriters) {
  Counter c;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&c] {
      for (int i = 0; i < 100000; ++i) c.Add();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.total(), 400000);
}

struct Flag {
  Mutex mu;
  CondVar cv;
  bool set GUARDED_BY(mu) = false;
};

TEST(CondVarTest, PredicateWaitReturnsTrueOnceSignalled) {
  Flag f;
  std::thread setter([&f] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    {
      MutexLock l(&f.mu);
      f.set = true;
    }
    f.cv.SignalAll();
  });
  MutexLock l(&f.mu);
  EXPECT_TRUE(
      f.cv.WaitFor(&f.mu, std::chrono::seconds(60), [&f]() REQUIRES(f.mu) { return f.set; }));
  EXPECT_TRUE(f.set);
  setter.join();
}

TEST(CondVarTest, PredicateWaitReturnsFalseAfterTimeout) {
  Flag f;
  MutexLock l(&f.mu);
  EXPECT_FALSE(
      f.cv.WaitFor(&f.mu, std::chrono::milliseconds(10), [&f]() REQUIRES(f.mu) { return f.set; }));
}

TEST(CondVarTest, WaitReturnsWithTheMutexHeld) {
  Flag f;
  std::thread setter([&f] {
    MutexLock l(&f.mu);  // blocks until the waiter releases the mutex inside Wait
    f.set = true;
    f.cv.Signal();
  });
  {
    MutexLock l(&f.mu);
    while (!f.set) f.cv.Wait(&f.mu);
  }
  setter.join();
  MutexLock l(&f.mu);
  EXPECT_TRUE(f.set);
}

}  // namespace
}  // namespace qj
