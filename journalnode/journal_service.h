// The journalnode's Thrift face: JournalProtocol calls mapped onto JournalNode /
// Journal / LeaseTable, and Status mapped to the typed exceptions of journal.thrift in
// one place (ThrowAsThrift in the .cc). Every message names the node and journal
// ("jn1 ns1: ...").
//
// JournalServer runs a TThreadedServer (a thread per connection: one writer connection
// per journal keeps its calls ordered) with framed transport and binary protocol, with
// finite frame, string and container sizes.
// Thread-safe: Stop() may be called from any thread (e.g. a signal thread).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "common/status.h"
#include "journalnode/journal_node.h"

namespace apache::thrift {
class TProcessor;
}
namespace apache::thrift::server {
class TServer;
}

namespace qj::jn {

struct ServerOptions {
  std::string bind_host = "127.0.0.1";
  int port = 8485;
  int32_t max_frame_bytes = 16 << 20;
  int32_t max_container_elements = 1 << 20;
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
  std::mutex mu_;
  std::shared_ptr<apache::thrift::server::TServer> server_;  // guarded by mu_
  bool stopped_ = false;                                     // guarded by mu_
};

}  // namespace qj::jn
