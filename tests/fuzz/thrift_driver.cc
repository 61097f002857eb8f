#include "tests/fuzz/thrift_driver.h"

#include <string>

#include <thrift/TProcessor.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>

#include "common/thrift_transport.h"

namespace qj::fuzz {

namespace at = apache::thrift;

int ProcessFramed(at::TProcessor* processor, std::string_view data, const ProtocolLimits& limits) {
  auto input = std::make_shared<at::transport::TMemoryBuffer>(
      reinterpret_cast<uint8_t*>(const_cast<char*>(data.data())), static_cast<uint32_t>(data.size()),
      at::transport::TMemoryBuffer::OBSERVE);
  auto output = std::make_shared<at::transport::TMemoryBuffer>();
  auto framed_in = NewFramedTransport(input, limits.max_frame_bytes);
  auto framed_out = NewFramedTransport(output, limits.max_frame_bytes);
  at::protocol::TBinaryProtocolFactory factory(limits.max_string_bytes,
                                               limits.max_container_elements,
                                               limits.strict_read, true);
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
