// FaultProxy: a TCP forwarder on 127.0.0.1 that a test puts between a client and one
// server, so that it can cut that one link on command without touching either process or
// needing privileges (tests/failover puts one between a namenode and each journalnode).
//
//   qj::testing::FaultProxy p(jn_port);
//   ASSERT_TRUE(p.Start().ok());          // listens on p.port(); give that to the client
//   p.SetMode(FaultProxy::kBlackhole);     // the link goes silent
//   p.SetMode(FaultProxy::kPass);          // healed
//
// Modes (they apply at once to every connection, old and new):
//   kPass          bytes flow both ways;
//   kBlackhole     connections stay open and new ones are accepted, but every byte is
//                  discarded in both directions: a partition as TCP peers see it, calls
//                  time out rather than fail fast;
//   kDropToServer  client-to-server bytes are discarded, the other direction flows
//                  (requests are lost);
//   kDropToClient  server-to-client bytes are discarded (requests are served, answers lost);
//   kReset         every connection is closed and new ones are closed at once.
// A connection that lost bytes has a broken stream (a request cut mid-frame), so leaving
// a discarding mode for kPass closes every connection: the client reconnects on a clean
// stream, as after a real partition heals and its timed-out connections are dropped.
//
// Thread-safe. One thread ("fault-proxy") owned by the object; the destructor stops it and
// closes every socket.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

#include "common/status.h"

namespace qj::testing {

class FaultProxy {
 public:
  enum Mode { kPass, kBlackhole, kDropToServer, kDropToClient, kReset };

  explicit FaultProxy(int target_port);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  // Binds an ephemeral port on 127.0.0.1 and starts forwarding.
  Status Start();
  int port() const { return port_; }
  void SetMode(Mode m);
  Mode mode() const { return mode_.load(); }
  // Bytes discarded so far (both directions), for tests that check a cut really cut.
  int64_t dropped_bytes() const { return dropped_.load(); }

 private:
  void Run();

  const int target_port_;
  int port_ = 0;
  int listen_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: SetMode and the destructor wake the loop
  std::atomic<Mode> mode_{kPass};
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> dropped_{0};
  std::thread thread_;
};

const char* FaultProxyModeName(FaultProxy::Mode m);

}  // namespace qj::testing
