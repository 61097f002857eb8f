// Compiled, not run, by CTest (tests/common/CMakeLists.txt) to show that a clang build
// rejects a lock violation: with QJ_TSA_VIOLATION defined, Bump() writes a GUARDED_BY
// member without its mutex and -Werror=thread-safety must fail the compile; without it,
// the same file compiles.
#include "common/mutex.h"

namespace qj {

class Account {
 public:
  void Bump() EXCLUDES(mu_) {
#ifndef QJ_TSA_VIOLATION
    MutexLock l(&mu_);
#endif
    ++balance_;
  }
  void BumpLocked() REQUIRES(mu_) { ++balance_; }
  void BumpTwice() EXCLUDES(mu_) {
    MutexLock l(&mu_);
    BumpLocked();
    BumpLocked();
  }

 private:
  Mutex mu_;
  int balance_ GUARDED_BY(mu_) = 0;
};

void Use() {
  Account a;
  a.Bump();
  a.BumpTwice();
}

}  // namespace qj
