// The floor figures: what the disk and the loopback network allow, measured in the same run.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/bench/bench_phases.h"
#include "tests/bench/bench_util.h"

namespace qj::bench {
namespace {

Status Errno(const std::string& what) {
  return Status::IOError("bench: " + what + ": " + std::strerror(errno));
}

double ThreadCpuUs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

// Median latency of one 4 KiB pwrite + fdatasync into a preallocated (written and synced)
// file: what a journalnode's batch costs at least when its segment file is preallocated.
//
// Measured twice. On this VM, a thread that sleeps in fdatasync while its vCPU has
// nothing else to run is woken about one timer tick (4 ms) after the device is done; with
// any other runnable thread the same call takes ~0.1-0.3 ms. So `disk_floor` is the plain
// loop (the definition) and `disk_floor_busy` the same loop with a spinning thread
// beside it (`spinner=1`), i.e. the device's own floor. A loaded journalnode sees the
// latter; the targets use the lower of the two.
Status DiskFloor(const BenchOptions& o, const std::string& dir, bool spinner) {
  const std::string path = dir + "/disk-floor.tmp";
  constexpr size_t kBlock = 4096, kFile = 4u << 20;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("open " + path);
  std::string zeros(kFile, '\0');
  if (::pwrite(fd, zeros.data(), zeros.size(), 0) != static_cast<ssize_t>(zeros.size()) ||
      ::fsync(fd) != 0) {
    Status s = Errno("preallocate " + path);
    ::close(fd);
    return s;
  }
  std::string block(kBlock, 'd');
  std::vector<double> lat;
  std::atomic<bool> spin{spinner};
  std::thread spin_thread([&spin] {
    while (spin.load(std::memory_order_relaxed)) {
    }
  });
  double cpu0 = ThreadCpuUs();
  for (int64_t i = 0; i < o.floor_ops; i++) {
    off_t off = static_cast<off_t>((i * kBlock) % kFile);
    double t0 = NowUs();
    if (::pwrite(fd, block.data(), kBlock, off) != static_cast<ssize_t>(kBlock) ||
        ::fdatasync(fd) != 0) {
      Status s = Errno("write+fdatasync " + path);
      spin = false;
      spin_thread.join();
      ::close(fd);
      return s;
    }
    lat.push_back(NowUs() - t0);
  }
  double cpu_us = ThreadCpuUs() - cpu0;  // the measuring thread only, not the spinner
  spin = false;
  spin_thread.join();
  ::close(fd);
  ::unlink(path.c_str());
  double p50 = Percentile(&lat, 0.5), p99 = Percentile(&lat, 0.99);
  BenchLine(spinner ? "disk_floor_busy" : "disk_floor")
      .Add("payload", kBlock)
      .Add("nodes", 0)
      .Add("cores", Cores())
      .Add("ops", o.floor_ops)
      .AddFixed("value", p50, 0)
      .Add("unit", "us")
      .AddFixed("p50_us", p50, 0)
      .AddFixed("p99_us", p99, 0)
      .AddFixed("cpu_us_per_op", cpu_us / static_cast<double>(o.floor_ops), 2)
      .Add("spinner", spinner ? 1 : 0)
      .Print();
  return Status::OK();
}

// The floor of a quorum write on this machine: `n` files (one per journalnode, all on the
// same disk here), each written 4 KiB + fdatasync'ed by its own thread at the same moment;
// a round ends for the quorum when the majority-th thread is done. With a spinner (the
// device's floor, as disk_floor_busy). Shows what a 3-node quorum on one shared disk costs
// at least, before any RPC.
Status QuorumDiskFloor(const BenchOptions& o, const std::string& dir, int n) {
  constexpr size_t kBlock = 4096, kFile = 4u << 20;
  std::vector<int> fds;
  std::string zeros(kFile, '\0');
  Status st;
  for (int i = 0; i < n && st.ok(); i++) {
    const std::string path = dir + "/disk-floor-q" + std::to_string(i) + ".tmp";
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      st = Errno("open " + path);
      break;
    }
    fds.push_back(fd);
    ::unlink(path.c_str());
    if (::pwrite(fd, zeros.data(), zeros.size(), 0) != static_cast<ssize_t>(zeros.size()) ||
        ::fsync(fd) != 0) {
      st = Errno("preallocate " + path);
    }
  }
  std::mutex mu;
  std::condition_variable cv;  // notified by the main thread (new round) and workers (done)
  int64_t round = -1;          // GUARDED_BY(mu)
  std::vector<double> done_at(static_cast<size_t>(n), 0);  // GUARDED_BY(mu)
  int done = 0;                                            // GUARDED_BY(mu)
  bool io_failed = false;                                  // GUARDED_BY(mu)
  std::atomic<bool> spin{true};
  std::thread spinner([&spin] {
    while (spin.load(std::memory_order_relaxed)) {
    }
  });
  std::vector<std::thread> workers;
  const std::string block(kBlock, 'q');
  for (int i = 0; i < n && st.ok(); i++) {
    workers.emplace_back([&, i] {
      for (int64_t r = 0; r < o.floor_ops; r++) {
        {
          std::unique_lock<std::mutex> l(mu);
          cv.wait(l, [&] { return round >= r; });
        }
        off_t off = static_cast<off_t>((r * kBlock) % kFile);
        bool ok = ::pwrite(fds[i], block.data(), kBlock, off) == static_cast<ssize_t>(kBlock) &&
                  ::fdatasync(fds[i]) == 0;
        std::lock_guard<std::mutex> l(mu);
        done_at[i] = NowUs();
        io_failed |= !ok;
        done++;
        cv.notify_all();
      }
    });
  }
  std::vector<double> lat;
  for (int64_t r = 0; r < o.floor_ops && st.ok(); r++) {
    double t0;
    std::unique_lock<std::mutex> l(mu);
    done = 0;
    t0 = NowUs();
    round = r;
    cv.notify_all();
    cv.wait(l, [&] { return done == n; });
    if (io_failed) {
      st = Status::IOError("bench: quorum disk floor: a write or fdatasync failed");
      break;
    }
    std::vector<double> t = done_at;
    std::sort(t.begin(), t.end());
    lat.push_back(t[static_cast<size_t>(n / 2)] - t0);
  }
  for (auto& w : workers) w.join();
  spin = false;
  spinner.join();
  for (int fd : fds) ::close(fd);
  QJ_RETURN_IF_ERROR(st);
  double p50 = Percentile(&lat, 0.5), p99 = Percentile(&lat, 0.99);
  BenchLine("disk_floor_quorum")
      .Add("payload", kBlock)
      .Add("nodes", n)
      .Add("cores", Cores())
      .Add("ops", o.floor_ops)
      .AddFixed("value", p50, 0)
      .Add("unit", "us")
      .AddFixed("p50_us", p50, 0)
      .AddFixed("p99_us", p99, 0)
      .Add("cpu_us_per_op", 0)
      .Add("spinner", 1)
      .Print();
  return Status::OK();
}

// Median round trip of one byte over loopback TCP (TCP_NODELAY both ways).
Status LoopbackRtt(const BenchOptions& o) {
  int ls = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (ls < 0) return Errno("socket");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(ls, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(ls, 1) != 0 ||
      ::getsockname(ls, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    Status s = Errno("bind/listen on 127.0.0.1");
    ::close(ls);
    return s;
  }
  const int64_t n = o.rtt_ops;
  std::thread echo([ls, n] {
    int c = ::accept(ls, nullptr, nullptr);
    if (c < 0) return;
    int one = 1;
    ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char b;
    for (int64_t i = 0; i < n; i++) {
      if (::read(c, &b, 1) != 1 || ::write(c, &b, 1) != 1) break;
    }
    ::close(c);
  });
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  Status st;
  std::vector<double> lat;
  double cpu0 = SelfCpuUs();
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    st = Errno("connect to the echo thread");
  } else {
    char b = 'x';
    for (int64_t i = 0; i < n; i++) {
      double t0 = NowUs();
      if (::write(fd, &b, 1) != 1 || ::read(fd, &b, 1) != 1) {
        st = Errno("echo round trip");
        break;
      }
      lat.push_back(NowUs() - t0);
    }
  }
  double cpu_us = SelfCpuUs() - cpu0;  // both ends: the echo thread is ours
  if (fd >= 0) ::close(fd);
  ::shutdown(ls, SHUT_RDWR);
  echo.join();
  ::close(ls);
  QJ_RETURN_IF_ERROR(st);
  double p50 = Percentile(&lat, 0.5), p99 = Percentile(&lat, 0.99);
  BenchLine("loopback_rtt")
      .Add("payload", 1)
      .Add("nodes", 0)
      .Add("cores", Cores())
      .Add("ops", n)
      .AddFixed("value", p50, 0)
      .Add("unit", "us")
      .AddFixed("p50_us", p50, 0)
      .AddFixed("p99_us", p99, 0)
      .AddFixed("cpu_us_per_op", cpu_us / static_cast<double>(n), 2)
      .Print();
  return Status::OK();
}

}  // namespace

Status RunFloorFigures(const BenchOptions& o, const std::string& dir) {
  QJ_RETURN_IF_ERROR(DiskFloor(o, dir, /*spinner=*/false));
  QJ_RETURN_IF_ERROR(DiskFloor(o, dir, /*spinner=*/true));
  QJ_RETURN_IF_ERROR(QuorumDiskFloor(o, dir, 3));
  return LoopbackRtt(o);
}

}  // namespace qj::bench
