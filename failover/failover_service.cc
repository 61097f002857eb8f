#include "failover/failover_service.h"

#include <glog/logging.h>

#include "FailoverController.h"
#include "common/rpc/authz.h"
#include "failover_types.h"

namespace qj::fo {

namespace th = qjournal::thrift;

namespace {

class Handler : public th::FailoverControllerIf {
 public:
  explicit Handler(Controller* c) : c_(c) {}

  void getStatus(th::FailoverStatus& out) override {
    ControllerStatus s = c_->GetStatus();
    out.namenodeId = s.namenode_id;
    out.health = s.health;
    out.holdsLease = s.holds_lease;
    out.leaseRemainingMs = s.lease_remaining_ms;
    out.cededRemainingMs = s.ceded_remaining_ms;
    out.automaticFailoverEnabled = s.automatic;
  }

  void cedeActive(const int32_t millis) override { Throw(c_->CedeActive(millis)); }

  void gracefulFailover() override { Throw(c_->GracefulFailover()); }

 private:
  static void Throw(const Status& s) {
    if (s.ok()) return;
    th::FailoverException e;
    e.message = s.ToString();
    throw e;
  }
  Controller* const c_;
};

}  // namespace

FailoverServer::FailoverServer(Controller* controller, rpc::ServerOptions opts)
    : server_(rpc::GuardedFactory<th::FailoverControllerProcessor, th::FailoverControllerIf>(
                  std::make_shared<Handler>(controller), opts.policy, opts.name),
              opts) {}

FailoverServer::~FailoverServer() = default;

Status FailoverServer::Serve() { return server_.Serve(); }

void FailoverServer::Shutdown() { server_.Stop(); }

}  // namespace qj::fo
