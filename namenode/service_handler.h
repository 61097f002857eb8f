// The namenode's RPC face: ClientProtocol (which extends HAServiceProtocol) over Thrift
// on one port, served by rpc::Server (non-blocking, a worker per call in progress, up to
// max_connections, idle connections closed, framed transport, binary protocol with string/container size
// limits, TCP_NODELAY; with TLS every call authorized by rpc::NamenodePolicy and the
// filesystem user taken from the client certificate).
//
// Errors cross the wall here, in one place (ToFsException): FsStatus codes map 1:1 onto
// FsErrorCode; server failures map to NOT_ACTIVE (with the believed active's id) when
// the call did not run, and IO_ERROR otherwise.
//
// Thread-safety: the handler is shared by all connection threads; it holds no state of
// its own beyond the NamenodeServer (thread-safe).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "common/rpc/rpc.h"
#include "common/status.h"
#include "namenode/namenode_server.h"

namespace apache::thrift {
class TProcessor;
}

namespace qj {

struct RpcServerOptions {
  std::string bind_host = "127.0.0.1";
  int port = 0;
  // Upper bounds on one request's strings and containers (bytes / elements).
  int32_t max_string_bytes = 16 << 20;
  int32_t max_container_elements = 1 << 20;
  int32_t max_frame_bytes = 64 << 20;
  int max_connections = 1024;
  int64_t idle_timeout_ms = 120000;
  int worker_threads = 256;  // rpc::ServerOptions
  int io_threads = 1;
  rpc::TlsOptions tls;
  std::shared_ptr<const rpc::Policy> policy;  // nullptr = every call allowed
};

// What NamenodeRpcServer serves: the generated ClientProtocol dispatch over the handler
// that maps each call onto `server`. Exposed so that requests can be fed to it without a
// socket (tests/fuzz); `server` must outlive it.
std::shared_ptr<apache::thrift::TProcessor> NewNamenodeProcessor(NamenodeServer* server);

// Serves a NamenodeServer until Stop().
class NamenodeRpcServer {
 public:
  NamenodeRpcServer(NamenodeServer* server, RpcServerOptions opts);
  ~NamenodeRpcServer();

  // Binds and starts serving on a background thread. IOError if the port is taken.
  Status Start();
  // Stops accepting, closes connections, joins the thread. Idempotent.
  void Stop();

 private:
  NamenodeServer* const server_;
  const RpcServerOptions opts_;
  rpc::Server rpc_;
};

}  // namespace qj
