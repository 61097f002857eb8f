#include "common/rpc/rpc.h"

#include <fcntl.h>
#include <glog/logging.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <thrift/TApplicationException.h>
#include <thrift/TOutput.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/server/TThreadedServer.h>
#include <thrift/transport/TSSLServerSocket.h>
#include <thrift/transport/TSSLSocket.h>
#include <thrift/transport/TServerSocket.h>
#include <thrift/transport/TTransportException.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "rpc_types.h"

namespace qj::rpc {

namespace at = apache::thrift;
namespace tt = apache::thrift::transport;
namespace tp = apache::thrift::protocol;

void QuietThriftLogging() {
  static std::once_flag once;
  std::call_once(once, [] {
    // OpenSSL writes with write(2), not send(MSG_NOSIGNAL): a peer that closed the
    // connection must fail the call, not kill the process.
    ::signal(SIGPIPE, SIG_IGN);
    at::GlobalOutput.setOutputFunction([](const char* msg) { VLOG(1) << "thrift: " << msg; });
  });
}

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
std::mutex process_tls_mu;
TlsOptions process_tls;  // guarded by process_tls_mu
}  // namespace

void SetProcessTls(const TlsOptions& tls) {
  std::lock_guard<std::mutex> l(process_tls_mu);
  process_tls = tls;
}

TlsOptions ProcessTls() {
  std::lock_guard<std::mutex> l(process_tls_mu);
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
class VerifiedPeers final : public tt::AccessManager {
 public:
  Decision verify(const sockaddr_storage&) noexcept override { return ALLOW; }
  Decision verify(const std::string&, const char*, int) noexcept override { return ALLOW; }
  Decision verify(const sockaddr_storage&, const char*, int) noexcept override { return ALLOW; }
};

class Tls12Factory final : public tt::TSSLSocketFactory {
 public:
  Tls12Factory() : tt::TSSLSocketFactory(tt::SSLTLS) {
    SSL_CTX_set_min_proto_version(ctx_->get(), TLS1_2_VERSION);
    // No session tickets: a server never sends a record the client did not ask for, so
    // an idle client connection that turns readable has been closed by the server.
    SSL_CTX_set_num_tickets(ctx_->get(), 0);
    SSL_CTX_set_options(ctx_->get(), SSL_OP_NO_TICKET);
  }
};

// One factory (one SSL_CTX, certificates loaded once) per side and key pair.
Result<std::shared_ptr<tt::TSSLSocketFactory>> FactoryFor(const TlsOptions& t, bool server) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<tt::TSSLSocketFactory>> cache;
  const std::string key = (server ? "s|" : "c|") + t.ca_file + "|" + t.cert_file + "|" + t.key_file;
  std::lock_guard<std::mutex> l(mu);
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
    return std::shared_ptr<tt::TSSLSocketFactory>(f);
  } catch (const std::exception& e) {
    return Status::InvalidArgument("TLS set-up with certificate " + t.cert_file + ": " + e.what());
  }
}

struct SslOf : tt::TSSLSocket {
  static SSL* Get(tt::TSSLSocket* s) { return s->*(&SslOf::ssl_); }
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
  QuietThriftLogging();
  std::shared_ptr<tt::TSSLSocketFactory> factory;
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
      c->socket_ = std::make_shared<tt::TSocket>(*fd);
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
    std::lock_guard<std::mutex> l(io_mu_);
    // Bytes OpenSSL already decrypted are invisible to poll().
    SSL* ssl = SslOf::Get(static_cast<tt::TSSLSocket*>(socket_.get()));
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
  if (auto* t = dynamic_cast<const tt::TTransportException*>(&e)) {
    if (t->getType() == tt::TTransportException::TIMED_OUT) {
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

Result<ServerOptions> ServerOptions::FromCluster(const ClusterConfig& cluster,
                                                 const std::string& identity,
                                                 std::shared_ptr<const Policy> policy) {
  ServerOptions o;
  o.name = identity;
  o.max_connections = cluster.security.max_connections;
  o.idle_timeout_ms = cluster.security.idle_timeout_ms;
  auto tls = TlsFor(cluster, identity);
  if (!tls.ok()) return tls.status();
  o.tls = *tls;
  if (o.tls.enabled) o.policy = std::move(policy);
  return o;
}

namespace {

// Accepts like `inner`, but closes a new connection at once while max connections are
// being served, so a flood costs a file descriptor for a moment, not a thread.
class CappedServerTransport final : public tt::TServerTransport {
 public:
  CappedServerTransport(std::shared_ptr<tt::TServerSocket> inner, int max,
                        std::function<int64_t()> live, std::string name,
                        std::shared_ptr<std::atomic<int64_t>> refused)
      : inner_(std::move(inner)),
        max_(max),
        live_(std::move(live)),
        name_(std::move(name)),
        refused_(std::move(refused)) {}

  bool isOpen() const override { return inner_->isOpen(); }
  void listen() override { inner_->listen(); }
  void interrupt() override { inner_->interrupt(); }
  void interruptChildren() override { inner_->interruptChildren(); }
  THRIFT_SOCKET getSocketFD() override { return inner_->getSocketFD(); }
  void close() override { inner_->close(); }

 protected:
  std::shared_ptr<tt::TTransport> acceptImpl() override {
    for (;;) {
      std::shared_ptr<tt::TTransport> c = AcceptRetrying();
      const int64_t live = live_();
      if (live < max_) return c;
      const int64_t n = ++*refused_;
      const auto now = std::chrono::steady_clock::now();
      if (now - last_log_ >= std::chrono::seconds(1)) {
        last_log_ = now;
        auto* sock = dynamic_cast<tt::TSocket*>(c.get());  // numeric: no DNS in the accept loop
        LOG(WARNING) << name_ << ": refusing connection from "
                     << (sock != nullptr ? sock->getPeerAddress() : std::string("?")) << ": " << live
                     << " connections open (rpc.max_connections = " << max_ << "); " << n
                     << " refused so far";
      }
      try {
        c->close();
      } catch (const std::exception&) {
      }
    }
  }

 private:
  // Thrift 0.17's server loop (TServerFramework::serve) ends for good on any accept failure
  // other than a timeout or an interrupt, and closes the listening socket. accept() fails
  // with EMFILE as soon as the process runs out of descriptors, so a flood of connections
  // against a daemon with the common soft limit of 1024 left it running but deaf: no port,
  // no error, until restarted (tests/security/hostile_input_test.cc). Such a failure is
  // logged (at most once per 10 s) and accept is retried after 100 ms, by which time
  // connections may have closed; pending ones wait in the listen backlog. Stop() still
  // ends the loop: its interrupt is INTERRUPTED, not a failed accept.
  std::shared_ptr<tt::TTransport> AcceptRetrying() {
    for (;;) {
      try {
        return inner_->accept();
      } catch (const tt::TTransportException& e) {
        // INTERRUPTED (stop), TIMED_OUT and NOT_OPEN keep their meaning for the server
        // loop; UNKNOWN is what a failed accept()/poll() throws.
        if (e.getType() != tt::TTransportException::UNKNOWN) throw;
        const auto now = std::chrono::steady_clock::now();
        if (now - last_accept_warning_ > std::chrono::seconds(10)) {
          last_accept_warning_ = now;
          LOG(WARNING) << name_ << ": accept failed (" << e.what() << "); retrying every 100 ms";
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  }

  const std::shared_ptr<tt::TServerSocket> inner_;
  const int max_;
  const std::function<int64_t()> live_;
  const std::string name_;
  const std::shared_ptr<std::atomic<int64_t>> refused_;
  std::chrono::steady_clock::time_point last_log_;             // accept thread only
  std::chrono::steady_clock::time_point last_accept_warning_;  // accept thread only
};

class Events final : public at::server::TServerEventHandler {
 public:
  explicit Events(std::shared_ptr<std::promise<void>> listening)
      : listening_(std::move(listening)) {}
  void preServe() override {
    if (listening_) listening_->set_value();
    listening_.reset();
  }

 private:
  std::shared_ptr<std::promise<void>> listening_;
};

}  // namespace

Server::Server(ProcessorFactory processors, ServerOptions opts)
    : processors_(std::move(processors)), opts_(std::move(opts)) {}

Server::~Server() { Stop(); }

Status Server::Build() {
  QuietThriftLogging();
  std::shared_ptr<tt::TServerSocket> sock;
  if (opts_.tls.enabled) {
    auto f = FactoryFor(opts_.tls, /*server=*/true);
    if (!f.ok()) return f.status();
    sock = std::make_shared<tt::TSSLServerSocket>(opts_.bind_host, opts_.port, *f);
  } else {
    sock = std::make_shared<tt::TServerSocket>(opts_.bind_host, opts_.port);
  }
  // Accepted sockets: a silent peer is dropped after the idle timeout, a peer that does
  // not read its answers after the same time (each blocks one connection thread only).
  sock->setRecvTimeout(static_cast<int>(opts_.idle_timeout_ms));
  sock->setSendTimeout(static_cast<int>(opts_.idle_timeout_ms));
  // The cap reads the live count from the server built below (set before serving).
  auto live = std::make_shared<std::atomic<at::server::TThreadedServer*>>(nullptr);
  auto capped = std::make_shared<CappedServerTransport>(
      sock, opts_.max_connections,
      [live] {
        auto* s = live->load();
        return s == nullptr ? int64_t{0} : static_cast<int64_t>(s->getConcurrentClientCount());
      },
      opts_.name, refused_);
  auto protocols = std::make_shared<tp::TBinaryProtocolFactory>(
      opts_.max_string_bytes, opts_.max_container_elements, false, true);
  server_ = std::make_shared<at::server::TThreadedServer>(
      processors_, capped, NewFramedTransportFactory(opts_.max_frame_bytes), protocols);
  live->store(server_.get());
  return Status::OK();
}

Status Server::Serve() {
  std::shared_ptr<at::server::TThreadedServer> s;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopped_) return Status::OK();
    QJ_RETURN_IF_ERROR(Build());
    s = server_;
  }
  LOG(INFO) << opts_.name << ": serving on " << opts_.bind_host << ":" << opts_.port
            << (opts_.tls.enabled ? " (TLS, mutual)" : "") << ", at most "
            << opts_.max_connections << " connections";
  try {
    s->serve();
  } catch (const std::exception& e) {
    return Status::NetworkError(opts_.name + ": cannot serve on " + opts_.bind_host + ":" +
                                std::to_string(opts_.port) + ": " + e.what());
  }
  return Status::OK();
}

Status Server::Start() {
  auto listening = std::make_shared<std::promise<void>>();
  std::future<void> ready = listening->get_future();
  auto result = std::make_shared<std::promise<Status>>();
  std::future<Status> ended = result->get_future();
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopped_) return Status::IllegalState(opts_.name + ": server stopped");
    QJ_RETURN_IF_ERROR(Build());
    server_->setServerEventHandler(std::make_shared<Events>(listening));
  }
  std::shared_ptr<at::server::TThreadedServer> s = server_;
  LOG(INFO) << opts_.name << ": serving on " << opts_.bind_host << ":" << opts_.port
            << (opts_.tls.enabled ? " (TLS, mutual)" : "") << ", at most "
            << opts_.max_connections << " connections";
  thread_ = std::thread([this, s, result] {
    Status st = Status::OK();
    try {
      s->serve();
    } catch (const std::exception& e) {
      st = Status::NetworkError(opts_.name + ": cannot serve on " + opts_.bind_host + ":" +
                                std::to_string(opts_.port) + ": " + e.what());
      LOG(ERROR) << st;
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
  return Status::OK();
}

void Server::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopped_ = true;
    if (server_) server_->stop();
  }
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

}  // namespace qj::rpc
