// metrics-bench: what the hot-path updates of common/metrics.h cost, and how long one
// /metrics render takes. Prints figures; asserts nothing.
//   build/tests/web/metrics-bench [--iterations=N]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "common/metrics.h"

namespace {

using Clock = std::chrono::steady_clock;

template <typename Fn>
double NanosPerOp(int threads, int64_t iterations, Fn fn) {
  const auto start = Clock::now();
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&] {
      for (int64_t i = 0; i < iterations; ++i) fn(i);
    });
  }
  for (auto& t : ts) t.join();
  const double ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
  return ns / static_cast<double>(iterations);  // wall time per op of one thread
}

}  // namespace

int main(int argc, char** argv) {
  int64_t iterations = 5'000'000;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--iterations=", 13) == 0) iterations = std::atoll(argv[i] + 13);
  }
  qj::metrics::Registry r;
  auto* counter = r.AddCounter("qj_bench_total", "c")->With();
  auto* hist =
      r.AddHistogram("qj_bench_seconds", "h", qj::metrics::ExponentialBuckets(0.0001, 2, 16))
          ->With();
  auto* ops = r.AddCounter("qj_bench_ops_total", "o", {"op", "result"});
  const char* names[] = {"mkdirs", "create", "delete", "rename", "getFileInfo", "listStatus"};
  std::printf("metrics-bench: %lld iterations per thread, %u hardware threads\n",
              static_cast<long long>(iterations), std::thread::hardware_concurrency());
  for (int threads : {1, 2}) {
    std::printf("  Counter::Increment       %d thread(s): %6.1f ns/op\n", threads,
                NanosPerOp(threads, iterations, [&](int64_t) { counter->Increment(); }));
    std::printf("  Histogram::Observe       %d thread(s): %6.1f ns/op\n", threads,
                NanosPerOp(threads, iterations, [&](int64_t i) {
                  hist->Observe(static_cast<double>(i % 1000) * 1e-5);
                }));
    std::printf("  Family::With()+Increment %d thread(s): %6.1f ns/op  (namenode ops counter)\n",
                threads, NanosPerOp(threads, iterations / 5, [&](int64_t i) {
                  ops->With({names[i % 6], "ok"})->Increment();
                }));
  }
  // A registry the size of a namenode's page: 6 ops x 4 results plus the above.
  for (const char* n : names) {
    for (const char* res : {"ok", "NotFound", "AlreadyExists", "NotActive"}) ops->With({n, res});
  }
  std::string text;
  const int renders = 2000;
  const auto start = Clock::now();
  for (int i = 0; i < renders; ++i) text = r.Render();
  const double us = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
  std::printf("  Registry::Render: %.1f us for %zu bytes\n", us / renders, text.size());
  return 0;
}
