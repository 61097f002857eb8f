#include "failover/failover_service.h"

#include <glog/logging.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/server/TThreadedServer.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TServerSocket.h>

#include "FailoverController.h"
#include "common/thrift_transport.h"
#include "failover_types.h"

namespace qj::fo {

namespace th = qjournal::thrift;
using apache::thrift::protocol::TBinaryProtocolFactory;
using apache::thrift::server::TThreadedServer;
using apache::thrift::transport::TServerSocket;

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

FailoverServer::FailoverServer(Controller* controller, std::string host, int port)
    : controller_(controller), host_(std::move(host)), port_(port) {}

FailoverServer::~FailoverServer() = default;

Status FailoverServer::Serve() {
  auto socket = std::make_shared<TServerSocket>(host_, port_);
  server_ = std::make_shared<TThreadedServer>(
      std::make_shared<th::FailoverControllerProcessor>(std::make_shared<Handler>(controller_)),
      socket, NewFramedTransportFactory(kDefaultMaxFrameBytes),
      std::make_shared<TBinaryProtocolFactory>());
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
