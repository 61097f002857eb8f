// node_pool (namenode/node_pool.h): freed objects are reused, by any thread, and no object
// is ever handed out twice.
#include "namenode/node_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <random>
#include <set>
#include <thread>
#include <vector>

namespace qj::nn {
namespace {

constexpr size_t kSize = 144;  // about an Inode

std::vector<void*> AllocateMany(size_t n, size_t size) {
  std::vector<void*> v;
  v.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    void* p = node_pool::Allocate(size);
    std::memset(p, 0x5a, size);  // the memory is really ours
    v.push_back(p);
  }
  return v;
}

void FreeAll(const std::vector<void*>& v, size_t size) {
  for (void* p : v) node_pool::Deallocate(p, size);
}

TEST(NodePoolTest, FreedObjectsAreReused_NoNewMemory) {
  if (!node_pool::kPooled) GTEST_SKIP() << "no pooling in sanitizer builds";
  std::vector<void*> first = AllocateMany(100000, kSize);
  const node_pool::Stats after_first = node_pool::GetStats();
  std::set<void*> distinct(first.begin(), first.end());
  EXPECT_EQ(distinct.size(), first.size());
  for (void* p : first) EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 16, 0u);
  FreeAll(first, kSize);
  std::vector<void*> second = AllocateMany(100000, kSize);
  const node_pool::Stats after_second = node_pool::GetStats();
  EXPECT_EQ(after_second.carved_bytes, after_first.carved_bytes);
  EXPECT_EQ(after_second.reserved_bytes, after_first.reserved_bytes);
  EXPECT_EQ(std::set<void*>(second.begin(), second.end()).size(), second.size());
  FreeAll(second, kSize);
}

TEST(NodePoolTest, FreedByAnotherThread_ReusedAfterThatThreadExits) {
  if (!node_pool::kPooled) GTEST_SKIP() << "no pooling in sanitizer builds";
  std::vector<void*> objs = AllocateMany(50000, 48);
  const int64_t carved = node_pool::GetStats().carved_bytes;
  std::thread([&] { FreeAll(objs, 48); }).join();  // its cache goes back at exit
  std::vector<void*> again = AllocateMany(50000, 48);
  EXPECT_EQ(node_pool::GetStats().carved_bytes, carved);
  FreeAll(again, 48);
}

// Threads allocate, fill with their own pattern, check it is intact and free, crossing
// objects between threads: an object handed out twice would show another pattern.
TEST(NodePoolTest, ConcurrentThreads_NoObjectHandedOutTwice) {
  constexpr int kThreads = 4;
  constexpr int kOps = 200000;
  std::vector<std::vector<void*>> handoff(kThreads);
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<uint32_t>(t));
      std::vector<std::pair<void*, size_t>> live;
      for (int i = 0; i < kOps; ++i) {
        if (live.empty() || rng() % 3 != 0) {
          const size_t size = 16 * (1 + rng() % 16);
          auto* p = static_cast<unsigned char*>(node_pool::Allocate(size));
          std::memset(p, t + 1, size);
          live.emplace_back(p, size);
        } else {
          const size_t k = rng() % live.size();
          auto [p, size] = live[k];
          live[k] = live.back();
          live.pop_back();
          for (size_t b = 0; b < size; ++b) {
            if (static_cast<unsigned char*>(p)[b] != t + 1) {
              ++bad;
              break;
            }
          }
          node_pool::Deallocate(p, size);
        }
      }
      for (auto [p, size] : live) node_pool::Deallocate(p, size);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST(NodePoolTest, Allocator_LargeOrArraysGoToOperatorNew) {
  PoolAllocator<char> a;
  char* big = a.allocate(1000);  // an array: not from the pool
  std::memset(big, 1, 1000);
  a.deallocate(big, 1000);
  PoolAllocator<int64_t> b(a);
  int64_t* one = b.allocate(1);
  *one = 7;
  b.deallocate(one, 1);
  EXPECT_TRUE(a == b);
}

}  // namespace
}  // namespace qj::nn
