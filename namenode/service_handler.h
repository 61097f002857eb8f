// The namenode's RPC face: ClientProtocol (which extends HAServiceProtocol) over Thrift
// on one port, served by rpc::Server (non-blocking, a worker per call in progress, up to
// max_connections, idle connections closed, framed transport, binary protocol with string/container
// size limits, TCP_NODELAY; with TLS every call authorized by rpc::NamenodePolicy and the
// filesystem user taken from the client certificate).
//
// Errors cross the wall here (ToFsException in the .cc): FsStatus codes map 1:1 onto
// FsErrorCode; server failures go through namenode.thrift's error table
// (common/rpc/idl_errors.h: NOT_ACTIVE, with the believed active's id, when the call did
// not run; INVALID_ARGUMENT; IO_ERROR otherwise), which clients read back with.
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

namespace qj::nn {

// The namenode's defaults for rpc::Server: frames of up to 64 MiB (a listing page, an
// image chunk).
rpc::ServerOptions NamenodeRpcServerOptions();

// What NamenodeRpcServer serves: the generated ClientProtocol dispatch over the handler
// that maps each call onto `server`. Exposed so that requests can be fed to it without a
// socket (tests/fuzz); `server` must outlive it.
std::shared_ptr<apache::thrift::TProcessor> NewNamenodeProcessor(NamenodeServer* server);

// Serves a NamenodeServer until Stop().
class NamenodeRpcServer {
 public:
  // opts.name names the server in log lines (the namenode's id, as a rule).
  NamenodeRpcServer(NamenodeServer* server, rpc::ServerOptions opts);
  ~NamenodeRpcServer();

  // Binds and starts serving on a background thread. IOError if the port is taken.
  Status Start();
  // Stops accepting, closes connections, joins the thread. Idempotent.
  void Stop();

 private:
  rpc::Server rpc_;
};

}  // namespace qj::nn
