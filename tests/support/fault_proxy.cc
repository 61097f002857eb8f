#include "tests/support/fault_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <glog/logging.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace qj::testing {

const char* FaultProxyModeName(FaultProxy::Mode m) {
  switch (m) {
    case FaultProxy::kPass:
      return "pass";
    case FaultProxy::kBlackhole:
      return "blackhole";
    case FaultProxy::kDropToServer:
      return "drop-to-server";
    case FaultProxy::kDropToClient:
      return "drop-to-client";
    case FaultProxy::kReset:
      return "reset";
  }
  return "?";
}

namespace {

// Stop reading a side while this much waits to be written to the other.
constexpr size_t kMaxPending = 1u << 20;

void SetNonBlocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

int ConnectLoopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  SetNonBlocking(fd);
  return fd;
}

// One proxied connection: fd[0] the client side, fd[1] the server side; out[i] the bytes
// waiting to be written to fd[i].
struct Conn {
  int fd[2] = {-1, -1};
  std::string out[2];
  ~Conn() {
    for (int f : fd) {
      if (f >= 0) close(f);
    }
  }
};

}  // namespace

FaultProxy::FaultProxy(int target_port) : target_port_(target_port) {}

FaultProxy::~FaultProxy() {
  stop_ = true;
  if (wake_fd_ >= 0) {
    uint64_t one = 1;
    ssize_t n = write(wake_fd_, &one, sizeof(one));
    (void)n;
  }
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) close(listen_fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
}

Status FaultProxy::Start() {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0)
    return Status::IOError(std::string("fault proxy: socket: ") + strerror(errno));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = 0;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      listen(listen_fd_, 128) != 0 ||
      getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    return Status::IOError(std::string("fault proxy: bind/listen: ") + strerror(errno));
  }
  port_ = ntohs(a.sin_port);
  SetNonBlocking(listen_fd_);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) return Status::IOError(std::string("fault proxy: eventfd: ") + strerror(errno));
  thread_ = std::thread([this] { Run(); });
  return Status::OK();
}

void FaultProxy::SetMode(Mode m) {
  const Mode old = mode_.exchange(m);
  LOG(INFO) << "fault proxy :" << port_ << " -> :" << target_port_ << ": "
            << FaultProxyModeName(old) << " -> " << FaultProxyModeName(m);
  uint64_t one = 1;
  ssize_t n = write(wake_fd_, &one, sizeof(one));
  (void)n;
}

void FaultProxy::Run() {
  pthread_setname_np(pthread_self(), "fault-proxy");
  std::vector<std::unique_ptr<Conn>> conns;
  Mode seen = mode_.load();
  while (!stop_.load()) {
    const Mode m = mode_.load();
    // Healing (or a reset) closes every connection: their streams may be cut mid-frame.
    if (m != seen && (m == kReset || (m == kPass && seen != kPass))) conns.clear();
    seen = m;
    std::vector<pollfd> pfds;
    pfds.push_back({wake_fd_, POLLIN, 0});
    pfds.push_back({listen_fd_, POLLIN, 0});
    for (auto& c : conns) {
      for (int side = 0; side < 2; ++side) {
        short ev = 0;
        if (c->out[1 - side].size() < kMaxPending) ev |= POLLIN;
        if (!c->out[side].empty()) ev |= POLLOUT;
        pfds.push_back({c->fd[side], ev, 0});
      }
    }
    if (poll(pfds.data(), pfds.size(), 200) < 0 && errno != EINTR) {
      LOG(ERROR) << "fault proxy: poll: " << strerror(errno);
      return;
    }
    if (pfds[0].revents & POLLIN) {
      uint64_t v;
      ssize_t n = read(wake_fd_, &v, sizeof(v));
      (void)n;
      continue;  // re-read the mode before moving any byte
    }
    // Existing connections.
    std::vector<bool> dead(conns.size(), false);
    for (size_t i = 0; i < conns.size(); ++i) {
      Conn& c = *conns[i];
      for (int side = 0; side < 2 && !dead[i]; ++side) {
        const pollfd& p = pfds[2 + 2 * i + static_cast<size_t>(side)];
        if (p.revents & POLLIN) {
          char buf[65536];
          ssize_t n = read(c.fd[side], buf, sizeof(buf));
          if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            dead[i] = true;
            break;
          }
          if (n > 0) {
            const bool drop = m == kBlackhole || (side == 0 && m == kDropToServer) ||
                              (side == 1 && m == kDropToClient);
            if (drop) {
              dropped_ += n;
            } else {
              c.out[1 - side].append(buf, static_cast<size_t>(n));
            }
          }
        } else if (p.revents & (POLLERR | POLLHUP)) {
          dead[i] = true;
          break;
        }
        if ((p.revents & POLLOUT) && !c.out[side].empty()) {
          ssize_t n = write(c.fd[side], c.out[side].data(), c.out[side].size());
          if (n < 0 && errno != EAGAIN && errno != EINTR) {
            dead[i] = true;
            break;
          }
          if (n > 0) c.out[side].erase(0, static_cast<size_t>(n));
        }
      }
    }
    for (size_t i = conns.size(); i-- > 0;) {
      if (dead[i]) conns.erase(conns.begin() + static_cast<std::ptrdiff_t>(i));
    }
    // New connections: each gets its own connection to the server, whatever the mode
    // (a blackholed link still completes its TCP handshake, as a silently dropping
    // middlebox would not; the client's calls then time out, which is what matters).
    if (pfds[1].revents & POLLIN) {
      while (true) {
        int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) break;
        if (m == kReset) {
          close(fd);
          continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        auto c = std::make_unique<Conn>();
        c->fd[0] = fd;
        c->fd[1] = ConnectLoopback(target_port_);
        if (c->fd[1] < 0) continue;  // server down: the client sees its connection closed
        conns.push_back(std::move(c));
      }
    }
  }
}

}  // namespace qj::testing
