// Thrift client plumbing shared by failoverd and haadmin: one framed, binary-protocol
// connection (the transport every qjournal daemon serves) with connect and call timeouts,
// plus the "is the process certainly gone" probe of DESIGN §6.
//
// Thread-compatible: a ThriftConn is used by one thread at a time.
#pragma once

#include <sys/types.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>
#include <thrift/transport/TTransportException.h>

#include <cstdint>
#include <memory>
#include <string>

#include "common/cluster_config.h"
#include "common/status.h"
#include "common/thrift_transport.h"

namespace qj::fo {

// Routes thrift's own stderr chatter (failed connects) to VLOG(1). Idempotent.
void QuietThriftLogging();

// A lazily opened connection to one peer. After any transport error call Reset(); the
// next Get() reconnects.
template <typename Client>
class ThriftConn {
 public:
  ThriftConn(HostPort peer, int64_t timeout_ms) : peer_(std::move(peer)), timeout_ms_(timeout_ms) {}
  ~ThriftConn() { Reset(); }
  ThriftConn(const ThriftConn&) = delete;
  ThriftConn& operator=(const ThriftConn&) = delete;

  // The client, connecting first if needed. NetworkError names the peer; `refused` is set
  // when the connect was actively refused (nothing listens on the port).
  Result<Client*> Get(bool* refused = nullptr) {
    if (refused) *refused = false;
    if (client_) return client_.get();
    auto socket = std::make_shared<apache::thrift::transport::TSocket>(peer_.host, peer_.port);
    socket->setConnTimeout(static_cast<int>(timeout_ms_));
    socket->setRecvTimeout(static_cast<int>(timeout_ms_));
    socket->setSendTimeout(static_cast<int>(timeout_ms_));
    socket->setNoDelay(true);
    auto transport = NewFramedTransport(socket, kDefaultMaxFrameBytes);
    try {
      transport->open();
    } catch (const apache::thrift::TException& e) {
      const std::string what = e.what();
      if (refused) *refused = what.find("refused") != std::string::npos;
      return Status::NetworkError(peer_.ToString() + ": " + what);
    }
    transport_ = transport;
    client_ = std::make_unique<Client>(
        std::make_shared<apache::thrift::protocol::TBinaryProtocol>(transport_));
    return client_.get();
  }

  void Reset() {
    client_.reset();
    if (transport_) {
      try {
        transport_->close();
      } catch (const apache::thrift::TException&) {
        // Closing a broken connection: nothing left to do.
      }
      transport_.reset();
    }
  }
  const HostPort& peer() const { return peer_; }
  bool connected() const { return client_ != nullptr; }

 private:
  const HostPort peer_;
  const int64_t timeout_ms_;
  std::shared_ptr<apache::thrift::transport::TTransport> transport_;
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
