// Thrift client plumbing shared by failoverd and haadmin: a lazily (re)connected client
// over rpc::Connect (common/rpc/rpc.h: timeouts, framing, TLS), plus the "is the process certainly gone" probe of DESIGN §6.
//
// Thread-compatible: a ThriftConn is used by one thread at a time.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "common/cluster_config.h"
#include "common/status.h"
#include "common/rpc/rpc.h"

namespace qj::fo {

// Routes thrift's own stderr chatter (failed connects) to VLOG(1). Idempotent.
inline void QuietThriftLogging() { rpc::QuietThriftLogging(); }

// A lazily opened connection to one peer. After any transport error call Reset(); the
// next Get() reconnects.
template <typename Client>
class ThriftConn {
 public:
  ThriftConn(HostPort peer, int64_t timeout_ms) : peer_(std::move(peer)), timeout_ms_(timeout_ms) {}
  ~ThriftConn() { Reset(); }
  ThriftConn(const ThriftConn&) = delete;
  ThriftConn& operator=(const ThriftConn&) = delete;

  // The client, connecting first if needed (rpc::Connect, with this process's TLS).
  // NetworkError names the peer; `refused` is set when the connect was actively refused
  // (nothing listens on the port).
  Result<Client*> Get(bool* refused = nullptr) {
    if (refused) *refused = false;
    if (client_) return client_.get();
    rpc::ClientOptions o;
    o.connect_timeout_ms = o.send_timeout_ms = o.recv_timeout_ms = timeout_ms_;
    auto c = rpc::Connect(peer_, o);
    if (!c.ok()) {
      if (refused) *refused = c.status().code() == StatusCode::kConnectionRefused;
      return Status::NetworkError(c.status().message());
    }
    conn_ = std::move(*c);
    client_ = std::make_unique<Client>(conn_->in(), conn_->out());
    return client_.get();
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
  const int64_t timeout_ms_;
  std::unique_ptr<rpc::Connection> conn_;
  std::unique_ptr<Client> client_;
};

// True only when process `pid` certainly does not exist on this host: kill(pid, 0) fails
// with ESRCH, or the process is a zombie (exited, not yet reaped by its parent; state 'Z'
// in /proc/<pid>/stat). False for pid <= 0 (unknown) and for any other answer.
bool ProcessIsGone(pid_t pid);

// Whether `host` names this machine (loopback, "localhost", or this host's name): only
// then does a pid reported by the namenode mean anything to ProcessIsGone().
bool IsLocalHost(const std::string& host);

}  // namespace qj::fo
