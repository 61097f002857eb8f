#include "failover/failover_service.h"

#include <glog/logging.h>

#include "FailoverController.h"
#include "common/rpc/authz.h"
#include "common/rpc/idl_errors.h"
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

  void cedeActive(const int32_t millis) override {
    RequireAutomatic("cedeActive");
    if (millis <= 0 || millis > kMaxCedeMillis) {
      Refuse(th::FailoverErrorCode::INVALID_ARGUMENT,
             c_->GetStatus().namenode_id + " failoverd: cedeActive(" + std::to_string(millis) +
                 " ms) refused: must be 1.." + std::to_string(kMaxCedeMillis) + " ms");
    }
    Throw(c_->CedeActive(millis));
  }

  void gracefulFailover() override {
    RequireAutomatic("gracefulFailover");
    Throw(c_->GracefulFailover());
  }

 private:
  void RequireAutomatic(const char* what) {
    ControllerStatus s = c_->GetStatus();
    if (s.automatic) return;
    Refuse(th::FailoverErrorCode::AUTOMATIC_FAILOVER_OFF,
           s.namenode_id + " failoverd: " + what +
               " refused: automatic failover is off (use haadmin -transitionToActive / "
               "-transitionToStandby)");
  }
  [[noreturn]] static void Refuse(th::FailoverErrorCode::type code, const std::string& why) {
    th::FailoverException e;
    e.message = why;
    e.__set_code(code);
    throw e;
  }
  static void Throw(const Status& s) {
    if (s.ok()) return;
    rpc::ThrowAs<th::FailoverException>(s, rpc::FailoverErrors(), s.ToString());
  }
  Controller* const c_;
};

}  // namespace

std::shared_ptr<apache::thrift::TProcessor> NewFailoverProcessor(Controller* controller) {
  return std::make_shared<th::FailoverControllerProcessor>(std::make_shared<Handler>(controller));
}

FailoverServer::FailoverServer(Controller* controller, rpc::ServerOptions opts)
    : server_(rpc::GuardedFactory<th::FailoverControllerProcessor, th::FailoverControllerIf>(
                  std::make_shared<Handler>(controller), opts.policy, opts.name),
              opts) {}

FailoverServer::~FailoverServer() = default;

Status FailoverServer::Serve() { return server_.Serve(); }

void FailoverServer::Shutdown() { server_.Stop(); }

}  // namespace qj::fo
