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

#include "failover/controller.h"

namespace apache::thrift::server {
class TServer;
}

namespace qj::fo {

// The longest a controller may be asked to stay out of the contest (10 min): long enough
// for any maintenance handover, short enough that a stray call cannot leave a namenode
// out of failover for days.
inline constexpr int64_t kMaxCedeMillis = 10 * 60 * 1000;

class FailoverServer {
 public:
  // Listens on host:port (the namenode's host: failoverd runs beside it).
  FailoverServer(Controller* controller, std::string host, int port);
  ~FailoverServer();
  // Binds and serves; returns after Shutdown(). Fails if the port cannot be bound.
  Status Serve();
  void Shutdown();

 private:
  Controller* const controller_;
  const std::string host_;
  const int port_;
  std::shared_ptr<apache::thrift::server::TServer> server_;
};

}  // namespace qj::fo
