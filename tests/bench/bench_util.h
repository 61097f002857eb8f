// Small helpers shared by the qjournal benchmarks: the BENCH line format, CPU accounting of
// our own process and of child daemons, percentiles, and the machine's core count.
//
// BENCH line: one figure per line, `BENCH name=<figure> system=qjournal payload=<bytes>
// nodes=<n> cores=<c> ops=<count> value=<v> unit=<u> cpu_us_per_op=<x> [key=value ...]`.
// scripts/bench.sh and scripts/peers/run.sh parse these lines (peers print the same keys).
//
// Thread-safety: BenchLine is single-threaded; the free functions are thread-safe.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

namespace qj::bench {

double NowUs();  // monotonic
int Cores();
// utime+stime of a process from /proc/<pid>/stat, in microseconds (0 if it is gone).
double ProcCpuUs(pid_t pid);
// Resident memory (VmRSS) of a process in KiB, from /proc/<pid>/status (-1 if unknown).
int64_t ProcRssKib(pid_t pid);
// This process's user+system CPU time (getrusage), microseconds.
double SelfCpuUs();

// CPU of a set of daemons plus this process, between Start() and Elapsed().
class CpuMeter {
 public:
  explicit CpuMeter(std::vector<pid_t> pids) : pids_(std::move(pids)) {}
  void Start();
  // Microseconds of CPU consumed by all of them since Start().
  double Elapsed() const;

 private:
  double Total() const;
  std::vector<pid_t> pids_;
  double start_ = 0;
};

// q in [0, 1]; v is sorted in place. 0 for an empty vector.
double Percentile(std::vector<double>* v, double q);

class BenchLine {
 public:
  // Starts "BENCH name=<name> system=qjournal".
  explicit BenchLine(const std::string& name);
  template <typename T>
  BenchLine& Add(const std::string& key, const T& value) {
    out_ << ' ' << key << '=' << value;
    return *this;
  }
  BenchLine& AddFixed(const std::string& key, double value, int decimals);
  // Writes the line to stdout and flushes.
  void Print();

 private:
  std::ostringstream out_;
};

}  // namespace qj::bench
