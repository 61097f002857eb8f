// rpc-flood-bench: what a flood of idle and slow connections costs legitimate clients of
// an rpc::Server (docs/PERFORMANCE.md, "RPC server under a connection flood").
//
// Starts one real journalnode (a separate process, the binary given by --journalnode, so
// the same benchmark measures an older build too) on 127.0.0.1 with TLS off and then on,
// and for each mode:
//   1. measures a legitimate client at rest: calls (getJournalState) on one open
//      connection, and calls each on a NEW connection (connect, TLS handshake, call, close);
//   2. opens --flood connections that never complete a request: half send nothing, half
//      send the start of a frame (plain) or of a TLS ClientHello (TLS: a handshake that
//      never completes) and stop;
//   3. measures the legitimate client again while the flood is held: calls on the
//      connection opened before the flood, and calls on new connections (each retried
//      until answered, for at most --new_conn_deadline_ms: the figure is the time until
//      it was served);
//   4. prints the daemon's threads, RSS and descriptors during the flood, and how many
//      flood connections the server closed (to make room, by the cap) by then.
// Figures, not assertions: the machine (2 cores, shared) is loaded.
#include <fcntl.h>
#include <gflags/gflags.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "JournalProtocol.h"
#include "common/rpc/rpc.h"
#include "tests/bench/bench_util.h"
#include "tests/support/process.h"
#include "tests/support/raw_conn.h"

DEFINE_string(journalnode, "", "journalnode binary (default: this build's)");
DEFINE_string(source_dir, QJ_SOURCE_DIR, "source tree (for scripts/make-certs.sh)");
DEFINE_string(modes, "plain,tls", "comma-separated: plain, tls");
DEFINE_int32(flood, 2000, "flood connections held open");
DEFINE_int32(max_connections, 1024, "rpc.max_connections of the journalnode");
DEFINE_int64(idle_timeout_ms, 120000, "rpc.idle_timeout_ms of the journalnode");
DEFINE_int32(calls, 200, "legitimate calls per figure");
DEFINE_int32(new_calls, 50, "legitimate new connections per figure");
DEFINE_int32(daemon_nofile, 8192, "soft RLIMIT_NOFILE the journalnode runs with");
DEFINE_int64(new_conn_deadline_ms, 10000, "give up on a new connection after this long");

namespace qj::bench {
namespace {

namespace th = qjournal::thrift;
using testing::PickFreePorts;
using testing::Process;
using testing::RunCommand;
using testing::TempDir;
using testing::WaitForPort;

int64_t ProcField(pid_t pid, const std::string& key) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(key, 0) == 0) return std::stoll(line.substr(key.size()));
  }
  return -1;
}

int64_t CountFds(pid_t pid) {
  int64_t n = 0;
  std::string out;
  if (RunCommand({"/bin/sh", "-c", "ls /proc/" + std::to_string(pid) + "/fd | wc -l"}, &out) == 0) {
    n = std::stoll(out);
  }
  return n;
}

// Flood connections the server has closed (readable with end-of-file or an error).
int CountClosedByServer(const std::vector<int>& fds) {
  int closed = 0;
  std::vector<pollfd> p;
  for (int fd : fds) p.push_back({fd, POLLIN, 0});
  ::poll(p.data(), p.size(), 0);
  for (const pollfd& x : p) {
    if ((x.revents & (POLLHUP | POLLERR)) != 0) {
      ++closed;
    } else if ((x.revents & POLLIN) != 0) {
      char b[256];
      ssize_t n = ::recv(x.fd, b, sizeof(b), MSG_DONTWAIT | MSG_PEEK);
      if (n == 0 || (n < 0 && errno != EAGAIN)) ++closed;
    }
  }
  return closed;
}

struct Figures {
  double p50 = 0, p99 = 0, max = 0;
  int failed = 0;
};

Figures Summarize(std::vector<double> ms, int failed) {
  Figures f;
  f.failed = failed;
  if (ms.empty()) return f;
  f.p50 = Percentile(&ms, 0.5);
  f.p99 = Percentile(&ms, 0.99);
  f.max = ms.back();
  return f;
}

class Bench {
 public:
  Bench(bool tls, std::string journalnode) : tls_(tls), journalnode_(std::move(journalnode)) {}

  bool Setup() {
    const std::string d = dir_.path();
    port_ = PickFreePorts(1)[0];
    conf_ = d + "/cluster.conf";
    std::ofstream(conf_) << "namespace.id = 7\ncluster.id = flood\n"
                         << "journal.uri = qjournal://127.0.0.1:" << port_ << "/ns1\n"
                         << "namenode.ids = nn1\nnamenode.nn1.host = 127.0.0.1\n"
                         << "namenode.nn1.rpc_port = " << port_ + 1
                         << "\nnamenode.nn1.failoverd_port = " << port_ + 2 << "\n"
                         << "rpc.max_connections = " << FLAGS_max_connections << "\n"
                         << "rpc.idle_timeout_ms = " << FLAGS_idle_timeout_ms << "\n"
                         << (tls_ ? "tls.enabled = true\ntls.ca_file = certs/ca.crt\n"
                                    "tls.cert_dir = certs\n"
                                  : "");
    if (tls_) {
      std::string out;
      if (RunCommand({FLAGS_source_dir + "/scripts/make-certs.sh", d + "/certs", conf_}, &out) !=
          0) {
        std::fprintf(stderr, "make-certs failed: %s\n", out.c_str());
        return false;
      }
      opts_.tls.enabled = true;
      opts_.tls.ca_file = d + "/certs/ca.crt";
      opts_.tls.cert_file = d + "/certs/nn1.crt";
      opts_.tls.key_file = d + "/certs/nn1.key";
    }
    opts_.connect_timeout_ms = opts_.send_timeout_ms = opts_.recv_timeout_ms = 5000;
    // The daemon inherits this process's soft limit: set it for the daemon, then raise
    // ours back for the flood.
    rlimit rl{};
    ::getrlimit(RLIMIT_NOFILE, &rl);
    rlimit daemon = rl;
    daemon.rlim_cur = std::min<rlim_t>(static_cast<rlim_t>(FLAGS_daemon_nofile), rl.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &daemon);
    jn_.Start({journalnode_, "--cluster_conf=" + conf_, "--journalnode_name=jn1",
               "--journalnode_rpc_port=" + std::to_string(port_),
               "--journalnode_edits_dir=" + d + "/jn1"},
              d + "/jn1.log");
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
    return WaitForPort(port_, 20000);
  }

  // One call on `conn`; false on any failure.
  static bool Call(rpc::Connection* conn) {
    try {
      th::JournalProtocolClient c(conn->in(), conn->out());
      bool formatted = false;
      formatted = c.isFormatted("ns1");
      (void)formatted;
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }

  Figures Existing(rpc::Connection* conn) {
    std::vector<double> ms;
    int failed = 0;
    for (int i = 0; i < FLAGS_calls; ++i) {
      const double t0 = NowUs();
      if (Call(conn)) {
        ms.push_back((NowUs() - t0) / 1000);
      } else {
        ++failed;
      }
    }
    return Summarize(ms, failed);
  }

  // Each figure: from the first connect until a call on a new connection was answered
  // (retrying refused or dropped connections), or failed after the deadline.
  Figures NewConnections() {
    std::vector<double> ms;
    int failed = 0;
    for (int i = 0; i < FLAGS_new_calls; ++i) {
      const double t0 = NowUs();
      bool ok = false;
      while (!ok && NowUs() - t0 < FLAGS_new_conn_deadline_ms * 1000.0) {
        auto c = rpc::Connect(HostPort{"127.0.0.1", port_}, opts_);
        if (c.ok()) ok = Call(c->get());
        if (!ok) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      if (ok) {
        ms.push_back((NowUs() - t0) / 1000);
      } else {
        ++failed;
      }
    }
    return Summarize(ms, failed);
  }

  void Print(const char* phase, const char* what, const Figures& f, int n) {
    BenchLine("rpc_flood")
        .Add("mode", tls_ ? "tls" : "plain")
        .Add("phase", phase)
        .Add("client", what)
        .Add("ops", n)
        .AddFixed("p50_ms", f.p50, 2)
        .AddFixed("p99_ms", f.p99, 2)
        .AddFixed("max_ms", f.max, 2)
        .Add("failed", f.failed)
        .Print();
  }

  void Run() {
    auto existing = rpc::Connect(HostPort{"127.0.0.1", port_}, opts_);
    if (!existing.ok()) {
      std::fprintf(stderr, "cannot connect: %s\n", existing.status().ToString().c_str());
      return;
    }
    const pid_t pid = jn_.pid();
    Print("rest", "existing", Existing(existing->get()), FLAGS_calls);
    Print("rest", "new", NewConnections(), FLAGS_new_calls);
    const int64_t threads0 = ProcField(pid, "Threads:");
    const int64_t rss0 = ProcField(pid, "VmRSS:");

    // The flood.
    std::vector<int> flood;
    int failed_connects = 0;
    for (int i = 0; i < FLAGS_flood; ++i) {
      int fd = testing::RawConnect(port_);
      if (fd < 0) {
        ++failed_connects;
        continue;
      }
      if (i % 2 == 1) {
        std::string partial;
        if (tls_) {
          partial =
              std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);  // ClientHello start
        } else {
          partial =
              std::string("\x00\x00\x03\xe8\x80\x01\x00\x01", 8);  // a 1000-byte frame's start
        }
        (void)!::send(fd, partial.data(), partial.size(), MSG_NOSIGNAL);
      }
      flood.push_back(fd);
    }
    // Let the server take the burst: until its descriptor count stops moving (<= 10 s).
    {
      int64_t last = -1;
      for (int i = 0; i < 20; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        const int64_t n = CountFds(pid);
        if (n == last) break;
        last = n;
      }
    }
    const int64_t threads = ProcField(pid, "Threads:");
    const int64_t rss = ProcField(pid, "VmRSS:");
    const int64_t fds = CountFds(pid);
    const int closed_before = CountClosedByServer(flood);
    const Figures ex = Existing(existing->get());
    const Figures nw = NewConnections();
    const int closed_after = CountClosedByServer(flood);
    Print("flood", "existing", ex, FLAGS_calls);
    Print("flood", "new", nw, FLAGS_new_calls);
    BenchLine("rpc_flood_server")
        .Add("mode", tls_ ? "tls" : "plain")
        .Add("flood", flood.size())
        .Add("flood_connect_failures", failed_connects)
        .Add("max_connections", FLAGS_max_connections)
        .Add("flood_closed_by_server_before_legit", closed_before)
        .Add("flood_closed_by_server_after_legit", closed_after)
        .Add("threads_rest", threads0)
        .Add("threads_flood", threads)
        .Add("rss_kib_rest", rss0)
        .Add("rss_kib_flood", rss)
        .Add("fds_flood", fds)
        .Print();
    for (int fd : flood) ::close(fd);
  }

 private:
  const bool tls_;
  const std::string journalnode_;
  TempDir dir_{"qjflood"};
  std::string conf_;
  int port_ = 0;
  rpc::ClientOptions opts_;
  Process jn_;
};

}  // namespace
}  // namespace qj::bench

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "rpc-flood-bench: legitimate-client latency while idle/slow connections flood a "
      "journalnode (plain and TLS); prints BENCH lines");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  const std::string jn = FLAGS_journalnode.empty()
                             ? qj::testing::BinaryPath("journalnode/journalnode")
                             : FLAGS_journalnode;
  std::printf("# rpc-flood-bench: journalnode %s, flood %d, rpc.max_connections %d, cores %d\n",
              jn.c_str(), FLAGS_flood, FLAGS_max_connections, qj::bench::Cores());
  for (const char* mode : {"plain", "tls"}) {
    if (FLAGS_modes.find(mode) == std::string::npos) continue;
    qj::bench::Bench b(std::string(mode) == "tls", jn);
    if (!b.Setup()) {
      std::fprintf(stderr, "%s: journalnode did not start\n", mode);
      return 1;
    }
    b.Run();
  }
  return 0;
}
