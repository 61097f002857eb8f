// The journalnode's Thrift face: JournalProtocol calls mapped onto JournalNode /
// Journal / LeaseTable, and Status mapped to the typed exceptions of journal.thrift in
// one place (ThrowAsThrift in the .cc). Every message names the node and journal
// ("jn1 ns1: ...").
//
// JournalServer serves it with rpc::Server (non-blocking, a worker per call in progress,
// at most max_connections; one connection's calls are served one after another, so one
// writer connection per journal keeps its calls ordered; framed
// transport and binary protocol with finite frame, string and container sizes; idle
// connections closed; with TLS, every call authorized by rpc::JournalPolicy).
// Thread-safe: Stop() may be called from any thread (e.g. a signal thread).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "common/rpc/rpc.h"
#include "common/status.h"
#include "journalnode/journal_node.h"

namespace apache::thrift {
class TProcessor;
}

namespace qj::jn {

struct ServerOptions {
  std::string bind_host = "127.0.0.1";
  int port = 8485;
  int32_t max_frame_bytes = 16 << 20;
  int32_t max_container_elements = 1 << 20;
  int max_connections = 1024;
  int64_t idle_timeout_ms = 120000;
  int worker_threads = 256;  // rpc::ServerOptions
  int io_threads = 1;
  rpc::TlsOptions tls;
  // Authorization of every call (TLS on); nullptr = none.
  std::shared_ptr<const rpc::Policy> policy;
};

// What JournalServer serves: the generated JournalProtocol dispatch over the handler that
// maps each call onto `node`. Exposed so that requests can be fed to it without a socket
// (tests/fuzz); `node` must outlive it.
std::shared_ptr<apache::thrift::TProcessor> NewJournalProcessor(JournalNode* node);

class JournalServer {
 public:
  JournalServer(JournalNode* node, const ServerOptions& opts);
  ~JournalServer();
  // Binds and serves until Stop(). NetworkError if the port cannot be bound.
  Status Serve();
  void Stop();

 private:
  JournalNode* const node_;
  const ServerOptions opts_;
  rpc::Server server_;
};

}  // namespace qj::jn
