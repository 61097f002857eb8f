#include "namenode/node_pool.h"

#include <glog/logging.h>
#include <sys/mman.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <vector>

#include "common/mutex.h"

namespace qj::nn::node_pool {
namespace {

constexpr size_t kAlign = 16;
constexpr size_t kClasses = kMaxSize / kAlign;
constexpr int kBatch = 64;                      // objects traded per lock
constexpr size_t kBlockSize = size_t{2} << 20;  // a size class grows by this much
constexpr size_t kRegionSize = size_t{64} << 20;

struct FreeObject {
  FreeObject* next;
};

struct Chain {
  FreeObject* head;
  int count;
};

std::atomic<int64_t> g_reserved{0};
std::atomic<int64_t> g_carved{0};

// Hands out 2 MiB-aligned blocks of big anonymous mappings.
class Regions {
 public:
  char* TakeBlock() {
    MutexLock l(&mu_);
    if (next_ == end_) {
      // One block more than needed, so that the blocks can be aligned to 2 MiB (whole
      // huge pages).
      const size_t len = kRegionSize + kBlockSize;
      void* m = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      CHECK(m != MAP_FAILED) << "node_pool: mmap of " << len << " bytes: " << std::strerror(errno);
      auto base = reinterpret_cast<uintptr_t>(m);
      const uintptr_t aligned = (base + kBlockSize - 1) & ~(uintptr_t{kBlockSize} - 1);
      next_ = reinterpret_cast<char*>(aligned);
      end_ = next_ + kRegionSize;
      // Advice only: fewer, cheaper faults where huge pages are available.
      (void)madvise(next_, kRegionSize, MADV_HUGEPAGE);
      g_reserved += static_cast<int64_t>(len);
    }
    char* b = next_;
    next_ += kBlockSize;
    return b;
  }

 private:
  Mutex mu_;
  char* next_ GUARDED_BY(mu_) = nullptr;
  char* end_ GUARDED_BY(mu_) = nullptr;
};

// The shared part of one size class.
class SizeClass {
 public:
  void Init(size_t size, Regions* regions) {
    size_ = size;
    regions_ = regions;
  }

  // A chain of kBatch objects (a returned batch, else freshly carved ones).
  Chain TakeBatch() {
    MutexLock l(&mu_);
    if (!chains_.empty()) {
      Chain c = chains_.back();
      chains_.pop_back();
      return c;
    }
    Chain c{nullptr, 0};
    for (int i = 0; i < kBatch; ++i) {
      if (static_cast<size_t>(end_ - next_) < size_) {
        next_ = regions_->TakeBlock();
        end_ = next_ + kBlockSize;
      }
      auto* o = reinterpret_cast<FreeObject*>(next_);
      next_ += size_;
      o->next = c.head;
      c.head = o;
      ++c.count;
    }
    g_carved += static_cast<int64_t>(size_) * kBatch;
    return c;
  }

  void GiveBack(Chain c) {
    if (c.count == 0) return;
    MutexLock l(&mu_);
    chains_.push_back(c);
  }

 private:
  size_t size_ = 0;
  Regions* regions_ = nullptr;
  Mutex mu_;
  std::vector<Chain> chains_ GUARDED_BY(mu_);
  char* next_ GUARDED_BY(mu_) = nullptr;
  char* end_ GUARDED_BY(mu_) = nullptr;
};

struct Shared {
  Shared() {
    for (size_t i = 0; i < kClasses; ++i) classes[i].Init((i + 1) * kAlign, &regions);
  }
  Regions regions;
  SizeClass classes[kClasses];
};

// Never destroyed: threads may free objects during and after static destruction.
Shared& TheShared() {
  static Shared* shared = new Shared;
  return *shared;
}

// Set (never reset) when this thread's cache has been destroyed at thread exit: objects
// freed after that (by thread_local destructors that run later) go to the shared lists
// one by one. Trivially destructible, so it stays readable until the thread is gone.
thread_local bool t_cache_gone = false;

// This thread's cache: one list per size class, up to 2 * kBatch objects each.
class ThreadCache {
 public:
  ~ThreadCache() {
    for (size_t i = 0; i < kClasses; ++i) {
      TheShared().classes[i].GiveBack(lists_[i]);
      lists_[i] = Chain{nullptr, 0};
    }
    t_cache_gone = true;
  }

  void* Allocate(size_t cls) {
    Chain& l = lists_[cls];
    if (l.head == nullptr) l = TheShared().classes[cls].TakeBatch();
    FreeObject* o = l.head;
    l.head = o->next;
    --l.count;
    return o;
  }

  void Deallocate(void* p, size_t cls) {
    Chain& l = lists_[cls];
    auto* o = static_cast<FreeObject*>(p);
    o->next = l.head;
    l.head = o;
    if (++l.count < 2 * kBatch) return;
    // Give the shared list the kBatch objects freed first (the tail of this list).
    FreeObject* cut = l.head;
    for (int i = 1; i < kBatch; ++i) cut = cut->next;
    Chain out{cut->next, l.count - kBatch};
    cut->next = nullptr;
    l.count = kBatch;
    TheShared().classes[cls].GiveBack(out);
  }

 private:
  Chain lists_[kClasses] = {};
};

thread_local ThreadCache t_cache;

size_t ClassOf(size_t size) {
  DCHECK(size >= 1 && size <= kMaxSize) << size;
  return (size + kAlign - 1) / kAlign - 1;
}

}  // namespace

void* Allocate(size_t size) {
  if (!kPooled) return ::operator new(size);
  const size_t cls = ClassOf(size);
  if (!t_cache_gone) return t_cache.Allocate(cls);
  SizeClass& shared = TheShared().classes[cls];
  Chain c = shared.TakeBatch();
  FreeObject* o = c.head;
  shared.GiveBack(Chain{o->next, c.count - 1});
  return o;
}

void Deallocate(void* p, size_t size) noexcept {
  if (p == nullptr) return;
  if (!kPooled) {
    ::operator delete(p);
    return;
  }
  const size_t cls = ClassOf(size);
  if (!t_cache_gone) {
    t_cache.Deallocate(p, cls);
    return;
  }
  auto* o = static_cast<FreeObject*>(p);
  o->next = nullptr;
  TheShared().classes[cls].GiveBack(Chain{o, 1});
}

Stats GetStats() {
  Stats s;
  s.reserved_bytes = g_reserved.load();
  s.carved_bytes = g_carved.load();
  return s;
}

}  // namespace qj::nn::node_pool
