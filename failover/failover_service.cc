#include "failover/failover_service.h"

#include <glog/logging.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/server/TThreadedServer.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TServerSocket.h>

#include "FailoverController.h"
#include "common/server_socket.h"
#include "common/thrift_transport.h"
#include "failover_types.h"

namespace qj::fo {

namespace th = qjournal::thrift;
using apache::thrift::protocol::TBinaryProtocolFactory;
using apache::thrift::server::TThreadedServer;

namespace {

// FailoverController's requests carry at most an i32; these leave room for any future
// string argument and still bound what one request can make the server allocate.
constexpr int32_t kMaxStringBytes = 64 << 10;
constexpr int32_t kMaxContainerElements = 1024;

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
    Refuse(th::FailoverErrorCode::FAILED, s.ToString());
  }
  Controller* const c_;
};

}  // namespace

FailoverServer::FailoverServer(Controller* controller, std::string host, int port)
    : controller_(controller), host_(std::move(host)), port_(port) {}

FailoverServer::~FailoverServer() = default;

Status FailoverServer::Serve() {
  auto socket = NewServerSocket(host_, port_);
  server_ = std::make_shared<TThreadedServer>(
      std::make_shared<th::FailoverControllerProcessor>(std::make_shared<Handler>(controller_)),
      socket, NewFramedTransportFactory(kDefaultMaxFrameBytes),
      // Bounds on declared lengths: without them a request that declares a 2 GiB string
      // or list makes the protocol allocate (and touch) it before the frame runs out, and
      // the daemon's RSS grew by ~0.5 GiB per such request (hostile_input_test).
      std::make_shared<TBinaryProtocolFactory>(kMaxStringBytes, kMaxContainerElements,
                                               /*strict_read=*/true, /*strict_write=*/true));
  try {
    server_->serve();
  } catch (const apache::thrift::TException& e) {
    return Status::NetworkError("failoverd: serving on port " + std::to_string(port_) + ": " +
                                e.what());
  }
  return Status::OK();
}

void FailoverServer::Shutdown() {
  if (server_) server_->stop();
}

}  // namespace qj::fo
