#include "tests/fuzz/thrift_driver.h"

#include <thrift/TProcessor.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TVirtualTransport.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "common/thrift_transport.h"

namespace qj::fuzz {

namespace at = apache::thrift;

namespace {

// The input bytes as a connection's socket delivers them: read() returns what is left, up
// to `len`, and 0 at the end (the peer closed). A TMemoryBuffer would not do here: it is
// a TBufferBase, whose readAll() memcpy()s even for len 0, and TFramedTransport::readFrame
// reads a zero-length frame into its still-null buffer -- harmless over TSocket/TSSLSocket
// (the servers' inner transports), undefined behaviour over a TMemoryBuffer.
class StreamTransport final : public at::transport::TVirtualTransport<StreamTransport> {
 public:
  explicit StreamTransport(std::string_view data) : data_(data) {}
  bool isOpen() const override { return true; }
  bool peek() override { return !data_.empty(); }
  uint32_t read(uint8_t* buf, uint32_t len) {
    const size_t n = std::min<size_t>(len, data_.size());
    if (n > 0) std::memcpy(buf, data_.data(), n);
    data_.remove_prefix(n);
    return static_cast<uint32_t>(n);
  }

 private:
  std::string_view data_;
};

}  // namespace

int ProcessFramed(at::TProcessor* processor, std::string_view data, const ProtocolLimits& limits) {
  auto input = std::make_shared<StreamTransport>(data);
  auto output = std::make_shared<at::transport::TMemoryBuffer>();
  auto framed_in = NewFramedTransport(input, limits.max_frame_bytes);
  auto framed_out = NewFramedTransport(output, limits.max_frame_bytes);
  at::protocol::TBinaryProtocolFactory factory(
      limits.max_string_bytes, limits.max_container_elements, limits.strict_read, true);
  auto in = factory.getProtocol(framed_in);
  auto out = factory.getProtocol(framed_out);
  int calls = 0;
  try {
    // As TConnectedClient::run: process until the processor or the peer ends it.
    while (calls < 64) {
      if (!processor->process(in, out, nullptr)) break;
      ++calls;
      output->resetBuffer();
      if (!framed_in->peek()) break;
    }
  } catch (const at::TException&) {
    // A malformed frame or message: the server closes the connection.
  }
  return calls;
}

void AppendFrame(std::string* out, std::string_view message) {
  const uint32_t n = static_cast<uint32_t>(message.size());
  const char len[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                       static_cast<char>(n >> 8), static_cast<char>(n)};
  out->append(len, 4);
  out->append(message);
}

}  // namespace qj::fuzz
