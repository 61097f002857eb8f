#include "tests/bench/bench_util.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <iostream>

namespace qj::bench {

double NowUs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int Cores() { return static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)); }

double ProcCpuUs(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The command name may hold spaces: count fields after the last ')'. utime and stime are
  // fields 14 and 15; the first field after ')' is field 3.
  size_t p = s.rfind(')');
  if (p == std::string::npos) return 0;
  std::istringstream fields(s.substr(p + 2));
  std::string f;
  unsigned long long ut = 0, st = 0;
  for (int i = 3; i <= 15 && fields >> f; i++) {
    if (i == 14) ut = std::stoull(f);
    if (i == 15) st = std::stoull(f);
  }
  return static_cast<double>(ut + st) * 1e6 / static_cast<double>(sysconf(_SC_CLK_TCK));
}

int64_t ProcRssKib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

double SelfCpuUs() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec * 1e6 + ru.ru_utime.tv_usec + ru.ru_stime.tv_sec * 1e6 +
         ru.ru_stime.tv_usec;
}

double CpuMeter::Total() const {
  double sum = SelfCpuUs();
  for (pid_t p : pids_) sum += ProcCpuUs(p);
  return sum;
}

void CpuMeter::Start() { start_ = Total(); }

double CpuMeter::Elapsed() const { return Total() - start_; }

double Percentile(std::vector<double>* v, double q) {
  if (v->empty()) return 0;
  std::sort(v->begin(), v->end());
  size_t i = static_cast<size_t>(q * static_cast<double>(v->size() - 1) + 0.5);
  return (*v)[std::min(i, v->size() - 1)];
}

BenchLine::BenchLine(const std::string& name) {
  out_ << "BENCH name=" << name << " system=qjournal";
}

BenchLine& BenchLine::AddFixed(const std::string& key, double value, int decimals) {
  out_ << ' ' << key << '=' << std::fixed << std::setprecision(decimals) << value
       << std::defaultfloat;
  return *this;
}

void BenchLine::Print() { std::cout << out_.str() << std::endl; }

}  // namespace qj::bench
