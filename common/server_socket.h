// The listening socket every Thrift server uses: Thrift's TServerSocket, except that a
// failed accept() does not stop the server.
//
// Why: Thrift 0.17's server loop (TServerFramework::serve) ends for good on any accept
// failure other than a timeout or an interrupt, and closes the listening socket. accept()
// fails with EMFILE as soon as a process runs out of descriptors, so a flood of ~1000
// connections against a daemon with the common soft limit of 1024 left it running but
// deaf: no port, no error, until restarted (tests/security/hostile_input_test.cc). Here
// such a failure is logged (at most once per 10 s) and accept is retried after 100 ms,
// by which time connections may have closed; pending ones wait in the listen backlog.
// stop() still interrupts the wait at once (the interrupt is not an accept failure).
//
// Thread-safety: as TServerSocket (one thread accepts).
#pragma once

#include <thrift/transport/TServerSocket.h>

#include <memory>
#include <string>

namespace qj {

std::shared_ptr<apache::thrift::transport::TServerSocket> NewServerSocket(const std::string& host,
                                                                          int port);

}  // namespace qj
