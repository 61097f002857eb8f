#include "common/thrift_transport.h"

#include <utility>

namespace qj {
namespace {

namespace tr = apache::thrift::transport;

// TFramedTransport whose consumed-bytes count starts over with every frame.
class PerFrameBoundedTransport final : public tr::TFramedTransport {
 public:
  PerFrameBoundedTransport(std::shared_ptr<tr::TTransport> inner,
                           std::shared_ptr<apache::thrift::TConfiguration> config)
      : tr::TFramedTransport(std::move(inner), std::move(config)) {}

 protected:
  bool readFrame() override {
    if (!tr::TFramedTransport::readFrame()) return false;
    // The frame passed the max-frame check; count only this frame's bytes from here on.
    resetConsumedMessageSize();
    return true;
  }
};

class Factory final : public tr::TTransportFactory {
 public:
  explicit Factory(int32_t max_frame_bytes) : max_frame_bytes_(max_frame_bytes) {}
  std::shared_ptr<tr::TTransport> getTransport(std::shared_ptr<tr::TTransport> trans) override {
    return NewFramedTransport(std::move(trans), max_frame_bytes_);
  }

 private:
  const int32_t max_frame_bytes_;
};

}  // namespace

std::shared_ptr<tr::TFramedTransport> NewFramedTransport(std::shared_ptr<tr::TTransport> inner,
                                                         int32_t max_frame_bytes) {
  // Max message size >= max frame: a message never spans frames here, and the count is
  // reset per frame, so it never binds before the frame limit does.
  auto config =
      std::make_shared<apache::thrift::TConfiguration>(max_frame_bytes + 4096, max_frame_bytes);
  return std::make_shared<PerFrameBoundedTransport>(std::move(inner), std::move(config));
}

std::shared_ptr<tr::TTransportFactory> NewFramedTransportFactory(int32_t max_frame_bytes) {
  return std::make_shared<Factory>(max_frame_bytes);
}

}  // namespace qj
