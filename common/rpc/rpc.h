// The one Thrift layer: how every qjournal client connects and every server serves.
//
//   client: rpc::Connect() opens one connection (connect timeout, send/receive timeouts,
//           TCP_NODELAY, optional mutual TLS, framed binary protocol bounded per frame);
//           rpc::Client<T> is a lazily (re)connected generated client on top of it;
//           rpc::FromThrift() is the one exception -> Status mapping (typed codes kept:
//           refused vs unreachable by errno, time-outs, access denied).
//   server: rpc::Server serves a generated processor with the same transport, string and
//           container limits, a connection cap, an idle timeout, optional mutual TLS and
//           authorization of every call by the peer's certificate identity (authz.h).
//           It is non-blocking (Thrift's TNonblockingServer over libevent): I/O threads
//           read whole frames and do TLS handshakes without blocking, and only a complete
//           request takes a worker thread, so idle and slow connections cost a descriptor
//           and a few KiB, not a thread. The worker writes a small answer (up to 8 KiB,
//           TLS off) to the socket itself, non-blocking; the I/O thread writes the others.
//
// TLS (off unless the cluster file says tls.enabled = true): TLS 1.2 or newer through
// Thrift's TSSLSocketFactory; both sides present a certificate signed by the cluster CA
// and verify the other's against it (servers refuse a client without one).
//
// Thread-safety: Connect, FromThrift and TlsFor are thread-safe; a Connection or Client
// is used by one thread at a time, except Connection::Shutdown (any thread); Server's
// Start/Stop may be called from any thread.
#pragma once

#include <thrift/TProcessor.h>
#include <thrift/Thrift.h>
#include <thrift/protocol/TProtocol.h>
#include <thrift/transport/TSocket.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/cluster_config.h"
#include "common/mutex.h"
#include "common/rpc/authz.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "common/thrift_transport.h"

namespace apache::thrift::server {
class TNonblockingServer;
}
namespace apache::thrift::concurrency {
class ThreadManager;
}

namespace qj::rpc {

// This process's side of mutual TLS.
struct TlsOptions {
  bool enabled = false;
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
};

// The TLS settings of `identity` (its certificate and key in tls.cert_dir); disabled when
// the cluster file leaves TLS off. InvalidArgument naming the file when one is missing.
Result<TlsOptions> TlsFor(const ClusterConfig& cluster, const std::string& identity);

// This process's identity for outgoing connections: main() sets it once from the
// cluster file (InitProcessTls); a ClientOptions without TLS of its own uses it.
void SetProcessTls(const TlsOptions& tls);
TlsOptions ProcessTls();
// SetProcessTls(TlsFor(cluster, identity)).
Status InitProcessTls(const ClusterConfig& cluster, const std::string& identity);

// ---------------------------------------------------------------------------------------
// Client side

struct ClientOptions {
  int64_t connect_timeout_ms = 2000;
  int64_t send_timeout_ms = 2000;
  int64_t recv_timeout_ms = 2000;
  int32_t max_frame_bytes = kDefaultMaxFrameBytes;
  TlsOptions tls;  // when not enabled: ProcessTls()

  // The defaults with connect, send and receive time-outs of `ms`.
  static ClientOptions WithTimeout(int64_t ms) {
    ClientOptions o;
    o.connect_timeout_ms = o.send_timeout_ms = o.recv_timeout_ms = ms;
    return o;
  }
};

// One open connection. Reads and writes use separate framed transports and protocols, so
// one thread may read while another writes; with TLS those two share one OpenSSL session,
// which must not be used by two threads at once: such callers hold io_mu() around every
// read and write and wait for input with WaitReadable() without it.
class Connection {
 public:
  ~Connection();
  const std::shared_ptr<apache::thrift::protocol::TProtocol>& in() const { return in_; }
  const std::shared_ptr<apache::thrift::protocol::TProtocol>& out() const { return out_; }
  bool tls() const { return tls_; }
  int fd() const { return fd_; }
  Mutex* io_mu() RETURN_CAPABILITY(io_mu_) { return &io_mu_; }
  // Waits until a read would find input (or timeout_ms passes: TimedOut). Without io_mu().
  Status WaitReadable(int64_t timeout_ms) EXCLUDES(io_mu_);
  void SetRecvTimeout(int64_t ms);
  // Unblocks a read or write in another thread (shuts the socket down). Any thread.
  void Shutdown();
  void Close();

 private:
  friend Result<std::unique_ptr<Connection>> Connect(const HostPort&, const ClientOptions&);
  Connection() = default;
  std::shared_ptr<apache::thrift::transport::TSocket> socket_;
  std::shared_ptr<apache::thrift::protocol::TProtocol> in_;
  std::shared_ptr<apache::thrift::protocol::TProtocol> out_;
  bool tls_ = false;
  // Serializes the TLS session's reads and writes (see above); what it guards lives
  // inside OpenSSL, so nothing here is GUARDED_BY it.
  Mutex io_mu_;
  int fd_ = -1;
  std::atomic<bool> closed_{false};
};

// Opens a connection. ConnectionRefused when nothing listens on the port (ECONNREFUSED),
// TimedOut when the connect does not complete in time, NetworkError otherwise; each
// message names the peer.
Result<std::unique_ptr<Connection>> Connect(const HostPort& peer, const ClientOptions& opts);

// THE exception -> Status mapping for calls: AccessDeniedException -> PermissionDenied
// (naming the rule), a transport time-out -> TimedOut, other transport and protocol
// failures -> NetworkError, an application exception -> IOError. A service's own typed
// exceptions are mapped by the caller first, with its IDL's table (idl_errors.h).
// `context` prefixes the message ("127.0.0.1:8485 newEpoch").
Status FromThrift(const std::exception& e, const std::string& context);

// A generated client over a lazily opened connection. After a failed call, Reset(); the
// next Get() reconnects.
template <typename ClientT>
class Client {
 public:
  Client(HostPort peer, ClientOptions opts) : peer_(std::move(peer)), opts_(std::move(opts)) {}
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // The client, connecting first if needed (errors as Connect()).
  Result<ClientT*> Get() {
    if (client_) return client_.get();
    auto c = Connect(peer_, opts_);
    if (!c.ok()) return c.status();
    conn_ = std::move(*c);
    client_ = std::make_unique<ClientT>(conn_->in(), conn_->out());
    return client_.get();
  }
  // Runs fn(client) (connecting first); any exception becomes a Status via FromThrift
  // and drops the connection. fn returns a Status (typed answers it caught itself).
  template <typename Fn>
  Status Call(const char* what, Fn fn) {
    auto c = Get();
    if (!c.ok()) return c.status();
    try {
      return fn(*c);
    } catch (const std::exception& e) {
      Reset();
      return FromThrift(e, peer_.ToString() + " " + what);
    }
  }
  void Reset() {
    client_.reset();
    if (conn_) conn_->Close();
    conn_.reset();
  }
  const HostPort& peer() const { return peer_; }
  bool connected() const { return client_ != nullptr; }

 private:
  const HostPort peer_;
  const ClientOptions opts_;
  std::unique_ptr<Connection> conn_;
  std::unique_ptr<ClientT> client_;
};

// ---------------------------------------------------------------------------------------
// Server side

struct ServerOptions {
  std::string name;  // in log lines: "jn1", "nn1", "failoverd-nn1"
  std::string bind_host = "127.0.0.1";
  int port = 0;
  int32_t max_frame_bytes = kDefaultMaxFrameBytes;
  int32_t max_string_bytes = 16 << 20;
  int32_t max_container_elements = 1 << 20;
  // Connections open at once. A new connection beyond it closes an open one, with a
  // (rate-limited) log line: one that has not completed a call yet if there is one, else
  // the one idle longest, never one with a call in progress; only when every connection
  // has a call in progress is the new one refused. So a flood of idle or slow connections
  // shuts out neither a legitimate new client nor an established one.
  int max_connections = 1024;
  // A connection with no call in progress that has not completed a request for this long
  // is closed: an idle client, one trickling half a frame, a TLS handshake that never
  // completes, or a client that does not read its answer. (A small answer is written by
  // the worker that made it; one the client leaves unread while earlier answers fill its
  // socket closes the connection after at most 1 s, so as not to hold the worker.)
  int64_t idle_timeout_ms = 120000;
  // Worker threads that run calls (handlers may block: the namenode waits for the journal,
  // the journalnode fsyncs). The pool starts small and grows by one whenever a call
  // starts with no idle worker left, up to this bound; beyond it calls queue.
  int worker_threads = 256;
  // Threads that do socket I/O and TLS handshakes (never a handler).
  int io_threads = 1;
  TlsOptions tls;
  // Who may make which call; nullptr = every caller may make every call (TLS off).
  std::shared_ptr<const Policy> policy;
  // Times the idle timeout and rate-limits log lines; nullptr = RealClock::Get().
  const Clock* clock = nullptr;

  // Sets the name, connection limits, TLS and (with TLS on) the policy from the cluster
  // file, for the server of `identity`; address and frame/string limits stay as they are.
  Status ApplyCluster(const ClusterConfig& cluster, const std::string& identity,
                      std::shared_ptr<const Policy> policy);
  // The defaults with ApplyCluster.
  static Result<ServerOptions> FromCluster(const ClusterConfig& cluster,
                                           const std::string& identity,
                                           std::shared_ptr<const Policy> policy);
};

// Builds the processor of one connection around the shared handler (authz.h's Guard).
using ProcessorFactory = std::shared_ptr<apache::thrift::TProcessorFactory>;

namespace internal {
class Connections;
class Listener;
}  // namespace internal

// Counters of a running server (for logs, tests and benchmarks).
struct ServerStats {
  int64_t open_connections = 0;
  int64_t accepted_connections = 0;
  int64_t refused_connections = 0;      // closed at once: at the cap with every connection busy
  int64_t evicted_connections = 0;      // closed to make room for a new one (longest idle)
  int64_t idle_closed_connections = 0;  // closed by the idle timeout
  int64_t worker_threads = 0;
  // Answers written by the worker that made them (small ones, TLS off) and answers left
  // to the I/O thread (large ones, or the socket was full); with TLS neither is counted.
  int64_t direct_answers = 0;
  int64_t io_thread_answers = 0;
};

class Server {
 public:
  Server(ProcessorFactory processors, ServerOptions opts);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and serves on a background thread; returns once listening, or the error that
  // ended serving (NetworkError naming the address).
  Status Start() EXCLUDES(mu_);
  // Binds and serves on the calling thread until Stop().
  Status Serve() EXCLUDES(mu_);
  // Stops accepting, closes connections, waits for calls in progress. Idempotent, any
  // thread.
  void Stop() EXCLUDES(mu_);

  const ServerOptions& options() const { return opts_; }
  // Connections refused by the cap so far.
  int64_t refused_connections() const;
  ServerStats stats() const EXCLUDES(mu_);

 private:
  Status Build() REQUIRES(mu_);
  Status Run(const std::shared_ptr<apache::thrift::server::TNonblockingServer>& s);
  void Reap() EXCLUDES(mu_);
  const ProcessorFactory processors_;
  const ServerOptions opts_;
  const std::shared_ptr<internal::Connections> conns_;
  mutable Mutex mu_;
  std::shared_ptr<apache::thrift::server::TNonblockingServer> server_ GUARDED_BY(mu_);
  std::shared_ptr<apache::thrift::concurrency::ThreadManager> workers_ GUARDED_BY(mu_);
  bool stopped_ GUARDED_BY(mu_) = false;
  bool serving_ GUARDED_BY(mu_) = false;
  CondVar reap_cv_;
  std::thread thread_;
  std::thread reaper_;
};

}  // namespace qj::rpc
