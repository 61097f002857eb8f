// A plain TCP connection to a server in the test's own process tree, for tests and
// benchmarks that speak below Thrift: connection floods, hostile bytes, idle clients,
// hand-written HTTP.
#pragma once

namespace qj::testing {

// Connects to 127.0.0.1:port with a blocking connect (the kernel completes it even when
// the server has not accepted it yet). io_timeout_ms > 0 bounds each send and receive
// (SO_SNDTIMEO / SO_RCVTIMEO). The descriptor (close-on-exec), or -1 if the socket or
// the connect failed.
int RawConnect(int port, int io_timeout_ms = 0);

}  // namespace qj::testing
