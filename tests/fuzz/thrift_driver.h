// Feeds fuzz bytes to a real Thrift processor the way a server connection would: the
// bytes are the connection's input stream (a TMemoryBuffer), read through the same framed
// transport the servers use (common/thrift_transport.h) and a binary protocol with the
// server's limits, one process() call per frame until the input or the connection ends.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

namespace apache::thrift {
class TProcessor;
}

namespace qj::fuzz {

struct ProtocolLimits {
  int32_t max_frame_bytes = 16 << 20;
  int32_t max_string_bytes = 16 << 20;
  int32_t max_container_elements = 1 << 20;
  bool strict_read = false;
};

// Returns the number of calls processed. A TException (a malformed frame or message, as
// the server's connection loop would catch and close on) ends the input; any other
// exception escapes, so that libFuzzer reports it.
int ProcessFramed(apache::thrift::TProcessor* processor, std::string_view data,
                  const ProtocolLimits& limits);

// Appends `message` (one serialized Thrift message) to *out as one frame.
void AppendFrame(std::string* out, std::string_view message);

}  // namespace qj::fuzz
