// The journalnode's Thrift face: JournalProtocol calls mapped onto JournalNode /
// Journal / LeaseTable. A failed call's Status becomes one of the typed exceptions its
// method declares through journal.thrift's error table (common/rpc/idl_errors.h), which
// the clients read back with. Every message names the node and journal ("jn1 ns1: ...").
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

// The journalnode's defaults for rpc::Server: port 8485, and frames (and strings) of up to
// 16 MiB, room for a 1 MiB batch of edits and more.
rpc::ServerOptions JournalServerOptions();

// What JournalServer serves: the generated JournalProtocol dispatch over the handler that
// maps each call onto `node`. Exposed so that requests can be fed to it without a socket
// (tests/fuzz); `node` must outlive it.
std::shared_ptr<apache::thrift::TProcessor> NewJournalProcessor(JournalNode* node);

class JournalServer {
 public:
  // opts.name names the server in log lines (the node's name, as a rule).
  JournalServer(JournalNode* node, rpc::ServerOptions opts);
  ~JournalServer();
  // Binds and serves until Stop(). NetworkError if the port cannot be bound.
  Status Serve();
  void Stop();

 private:
  rpc::Server server_;
};

}  // namespace qj::jn
