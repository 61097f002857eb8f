#include "common/server_socket.h"

#include <glog/logging.h>
#include <thrift/transport/TTransportException.h>

#include <chrono>
#include <thread>

namespace qj {
namespace {

namespace tt = apache::thrift::transport;

class RetryingServerSocket : public tt::TServerSocket {
 public:
  RetryingServerSocket(const std::string& host, int port)
      : tt::TServerSocket(host, port), where_(host + ":" + std::to_string(port)) {}

 protected:
  std::shared_ptr<tt::TTransport> acceptImpl() override {
    for (;;) {
      try {
        return tt::TServerSocket::acceptImpl();
      } catch (const tt::TTransportException& e) {
        // INTERRUPTED (stop), TIMED_OUT and NOT_OPEN keep their meaning for the server
        // loop; UNKNOWN is what a failed accept()/poll() throws.
        if (e.getType() != tt::TTransportException::UNKNOWN) throw;
        const auto now = std::chrono::steady_clock::now();
        if (now - last_warning_ > std::chrono::seconds(10)) {
          last_warning_ = now;
          LOG(WARNING) << where_ << ": accept failed (" << e.what() << "); retrying every 100 ms";
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  }

 private:
  const std::string where_;
  std::chrono::steady_clock::time_point last_warning_{};
};

}  // namespace

std::shared_ptr<tt::TServerSocket> NewServerSocket(const std::string& host, int port) {
  return std::make_shared<RetryingServerSocket>(host, port);
}

}  // namespace qj
