// Serves thrift/failover.thrift (FailoverController) for one Controller: the one place
// where controller Status turns into FailoverException.
//
// Arguments are checked before the controller sees them: cedeActive takes
// 1..kMaxCedeMillis ms, and cedeActive/gracefulFailover need automatic failover on
// (FailoverException with code INVALID_ARGUMENT / AUTOMATIC_FAILOVER_OFF; nothing done).
//
// Thread-safe (the controller is). Serve() blocks until Shutdown() is called from
// another thread (e.g. a signal watcher).
#pragma once

#include <memory>
#include <string>

#include "common/rpc/rpc.h"
#include "failover/controller.h"

namespace qj::fo {

// The longest a controller may be asked to stay out of the contest (10 min): long enough
// for any maintenance handover, short enough that a stray call cannot leave a namenode
// out of failover for days.
inline constexpr int64_t kMaxCedeMillis = 10 * 60 * 1000;

// What FailoverServer serves, without the server's authorization in front: the generated
// FailoverController dispatch over the handler above. Exposed so that requests can be fed
// to it without a socket (tests/fuzz); `controller` must outlive it.
std::shared_ptr<apache::thrift::TProcessor> NewFailoverProcessor(Controller* controller);

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
