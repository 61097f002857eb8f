// Memory for the namespace's small objects: inodes, child maps and child-map nodes (the
// four allocations every directory costs, three for a file). Process-wide free lists, one
// per size class (multiples of 16 bytes up to kMaxSize), carved from 2 MiB blocks of
// 64 MiB anonymous mappings (transparent huge pages requested) that are never returned
// to the system.
//
// Why (docs/PERFORMANCE.md, "Failover time at 1 M and 10 M inodes"): on this VM the first
// touch of a page the process has not used yet costs far more than the allocation itself
// (a host fault: freed guest memory is reported back to the host, page_reporting), and
// glibc gives freed nodes back to the system or keeps them in another thread's arena. A
// namenode that reloads its namespace from an image frees the stale one first: its nodes
// go onto these free lists and the load takes them back without touching a fresh page, so
// the reload neither pays for new memory nor needs twice the namespace's memory.
//
// The price: memory taken for namespace objects stays with the process at its high-water
// mark (like a JVM heap); freed objects are reused by later ones of the same size class.
//
// Thread-safety: Allocate and Deallocate may be called from any thread; each thread keeps
// a small cache per size class and trades whole batches with the shared lists under a
// mutex. An object may be freed by a thread other than the one that allocated it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define QJ_NODE_POOL_POOLED 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define QJ_NODE_POOL_POOLED 0
#endif
#endif
#ifndef QJ_NODE_POOL_POOLED
#define QJ_NODE_POOL_POOLED 1
#endif

namespace qj::nn {
namespace node_pool {

inline constexpr size_t kMaxSize = 256;
// False in AddressSanitizer builds: there every object is its own ::operator new, so that
// ASan still sees each use after free and LeakSanitizer each leak (objects on free lists
// would hide both). Nothing is reused then and GetStats() stays zero.
inline constexpr bool kPooled = QJ_NODE_POOL_POOLED != 0;

// `size` bytes (1..kMaxSize), aligned to 16. Never null (aborts when the system refuses
// memory, as operator new would throw).
void* Allocate(size_t size);
// Returns an object from Allocate(size) with the same size.
void Deallocate(void* p, size_t size) noexcept;

struct Stats {
  int64_t reserved_bytes = 0;  // taken from the system (mappings), never given back
  int64_t carved_bytes = 0;    // handed to size classes (in use or on a free list)
};
Stats GetStats();

}  // namespace node_pool

// A std allocator over node_pool for single objects of up to kMaxSize bytes (container
// nodes); anything else goes to ::operator new. Stateless: all instances are equal.
// Carries the pre-C++11 member types because __gnu_pbds containers use them.
template <class T>
class PoolAllocator {
 public:
  using value_type = T;
  using size_type = size_t;
  using difference_type = ptrdiff_t;
  using pointer = T*;
  using const_pointer = const T*;
  using reference = T&;
  using const_reference = const T&;
  template <class U>
  struct rebind {
    using other = PoolAllocator<U>;
  };

  PoolAllocator() noexcept = default;
  template <class U>
  PoolAllocator(const PoolAllocator<U>&) noexcept {}  // NOLINT(runtime/explicit)

  T* allocate(size_t n) {
    if (n == 1 && sizeof(T) <= node_pool::kMaxSize && alignof(T) <= 16) {
      return static_cast<T*>(node_pool::Allocate(sizeof(T)));
    }
    return static_cast<T*>(::operator new(n * sizeof(T)));
  }
  void deallocate(T* p, size_t n) noexcept {
    if (n == 1 && sizeof(T) <= node_pool::kMaxSize && alignof(T) <= 16) {
      node_pool::Deallocate(p, sizeof(T));
      return;
    }
    ::operator delete(p);
  }

  template <class U>
  bool operator==(const PoolAllocator<U>&) const noexcept {
    return true;
  }
  template <class U>
  bool operator!=(const PoolAllocator<U>&) const noexcept {
    return false;
  }
};

}  // namespace qj::nn
