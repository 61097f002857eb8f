// Serves thrift/failover.thrift (FailoverController) for one Controller: the one place
// where controller Status turns into FailoverException.
//
// Thread-safe (the controller is). Serve() blocks until Shutdown() is called from
// another thread (e.g. a signal watcher).
#pragma once

#include <memory>
#include <string>

#include "common/rpc/rpc.h"
#include "failover/controller.h"

namespace qj::fo {

class FailoverServer {
 public:
  // Listens on opts.bind_host:opts.port (the namenode's host: failoverd runs beside it),
  // with opts' limits, TLS and policy (rpc::FailoverPolicy).
  FailoverServer(Controller* controller, rpc::ServerOptions opts);
  ~FailoverServer();
  // Binds and serves; returns after Shutdown(). Fails if the port cannot be bound.
  Status Serve();
  void Shutdown();

 private:
  rpc::Server server_;
};

}  // namespace qj::fo
