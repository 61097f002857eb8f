#include "common/rpc/rpc.h"

#include <fcntl.h>
#include <glog/logging.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <thrift/TApplicationException.h>
#include <thrift/TOutput.h>
#include <thrift/concurrency/Exception.h>
#include <thrift/concurrency/ThreadFactory.h>
#include <thrift/concurrency/ThreadManager.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/server/TNonblockingServer.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TNonblockingServerTransport.h>
#include <thrift/transport/TSSLServerSocket.h>
#include <thrift/transport/TSSLSocket.h>
#include <thrift/transport/TServerSocket.h>
#include <thrift/transport/TTransportException.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/mutex.h"
#include "rpc_types.h"

namespace qj::rpc {

namespace at = apache::thrift;
namespace tr = apache::thrift::transport;
namespace tp = apache::thrift::protocol;
namespace ac = apache::thrift::concurrency;

namespace {

// What every process that speaks Thrift needs, done once by the first Connect or Server
// (every Thrift socket is opened through one of them, so no main() has to remember it):
// Thrift's own stderr chatter (failed connects, closed sockets) goes to VLOG(1), since
// our callers report each failure with context; and SIGPIPE is ignored.
void SetUpThriftForProcess() {
  static std::once_flag once;
  std::call_once(once, [] {
    // OpenSSL writes with write(2), not send(MSG_NOSIGNAL): a peer that closed the
    // connection must fail the call, not kill the process.
    ::signal(SIGPIPE, SIG_IGN);
    at::GlobalOutput.setOutputFunction([](const char* msg) { VLOG(1) << "thrift: " << msg; });
  });
}

}  // namespace

Result<TlsOptions> TlsFor(const ClusterConfig& cluster, const std::string& identity) {
  TlsOptions t;
  if (!cluster.security.tls_enabled) return t;
  t.enabled = true;
  t.ca_file = cluster.security.ca_file;
  t.cert_file = cluster.security.CertFile(identity);
  t.key_file = cluster.security.KeyFile(identity);
  for (const std::string* f : {&t.ca_file, &t.cert_file, &t.key_file}) {
    if (::access(f->c_str(), R_OK) != 0) {
      return Status::InvalidArgument("TLS is on but '" + *f + "' (for identity '" + identity +
                                     "') cannot be read: " + std::strerror(errno) +
                                     " (scripts/make-certs.sh makes the certificates)");
    }
  }
  return t;
}

namespace {
Mutex process_tls_mu;
TlsOptions process_tls GUARDED_BY(process_tls_mu);
}  // namespace

void SetProcessTls(const TlsOptions& tls) {
  MutexLock l(&process_tls_mu);
  process_tls = tls;
}

TlsOptions ProcessTls() {
  MutexLock l(&process_tls_mu);
  return process_tls;
}

Status InitProcessTls(const ClusterConfig& cluster, const std::string& identity) {
  auto t = TlsFor(cluster, identity);
  if (!t.ok()) return t.status();
  SetProcessTls(*t);
  return Status::OK();
}

namespace {

// OpenSSL verifies the peer's chain against the cluster CA (authenticate(true)); the
// identity check is authz.h's, per call, so the handshake accepts any verified peer
// (certificates name daemons, not hosts).
class VerifiedPeers final : public tr::AccessManager {
 public:
  Decision verify(const sockaddr_storage&) noexcept override { return ALLOW; }
  Decision verify(const std::string&, const char*, int) noexcept override { return ALLOW; }
  Decision verify(const sockaddr_storage&, const char*, int) noexcept override { return ALLOW; }
};

class Tls12Factory final : public tr::TSSLSocketFactory {
 public:
  Tls12Factory() : tr::TSSLSocketFactory(tr::SSLTLS) {
    SSL_CTX_set_min_proto_version(ctx_->get(), TLS1_2_VERSION);
    // No session tickets: a server never sends a record the client did not ask for, so
    // an idle client connection that turns readable has been closed by the server.
    SSL_CTX_set_num_tickets(ctx_->get(), 0);
    SSL_CTX_set_options(ctx_->get(), SSL_OP_NO_TICKET);
  }
};

// One factory (one SSL_CTX, certificates loaded once) per side and key pair.
Result<std::shared_ptr<tr::TSSLSocketFactory>> FactoryFor(const TlsOptions& t, bool server) {
  static Mutex mu;
  static std::map<std::string, std::shared_ptr<tr::TSSLSocketFactory>> cache;  // under mu
  const std::string key = (server ? "s|" : "c|") + t.ca_file + "|" + t.cert_file + "|" + t.key_file;
  MutexLock l(&mu);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  try {
    auto f = std::make_shared<Tls12Factory>();
    f->server(server);
    f->authenticate(true);
    f->loadTrustedCertificates(t.ca_file.c_str());
    if (!t.cert_file.empty()) {  // a client without a certificate: refused by servers
      f->loadCertificate(t.cert_file.c_str());
      f->loadPrivateKey(t.key_file.c_str());
    }
    f->access(std::make_shared<VerifiedPeers>());
    cache[key] = f;
    return std::shared_ptr<tr::TSSLSocketFactory>(f);
  } catch (const std::exception& e) {
    return Status::InvalidArgument("TLS set-up with certificate " + t.cert_file + ": " + e.what());
  }
}

struct SslOf : tr::TSSLSocket {
  static SSL* Get(tr::TSSLSocket* s) { return s->*(&SslOf::ssl_); }
};

// Connects fd to the first address of host:port that answers, within timeout_ms.
Result<int> ConnectFd(const HostPort& peer, int64_t timeout_ms) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(peer.port);
  int rc = ::getaddrinfo(peer.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    return Status::NetworkError(peer.ToString() + ": cannot resolve: " + gai_strerror(rc));
  }
  Status last = Status::NetworkError(peer.ToString() + ": no address");
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) {
      last = Status::NetworkError(peer.ToString() + ": socket: " + std::strerror(errno));
      continue;
    }
    int err = 0;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      err = errno;
      if (err == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        int n;
        do {
          n = ::poll(&p, 1, static_cast<int>(timeout_ms));
        } while (n < 0 && errno == EINTR);
        if (n == 0) {
          err = ETIMEDOUT;
        } else if (n < 0) {
          err = errno;
        } else {
          socklen_t len = sizeof(err);
          if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
        }
      }
    }
    if (err == 0) {
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
      ::freeaddrinfo(res);
      return fd;
    }
    ::close(fd);
    const std::string msg = peer.ToString() + ": connect: " + std::strerror(err);
    if (err == ECONNREFUSED) {
      last = Status::ConnectionRefused(msg);
    } else if (err == ETIMEDOUT) {
      last = Status::TimedOut(msg);
    } else {
      last = Status::NetworkError(msg);
    }
  }
  ::freeaddrinfo(res);
  return last;
}

}  // namespace

Result<std::unique_ptr<Connection>> Connect(const HostPort& peer, const ClientOptions& opts) {
  SetUpThriftForProcess();
  std::shared_ptr<tr::TSSLSocketFactory> factory;
  const TlsOptions tls = opts.tls.enabled ? opts.tls : ProcessTls();
  if (tls.enabled) {
    auto f = FactoryFor(tls, /*server=*/false);
    if (!f.ok()) return f.status();
    factory = *f;
  }
  auto fd = ConnectFd(peer, opts.connect_timeout_ms);
  if (!fd.ok()) return fd.status();
  std::unique_ptr<Connection> c(new Connection());
  try {
    if (factory) {
      c->socket_ = factory->createSocket(*fd);
      c->tls_ = true;
    } else {
      c->socket_ = std::make_shared<tr::TSocket>(*fd);
    }
  } catch (const std::exception& e) {
    ::close(*fd);
    return Status::NetworkError(peer.ToString() + ": " + e.what());
  }
  c->fd_ = *fd;
  c->socket_->setConnTimeout(static_cast<int>(opts.connect_timeout_ms));
  c->socket_->setSendTimeout(static_cast<int>(opts.send_timeout_ms));
  c->socket_->setRecvTimeout(static_cast<int>(opts.recv_timeout_ms));
  c->socket_->setNoDelay(true);
  c->socket_->setLinger(false, 0);
  // Bounded per frame (common/thrift_transport.h); strings bounded by the frame too.
  auto rtrans = NewFramedTransport(c->socket_, opts.max_frame_bytes);
  auto wtrans = NewFramedTransport(c->socket_, opts.max_frame_bytes);
  c->in_ = std::make_shared<tp::TBinaryProtocol>(rtrans, opts.max_frame_bytes, 0, false, true);
  c->out_ = std::make_shared<tp::TBinaryProtocol>(wtrans, opts.max_frame_bytes, 0, false, true);
  return Result<std::unique_ptr<Connection>>(std::move(c));
}

Connection::~Connection() { Close(); }

Status Connection::WaitReadable(int64_t timeout_ms) {
  if (tls_) {
    MutexLock l(&io_mu_);
    // Bytes OpenSSL already decrypted are invisible to poll().
    SSL* ssl = SslOf::Get(static_cast<tr::TSSLSocket*>(socket_.get()));
    if (ssl != nullptr && SSL_pending(ssl) > 0) return Status::OK();
  }
  pollfd p{fd_, POLLIN, 0};
  int n;
  do {
    n = ::poll(&p, 1, static_cast<int>(timeout_ms));
  } while (n < 0 && errno == EINTR);
  if (n == 0) return Status::TimedOut("no answer within " + std::to_string(timeout_ms) + " ms");
  if (n < 0) return Status::NetworkError(std::string("poll: ") + std::strerror(errno));
  return Status::OK();
}

void Connection::SetRecvTimeout(int64_t ms) { socket_->setRecvTimeout(static_cast<int>(ms)); }

void Connection::Shutdown() {
  if (!closed_.load() && fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

void Connection::Close() {
  if (closed_.exchange(true)) return;
  try {
    socket_->close();
  } catch (const std::exception&) {
    // Closing a broken connection: nothing left to do.
  }
}

Status FromThrift(const std::exception& e, const std::string& context) {
  if (auto* d = dynamic_cast<const qjournal::thrift::AccessDeniedException*>(&e)) {
    return Status::PermissionDenied(context + ": " + d->message);
  }
  if (auto* t = dynamic_cast<const tr::TTransportException*>(&e)) {
    if (t->getType() == tr::TTransportException::TIMED_OUT) {
      return Status::TimedOut(context + ": " + t->what());
    }
    return Status::NetworkError(context + ": " + t->what());
  }
  if (dynamic_cast<const at::TException*>(&e) != nullptr) {
    return Status::NetworkError(context + ": " + e.what());
  }
  return Status::IOError(context + ": " + e.what());
}

// ---------------------------------------------------------------------------------------
// Server

Status ServerOptions::ApplyCluster(const ClusterConfig& cluster, const std::string& identity,
                                   std::shared_ptr<const Policy> p) {
  auto t = TlsFor(cluster, identity);
  if (!t.ok()) return t.status();
  name = identity;
  max_connections = cluster.security.max_connections;
  idle_timeout_ms = cluster.security.idle_timeout_ms;
  worker_threads = cluster.security.worker_threads;
  io_threads = cluster.security.io_threads;
  tls = *t;
  policy = tls.enabled ? std::move(p) : nullptr;
  return Status::OK();
}

Result<ServerOptions> ServerOptions::FromCluster(const ClusterConfig& cluster,
                                                 const std::string& identity,
                                                 std::shared_ptr<const Policy> policy) {
  ServerOptions o;
  QJ_RETURN_IF_ERROR(o.ApplyCluster(cluster, identity, std::move(policy)));
  return o;
}

namespace internal {

// The open connections of one server, seen from outside their I/O threads: when each last
// finished a call, whether a call is in progress, and its descriptor. A connection can
// only be closed by its own I/O thread, so the cap and the idle timeout close one by
// shutting its socket down (shutdown(2)): its I/O thread then reads end-of-file (or
// fails to write) and closes it. A record lives from the server event handler's
// createContext to its deleteContext, which Thrift calls before it closes the socket, so
// under mu_ a record's descriptor is still that connection's.
class Connections {
 public:
  struct Conn {
    int fd = -1;
    int64_t last_ns = 0;   // accepted, or last call finished
    int64_t calls = 0;     // calls finished
    bool busy = false;     // a call is being served by a worker
    bool closing = false;  // shut down by us; its I/O thread will close it
  };

  Connections(std::string name, int max_connections, int max_workers, const Clock* clock)
      : name_(std::move(name)),
        max_(max_connections),
        max_workers_(max_workers),
        clock_(clock != nullptr ? clock : RealClock::Get()) {}

  int64_t NowNs() const { return clock_->MonotonicNanos(); }

  // createContext / getProcessor / deleteContext (one I/O thread per connection).
  Conn* Open(const void* key) {
    auto c = std::make_unique<Conn>();
    c->last_ns = NowNs();
    MutexLock l(&mu_);
    Conn* raw = c.get();
    conns_.emplace(raw, std::move(c));
    unattached_[key] = raw;
    return raw;
  }
  void Attach(const void* key, int fd) {
    MutexLock l(&mu_);
    auto it = unattached_.find(key);
    if (it == unattached_.end()) return;
    it->second->fd = fd;
    unattached_.erase(it);
  }
  void Close(Conn* c) {
    MutexLock l(&mu_);
    if (c->closing) --closing_;
    for (auto it = unattached_.begin(); it != unattached_.end(); ++it) {
      if (it->second == c) {
        unattached_.erase(it);
        break;
      }
    }
    conns_.erase(c);
  }

  // Around each call, on its worker.
  void Begin(Conn* c) {
    {
      MutexLock l(&mu_);
      c->busy = true;
    }
    const int busy = ++busy_workers_;
    MaybeGrowWorkers(busy);
  }
  void End(Conn* c) {
    --busy_workers_;
    MutexLock l(&mu_);
    c->busy = false;
    c->last_ns = NowNs();
    ++c->calls;
  }

  // Room for a new connection: true when there is room (perhaps made by shutting down
  // the longest-idle connection), false when every connection is busy (refuse it).
  bool MakeRoom() {
    MutexLock l(&mu_);
    // Connections already being closed do not count: their descriptors are on the way out.
    int64_t live = static_cast<int64_t>(conns_.size()) - closing_;
    if (live < max_) return true;
    Conn* victim = LongestIdleLocked();
    if (victim == nullptr) {
      ++refused_;
      LogLocked("refusing a new connection", live);
      return false;
    }
    ShutLocked(victim);
    ++evicted_;
    LogLocked("closed the connection idle longest to admit a new one", live);
    return true;
  }

  // Out of descriptors: shuts the longest-idle connection down, unless one is already
  // being closed. Returns whether one was (or is being) closed.
  bool FreeDescriptor() {
    MutexLock l(&mu_);
    if (closing_ > 0) return true;
    Conn* victim = LongestIdleLocked();
    if (victim == nullptr) return false;
    ShutLocked(victim);
    ++evicted_;
    return true;
  }

  // Shuts down every idle connection not heard from for idle_ns.
  void ReapIdle(int64_t idle_ns) {
    const int64_t now = NowNs();
    MutexLock l(&mu_);
    for (auto& [raw, c] : conns_) {
      if (c->busy || c->closing || c->fd < 0 || now - c->last_ns < idle_ns) continue;
      ShutLocked(c.get());
      ++idle_closed_;
    }
  }

  void SetWorkers(std::shared_ptr<apache::thrift::concurrency::ThreadManager> w) {
    MutexLock l(&grow_mu_);
    workers_ = std::move(w);
  }

  // Answers the worker wrote itself / left to the I/O thread (counted only when direct
  // answers are on, i.e. without TLS).
  void CountAnswer(bool direct) { (direct ? direct_answers_ : io_answers_).fetch_add(1); }

  void Fill(ServerStats* s) {
    s->direct_answers = direct_answers_.load();
    s->io_thread_answers = io_answers_.load();
    MutexLock l(&mu_);
    s->open_connections = static_cast<int64_t>(conns_.size());
    s->refused_connections = refused_;
    s->evicted_connections = evicted_;
    s->idle_closed_connections = idle_closed_;
  }
  int64_t refused() {
    MutexLock l(&mu_);
    return refused_;
  }
  void CountRefused() {
    MutexLock l(&mu_);
    ++refused_;
  }

  const std::string& name() const { return name_; }
  int max() const { return max_; }

 private:
  // The connection to close for room: one that has not completed a call yet (a flood's,
  // or a TLS handshake that never ended) before one that has (a client that did real
  // work); among those, the one idle longest. Never one with a call in progress.
  Conn* LongestIdleLocked() REQUIRES(mu_) {
    Conn* best = nullptr;
    for (auto& [raw, c] : conns_) {
      if (c->busy || c->closing || c->fd < 0) continue;
      if (best == nullptr || (c->calls == 0) > (best->calls == 0) ||
          ((c->calls == 0) == (best->calls == 0) && c->last_ns < best->last_ns)) {
        best = c.get();
      }
    }
    return best;
  }
  void ShutLocked(Conn* c) REQUIRES(mu_) {
    c->closing = true;
    ++closing_;
    ::shutdown(c->fd, SHUT_RDWR);
  }
  void LogLocked(const char* what, int64_t live) REQUIRES(mu_) {
    const int64_t now = NowNs();
    if (last_log_ns_ != 0 && now - last_log_ns_ < 1000000000) return;
    last_log_ns_ = now;
    LOG(WARNING) << name_ << ": " << what << ": " << live
                 << " connections open (rpc.max_connections = " << max_ << "); so far " << evicted_
                 << " closed for room, " << refused_ << " refused";
  }
  // A call is starting; if no worker is left idle, add one (up to the bound), so that
  // handlers blocked on the journal or on fsync never starve the next call.
  void MaybeGrowWorkers(int busy) EXCLUDES(grow_mu_) {
    MutexLock l(&grow_mu_);
    if (workers_ == nullptr) return;
    const size_t n = workers_->workerCount();
    if (static_cast<size_t>(busy) < n || n >= static_cast<size_t>(max_workers_)) return;
    try {
      workers_->addWorker(1);
    } catch (const std::exception& e) {
      LOG(WARNING) << name_ << ": cannot add a worker thread (" << n << " running): " << e.what();
    }
  }

  const std::string name_;
  const int max_;
  const int max_workers_;
  const Clock* const clock_;
  // The connection records (and every field of each Conn) are read and written under mu_.
  Mutex mu_;
  std::unordered_map<Conn*, std::unique_ptr<Conn>> conns_ GUARDED_BY(mu_);
  std::unordered_map<const void*, Conn*> unattached_ GUARDED_BY(mu_);
  int64_t closing_ GUARDED_BY(mu_) = 0;
  int64_t refused_ GUARDED_BY(mu_) = 0;
  int64_t evicted_ GUARDED_BY(mu_) = 0;
  int64_t idle_closed_ GUARDED_BY(mu_) = 0;
  int64_t last_log_ns_ GUARDED_BY(mu_) = 0;  // 0: never logged
  std::atomic<int> busy_workers_{0};
  std::atomic<int64_t> direct_answers_{0};
  std::atomic<int64_t> io_answers_{0};
  Mutex grow_mu_;
  std::shared_ptr<apache::thrift::concurrency::ThreadManager> workers_ GUARDED_BY(grow_mu_);
};

// The listening socket. Accepts non-blocking connections (TLS ones handshake in the I/O
// thread, never blocking it), applies the connection cap, and survives running out of
// descriptors.
//
// Thrift's TNonblockingServer calls accept() once per readable event on the listening
// socket and must get a socket back: an exception would unwind through libevent and end
// serving. So this never throws once listening. Out of descriptors (EMFILE/ENFILE) it
// shuts down the longest-idle connection and hands back one of a few descriptors kept in
// reserve (a socket the server closes at once); the pending connection is accepted once
// the shut-down one is closed.
class Listener final : public tr::TNonblockingServerTransport {
 public:
  Listener(std::string host, int port, std::shared_ptr<tr::TSSLSocketFactory> tls,
           std::shared_ptr<Connections> conns)
      : host_(std::move(host)), port_(port), tls_(std::move(tls)), conns_(std::move(conns)) {}
  ~Listener() override {
    for (int fd : reserve_) ::close(fd);
  }

  void listen() override {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* res = nullptr;
    const std::string port = std::to_string(port_);
    const int rc =
        ::getaddrinfo(host_.empty() ? nullptr : host_.c_str(), port.c_str(), &hints, &res);
    if (rc != 0) {
      throw tr::TTransportException(tr::TTransportException::NOT_OPEN,
                                    "cannot resolve " + host_ + ": " + gai_strerror(rc));
    }
    std::string err = "no address";
    for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
      int fd =
          ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
      if (fd < 0) {
        err = std::string("socket: ") + std::strerror(errno);
        continue;
      }
      int one = 1;
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
      if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, 1024) != 0) {
        err = std::string("bind/listen: ") + std::strerror(errno);
        ::close(fd);
        continue;
      }
      fd_ = fd;
      break;
    }
    ::freeaddrinfo(res);
    if (fd_ < 0) {
      throw tr::TTransportException(tr::TTransportException::NOT_OPEN,
                                    "cannot listen on " + host_ + ":" + port + ": " + err);
    }
    TopUpReserve();
  }
  THRIFT_SOCKET getSocketFD() override { return fd_; }
  int getPort() override { return port_; }
  int getListenPort() override {
    sockaddr_storage a{};
    socklen_t len = sizeof(a);
    if (fd_ < 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) return -1;
    if (a.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&a)->sin6_port);
    return ntohs(reinterpret_cast<sockaddr_in*>(&a)->sin_port);
  }
  // The I/O thread that listened closes the listening socket itself.
  void close() override { fd_ = -1; }

 protected:
  std::shared_ptr<tr::TSocket> acceptImpl() override {
    TopUpReserve();
    for (;;) {
      sockaddr_storage addr{};
      socklen_t len = sizeof(addr);
      int fd =
          ::accept4(fd_, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd >= 0) return Admit(fd, addr, len);
      const int err = errno;
      if (err == EINTR || err == ECONNABORTED || err == EPROTO) continue;
      if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
        const int64_t now = conns_->NowNs();
        if (last_emfile_log_ns_ == 0 || now - last_emfile_log_ns_ > 10000000000) {
          last_emfile_log_ns_ = now;
          LOG(WARNING) << conns_->name() << ": accept failed (" << std::strerror(err)
                       << "); closing the connection idle longest to free a descriptor";
        }
        // Its I/O thread closes it soon; the pending connection waits in the backlog
        // until then.
        conns_->FreeDescriptor();
      }
      // Nothing accepted: hand back a reserve socket, which is closed at once.
      if (!reserve_.empty()) {
        const int r = reserve_.back();
        reserve_.pop_back();
        return std::make_shared<tr::TSocket>(r);
      }
      // No reserve left either (descriptors exhausted for several rounds): wait for
      // another I/O thread to close a connection.
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      TopUpReserve();
    }
  }

 private:
  std::shared_ptr<tr::TSocket> Admit(int fd, const sockaddr_storage& addr, socklen_t len) {
    if (!conns_->MakeRoom()) return Dead(fd);
    std::shared_ptr<tr::TSocket> s;
    if (tls_) {
      auto ssl = tls_->createSocket(fd);
      ssl->setLibeventSafe();
      // A TLS record arriving in pieces makes SSL_read want more input several times in a
      // row; in libevent mode each is a "retry", and Thrift's default of 5 would drop the
      // connection.
      ssl->setMaxRecvRetries(1 << 30);
      // Bounds the blocking SSL_shutdown of Thrift's close() on a peer that does not read.
      ssl->setSendTimeout(100);
      s = ssl;
    } else {
      s = std::make_shared<tr::TSocket>(fd);
    }
    s->setCachedAddress(reinterpret_cast<const sockaddr*>(&addr), len);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return s;
  }
  // A socket that is closed as soon as the server looks at it.
  static std::shared_ptr<tr::TSocket> Dead(int fd) {
    ::shutdown(fd, SHUT_RDWR);
    return std::make_shared<tr::TSocket>(fd);
  }
  // Reserve sockets: unconnected Unix stream sockets (one descriptor each), which poll as
  // hung up, so the server closes one handed back at once.
  void TopUpReserve() {
    while (reserve_.size() < kReserve) {
      int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) return;
      reserve_.push_back(fd);
    }
  }
  static constexpr size_t kReserve = 4;

  const std::string host_;
  const int port_;
  const std::shared_ptr<tr::TSSLSocketFactory> tls_;
  const std::shared_ptr<Connections> conns_;
  int fd_ = -1;                     // accept thread (I/O thread 0) only, after listen()
  std::vector<int> reserve_;        // likewise
  int64_t last_emfile_log_ns_ = 0;  // likewise; 0: never logged
};

}  // namespace internal

namespace {

using internal::Connections;

// A worker finishing an answer the client is not reading waits at most this long (or the
// idle timeout, if shorter) for room in the socket, then closes the connection.
constexpr int64_t kAnswerStallMs = 1000;

// The workers that run calls: Thrift's ThreadManager contract, without its costs per
// call. Thrift's own manager keeps one queue, one mutex and one condition variable
// (condition_variable_any over a timed_mutex) for all workers: the I/O thread's add()
// and every worker taking or finishing a task contend on that mutex, and an idle worker
// reacquires it after each wake-up. Profiled under 64 namenode clients, that lock was the
// namenode's most contended (about a quarter of its CPU in the manager's wait, add and
// lock). Here a task goes straight to the most recently idle worker through that worker's
// own slot and condition variable (LIFO: the thread whose cache is warmest), woken after
// the pool's mutex is released; only when no worker is idle does it wait in the queue.
// Tasks never expire (the non-blocking server sets no expiration) and the pool only grows.
class WorkerPool final : public ac::ThreadManager {
 public:
  explicit WorkerPool(size_t initial) : initial_(initial) {}
  ~WorkerPool() override { stop(); }

  void start() override {
    {
      MutexLock l(&mu_);
      if (state_ != UNINITIALIZED) return;
      state_ = STARTED;
    }
    addWorker(initial_);
  }
  // Stops every worker: a running task finishes, queued ones are dropped (as Thrift's
  // manager does on stop()).
  void stop() override {
    std::vector<std::thread> threads;
    {
      MutexLock l(&mu_);
      if (state_ == STOPPED || state_ == STOPPING) return;
      state_ = STOPPING;
      tasks_.clear();
      for (Idle* w : idle_) Hand(w);  // with no task: the worker exits
      idle_.clear();
      threads.swap(threads_);
    }
    for (auto& t : threads) {
      if (t.get_id() == std::this_thread::get_id()) {
        t.detach();  // stop() from a task: that worker exits when the task returns
      } else {
        t.join();
      }
    }
    MutexLock l(&mu_);
    state_ = STOPPED;
  }
  STATE state() const override {
    MutexLock l(&mu_);
    return state_;
  }
  std::shared_ptr<ac::ThreadFactory> threadFactory() const override {
    MutexLock l(&mu_);
    return factory_;
  }
  void threadFactory(std::shared_ptr<ac::ThreadFactory> value) override {
    MutexLock l(&mu_);
    factory_ = std::move(value);  // unused: workers are std::threads
  }
  void addWorker(size_t n) override {
    MutexLock l(&mu_);
    if (state_ != STARTED) return;
    for (size_t i = 0; i < n; i++) threads_.emplace_back([this] { Work(); });
    workers_.fetch_add(n, std::memory_order_relaxed);
  }
  void removeWorker(size_t) override {
    throw ac::InvalidArgumentException();  // the pool only grows (rpc::ServerOptions)
  }
  size_t idleWorkerCount() const override {
    MutexLock l(&mu_);
    return idle_.size();
  }
  size_t workerCount() const override { return workers_.load(std::memory_order_relaxed); }
  size_t pendingTaskCount() const override {
    MutexLock l(&mu_);
    return tasks_.size();
  }
  size_t totalTaskCount() const override {
    MutexLock l(&mu_);
    const size_t busy = workerCount() > idle_.size() ? workerCount() - idle_.size() : 0;
    return tasks_.size() + busy;
  }
  size_t pendingTaskCountMax() const override { return 0; }  // unbounded
  size_t expiredTaskCount() const override { return 0; }

  void add(std::shared_ptr<ac::Runnable> task, int64_t, int64_t) override {
    Idle* w = nullptr;
    {
      MutexLock l(&mu_);
      if (state_ != STARTED) throw ac::IllegalStateException("worker pool not started");
      if (idle_.empty()) {
        tasks_.push_back(std::move(task));
        return;
      }
      w = idle_.back();
      idle_.pop_back();
      w->task = std::move(task);
    }
    // Outside the pool's lock. Safe: w is no longer in idle_, so nothing else hands it
    // anything, and its worker waits until it is handed, so *w lives until then.
    Hand(w);
  }
  void remove(std::shared_ptr<ac::Runnable> task) override {
    MutexLock l(&mu_);
    tasks_.erase(std::remove(tasks_.begin(), tasks_.end(), task), tasks_.end());
  }
  std::shared_ptr<ac::Runnable> removeNextPending() override {
    MutexLock l(&mu_);
    if (tasks_.empty()) return nullptr;
    auto t = std::move(tasks_.front());
    tasks_.pop_front();
    return t;
  }
  void removeExpiredTasks() override {}  // tasks never expire
  void setExpireCallback(ExpireCallback) override {}

 private:
  // An idle worker, on its worker's stack while it waits. Handed exactly once (by add()
  // with a task, or by stop() without), after being taken out of idle_.
  struct Idle {
    Mutex mu;
    CondVar cv;
    bool handed GUARDED_BY(mu) = false;
    std::shared_ptr<ac::Runnable> task;  // set under the pool's mu_ before it is handed
  };

  // The last touch of *w by anyone but its worker.
  static void Hand(Idle* w) {
    MutexLock l(&w->mu);
    w->handed = true;
    w->cv.Signal();
  }

  void Work() {
    pthread_setname_np(pthread_self(), "rpc-worker");
    while (true) {
      std::shared_ptr<ac::Runnable> task;
      Idle me;
      {
        MutexLock l(&mu_);
        if (state_ != STARTED) return;
        if (!tasks_.empty()) {
          task = std::move(tasks_.front());
          tasks_.pop_front();
        } else {
          idle_.push_back(&me);
        }
      }
      if (task == nullptr) {
        {
          MutexLock wl(&me.mu);
          while (!me.handed) me.cv.Wait(&me.mu);
        }
        MutexLock l(&mu_);
        if (me.task == nullptr) return;  // handed by stop()
        task = std::move(me.task);
      }
      try {
        task->run();
      } catch (const std::exception& e) {
        LOG(ERROR) << "rpc worker: a call threw: " << e.what();
      }
    }
  }

  const size_t initial_;
  mutable Mutex mu_;
  STATE state_ GUARDED_BY(mu_) = UNINITIALIZED;
  std::deque<std::shared_ptr<ac::Runnable>> tasks_ GUARDED_BY(mu_);
  std::vector<Idle*> idle_ GUARDED_BY(mu_);  // most recently idle last
  std::vector<std::thread> threads_ GUARDED_BY(mu_);
  std::shared_ptr<ac::ThreadFactory> factory_ GUARDED_BY(mu_);
  std::atomic<size_t> workers_{0};
};

// Tracks each connection (server event handler) and signals when listening.
class Events final : public at::server::TServerEventHandler {
 public:
  Events(std::shared_ptr<Connections> conns, std::function<void()> listening)
      : conns_(std::move(conns)), listening_(std::move(listening)) {}
  void preServe() override {
    if (listening_) listening_();
  }
  void* createContext(std::shared_ptr<tp::TProtocol> in, std::shared_ptr<tp::TProtocol>) override {
    return conns_->Open(in.get());
  }
  void deleteContext(void* ctx, std::shared_ptr<tp::TProtocol>,
                     std::shared_ptr<tp::TProtocol>) override {
    conns_->Close(static_cast<Connections::Conn*>(ctx));
  }

 private:
  const std::shared_ptr<Connections> conns_;
  const std::function<void()> listening_;
};

// An answer frame of at most this many bytes is written by the worker that made it
// (below); a larger one by the I/O thread. Small enough that a client with no unread
// answer (every synchronous Thrift client) always has room for it in its socket buffer.
constexpr uint32_t kDirectAnswerMaxBytes = 8 << 10;

// The processor of one connection: the service's (authz.h's Guarded), with each call
// marked busy for the cap and the idle timeout.
//
// Direct answers (without TLS): TNonblockingServer's worker leaves the answer in the
// connection's output buffer (4 bytes reserved for the frame length) and wakes the I/O
// thread over a pipe; that thread then waits for the socket to turn writable (two
// epoll_ctl calls and one more epoll round) and writes it. Instead the worker writes the
// frame to the socket itself, non-blocking, while the connection is still its own: the
// I/O thread does not watch a connection whose call is in progress, and only that thread
// closes it. Fully written, the buffer is emptied back to the 4 reserved bytes, which
// the I/O thread treats as a one-way call (no answer): it goes straight back to reading.
// Nothing written (EAGAIN, or an error) leaves the answer to the I/O thread as before.
// Partly written (the client has not read earlier answers), the worker finishes it,
// waiting for the socket at most `stall_ms`; past that it shuts the connection down (its
// I/O thread then closes it), as the idle timeout does to a client that does not read.
class Tracked final : public at::TProcessor {
 public:
  Tracked(std::shared_ptr<at::TProcessor> inner, std::shared_ptr<Connections> conns, int fd,
          int64_t stall_ms)
      : inner_(std::move(inner)), conns_(std::move(conns)), fd_(fd), stall_ms_(stall_ms) {}
  bool process(std::shared_ptr<tp::TProtocol> in, std::shared_ptr<tp::TProtocol> out,
               void* ctx) override {
    auto* c = static_cast<Connections::Conn*>(ctx);
    conns_->Begin(c);
    struct EndCall {
      Connections* conns;
      Connections::Conn* c;
      ~EndCall() { conns->End(c); }
    } end{conns_.get(), c};
    const bool more = inner_->process(in, out, ctx);
    if (fd_ >= 0) WriteAnswer(out->getTransport().get());
    return more;
  }

 private:
  void WriteAnswer(tr::TTransport* t) {
    auto* buf = dynamic_cast<tr::TMemoryBuffer*>(t);
    if (buf == nullptr) return;
    uint8_t* p = nullptr;
    uint32_t n = 0;
    buf->getBuffer(&p, &n);
    if (n <= 4) return;  // one-way: no answer
    if (n > kDirectAnswerMaxBytes) {
      conns_->CountAnswer(false);
      return;
    }
    const uint32_t frame = htonl(n - 4);
    std::memcpy(p, &frame, 4);
    uint32_t sent = 0;
    while (sent < n) {
      const ssize_t k = ::send(fd_, p + sent, n - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (k > 0) {
        sent += static_cast<uint32_t>(k);
        continue;
      }
      if (k < 0 && errno == EINTR) continue;
      const bool again = k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
      if (sent == 0) {
        conns_->CountAnswer(false);  // the I/O thread writes it (or reports the error)
        return;
      }
      if (!again || !WaitWritable()) {
        ::shutdown(fd_, SHUT_RDWR);  // half an answer out: the connection cannot go on
        break;
      }
    }
    if (sent == n) conns_->CountAnswer(true);
    buf->resetBuffer();
    buf->getWritePtr(4);
    buf->wroteBytes(4);
  }
  bool WaitWritable() const {
    pollfd pf{fd_, POLLOUT, 0};
    int r;
    do {
      r = ::poll(&pf, 1, static_cast<int>(stall_ms_));
    } while (r < 0 && errno == EINTR);
    return r > 0 && (pf.revents & POLLOUT) != 0 && (pf.revents & (POLLERR | POLLHUP)) == 0;
  }

  const std::shared_ptr<at::TProcessor> inner_;
  const std::shared_ptr<Connections> conns_;
  const int fd_;  // -1: answers go through the I/O thread
  const int64_t stall_ms_;
};

class TrackedFactory final : public at::TProcessorFactory {
 public:
  TrackedFactory(ProcessorFactory inner, std::shared_ptr<Connections> conns, bool direct_answers,
                 int64_t stall_ms)
      : inner_(std::move(inner)),
        conns_(std::move(conns)),
        direct_answers_(direct_answers),
        stall_ms_(stall_ms) {}
  std::shared_ptr<at::TProcessor> getProcessor(const at::TConnectionInfo& info) override {
    auto* sock = dynamic_cast<tr::TSocket*>(info.transport.get());
    const int fd = sock != nullptr ? sock->getSocketFD() : -1;
    conns_->Attach(info.input.get(), fd);
    return std::make_shared<Tracked>(inner_->getProcessor(info), conns_, direct_answers_ ? fd : -1,
                                     stall_ms_);
  }

 private:
  const ProcessorFactory inner_;
  const std::shared_ptr<Connections> conns_;
  const bool direct_answers_;
  const int64_t stall_ms_;
};

}  // namespace

Server::Server(ProcessorFactory processors, ServerOptions opts)
    : processors_(std::move(processors)),
      opts_(std::move(opts)),
      conns_(std::make_shared<Connections>(opts_.name, opts_.max_connections,
                                           std::max(1, opts_.worker_threads), opts_.clock)) {}

Server::~Server() { Stop(); }

int64_t Server::refused_connections() const { return conns_->refused(); }

ServerStats Server::stats() const {
  ServerStats s;
  conns_->Fill(&s);
  MutexLock l(&mu_);
  if (workers_) s.worker_threads = static_cast<int64_t>(workers_->workerCount());
  return s;
}

Status Server::Build() {
  SetUpThriftForProcess();
  std::shared_ptr<tr::TSSLSocketFactory> tls;
  if (opts_.tls.enabled) {
    auto f = FactoryFor(opts_.tls, /*server=*/true);
    if (!f.ok()) return f.status();
    tls = *f;
  }
  auto listener = std::make_shared<internal::Listener>(opts_.bind_host, opts_.port, tls, conns_);
  // Strings and containers bounded as on the client; frames bounded by the server itself
  // (it reads the 4-byte length, refuses a larger frame, then reads the frame).
  auto protocols = std::make_shared<tp::TBinaryProtocolFactory>(
      opts_.max_string_bytes, opts_.max_container_elements, false, true);
  // A few workers to start with; Connections adds one whenever a call finds none idle.
  const int max_workers = std::max(1, opts_.worker_threads);
  workers_ = std::make_shared<WorkerPool>(static_cast<size_t>(std::min(4, max_workers)));
  workers_->start();
  conns_->SetWorkers(workers_);
  // Workers write small answers themselves (Tracked), except with TLS: the session's
  // state is the I/O thread's.
  const int64_t stall_ms = std::clamp<int64_t>(opts_.idle_timeout_ms, 1, kAnswerStallMs);
  server_ = std::make_shared<at::server::TNonblockingServer>(
      std::make_shared<TrackedFactory>(processors_, conns_, !opts_.tls.enabled, stall_ms),
      protocols, listener, workers_);
  server_->setNumIOThreads(static_cast<size_t>(std::max(1, opts_.io_threads)));
  server_->setMaxFrameSize(static_cast<size_t>(opts_.max_frame_bytes));
  return Status::OK();
}

Status Server::Run(const std::shared_ptr<at::server::TNonblockingServer>& s) {
  LOG(INFO) << opts_.name << ": serving on " << opts_.bind_host << ":" << opts_.port
            << (opts_.tls.enabled ? " (TLS, mutual)" : "") << ", at most " << opts_.max_connections
            << " connections, " << opts_.worker_threads << " workers, " << opts_.io_threads
            << " I/O threads";
  Status st = Status::OK();
  try {
    s->serve();
  } catch (const std::exception& e) {
    st = Status::NetworkError(opts_.name + ": cannot serve on " + opts_.bind_host + ":" +
                              std::to_string(opts_.port) + ": " + e.what());
  }
  return st;
}

Status Server::Serve() {
  std::shared_ptr<at::server::TNonblockingServer> s;
  {
    MutexLock l(&mu_);
    if (stopped_) return Status::OK();
    QJ_RETURN_IF_ERROR(Build());
    server_->setServerEventHandler(std::make_shared<Events>(conns_, nullptr));
    s = server_;
    serving_ = true;
  }
  if (!reaper_.joinable()) reaper_ = std::thread([this] { Reap(); });
  Status st = Run(s);
  MutexLock l(&mu_);
  serving_ = false;
  return st;
}

Status Server::Start() {
  auto listening = std::make_shared<std::promise<void>>();
  std::future<void> ready = listening->get_future();
  auto result = std::make_shared<std::promise<Status>>();
  std::future<Status> ended = result->get_future();
  std::shared_ptr<at::server::TNonblockingServer> s;
  {
    MutexLock l(&mu_);
    if (stopped_) return Status::IllegalState(opts_.name + ": server stopped");
    QJ_RETURN_IF_ERROR(Build());
    server_->setServerEventHandler(
        std::make_shared<Events>(conns_, [listening] { listening->set_value(); }));
    s = server_;
    serving_ = true;
  }
  thread_ = std::thread([this, s, result] {
    Status st = Run(s);
    if (!st.ok()) LOG(ERROR) << st;
    {
      MutexLock l(&mu_);
      serving_ = false;
    }
    result->set_value(st);
  });
  // Whichever comes first: listening, or serve() ended (e.g. the port is taken).
  while (ready.wait_for(std::chrono::milliseconds(5)) != std::future_status::ready) {
    if (ended.wait_for(std::chrono::milliseconds(0)) == std::future_status::ready) {
      Status st = ended.get();
      thread_.join();
      return st.ok() ? Status::NetworkError(opts_.name + ": server ended before listening") : st;
    }
  }
  // Idle connections are closed by this thread (see ServerOptions::idle_timeout_ms).
  reaper_ = std::thread([this] { Reap(); });
  return Status::OK();
}

void Server::Reap() {
  const int64_t period_ms = std::clamp<int64_t>(opts_.idle_timeout_ms / 4, 10, 1000);
  MutexLock l(&mu_);
  while (!stopped_) {
    reap_cv_.WaitFor(&mu_, std::chrono::milliseconds(period_ms));
    if (stopped_) break;
    conns_->ReapIdle(opts_.idle_timeout_ms * 1000000);
  }
}

void Server::Stop() {
  std::shared_ptr<at::server::TNonblockingServer> s;
  {
    MutexLock l(&mu_);
    stopped_ = true;
    s = server_;
  }
  reap_cv_.SignalAll();
  if (reaper_.joinable() && reaper_.get_id() != std::this_thread::get_id()) reaper_.join();
  // The I/O loops can only be told to stop once they run; serve() may be just starting.
  for (;;) {
    {
      MutexLock l(&mu_);
      if (!serving_) break;
    }
    if (s) s->stop();
    if (thread_.joinable() && thread_.get_id() == std::this_thread::get_id()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
  std::shared_ptr<ac::ThreadManager> workers;
  {
    MutexLock l(&mu_);
    workers = workers_;
    s = std::move(server_);
    server_.reset();
  }
  // Calls in progress finish (handlers bound their own waits) before the connections
  // they answer on are closed with the server.
  if (workers) {
    conns_->SetWorkers(nullptr);
    workers->stop();
  }
  s.reset();
}

}  // namespace qj::rpc
