// The transport under a JournalChannel: how one RPC's request is written and its response
// read on one connection to one journalnode (DESIGN §7: protocol logic depends on a small
// transport interface so tests and a simulator can inject faults).
//
// A ChannelCall knows how to write its request and read its response with a Thrift client;
// a JournalTransport owns the connection and runs calls on it. The channel writes requests
// one at a time (from its sender thread, or from a submitting thread: SendsInline) and
// reads responses from its receiver thread, in order, so a transport must allow one Send()
// and one Recv() to run concurrently; Connect() and Close() come from the sender thread
// (or Stop()) while no Send() runs, Shutdown() from any thread.
//
// Failures: Send/Recv return NetworkError (or TimedOut) when the connection is unusable;
// the channel then drops the connection and fails every call in flight. A typed error
// from the journalnode (stale epoch, out of sync, ...) is the call's result, not a
// transport failure.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>

#include "common/cluster_config.h"
#include "common/rpc/rpc.h"
#include "common/status.h"

namespace qjournal::thrift {
class JournalProtocolClient;
}

namespace qj::jn {

class ChannelCall {
 public:
  virtual ~ChannelCall() = default;
  virtual const char* name() const = 0;
  // Approximate request size, for the channel's byte bound.
  virtual size_t bytes() const = 0;
  // Writes the request and flushes. Throws Thrift transport exceptions on failure.
  virtual void Send(qjournal::thrift::JournalProtocolClient* client) = 0;
  // Reads the response; a typed journalnode error becomes the call's result. Throws Thrift
  // transport/protocol exceptions when the connection is broken.
  virtual void Recv(qjournal::thrift::JournalProtocolClient* client) = 0;
  // Sets the result to a failure (overrides a response already read).
  virtual void Fail(const Status& s) = 0;
  // Delivers the result to whoever issued the call. Called exactly once, with no channel
  // lock held.
  virtual void Finish() = 0;

  // How long Recv may wait for this call's answer; 0 = the transport's receive timeout.
  // acceptRecovery waits longer than other calls: the journalnode may be copying a
  // large segment before it answers.
  virtual int64_t recv_timeout_ms() const { return 0; }

  // The request's serial number, stamped by the channel just before Send().
  void set_serial(int64_t serial) { serial_ = serial; }

 protected:
  int64_t serial_ = 0;
};

class JournalTransport {
 public:
  virtual ~JournalTransport() = default;
  virtual Status Connect() = 0;
  // Unblocks a concurrent Send/Recv (shuts the socket down). Safe from any thread.
  virtual void Shutdown() = 0;
  virtual void Close() = 0;
  virtual Status Send(ChannelCall* call) = 0;
  virtual Status Recv(ChannelCall* call) = 0;
  // Whether the channel may call Send() on the thread that submits the call (see
  // journal_channel.h). A transport whose Send() sleeps on purpose (injected delays) says
  // no, so that its delay stays on the channel's sender thread, as a network's would.
  virtual bool SendsInline() const { return true; }
};

struct TransportOptions {
  int64_t connect_timeout_ms = 2000;
  int64_t send_timeout_ms = 2000;
  int64_t recv_timeout_ms = 2000;
  // Largest response frame accepted (bounded per frame, common/thrift_transport.h).
  int32_t max_frame_bytes = 64 << 20;
  rpc::TlsOptions tls;  // off by default
};

// Thrift over one rpc::Connect connection (TCP_NODELAY, timeouts, optional TLS).
std::unique_ptr<JournalTransport> NewThriftTransport(const HostPort& hp,
                                                     const TransportOptions& opts);

// Fault injection for tests: every decision comes from one seeded RNG.
struct FaultOptions {
  uint64_t seed = 1;
  // Probability that a request is dropped before it is sent (the connection then breaks).
  double drop_request = 0;
  // Probability that a response is dropped after the journalnode processed the call.
  double drop_response = 0;
  // Probability of delaying a request by up to max_delay_ms before sending it.
  double delay = 0;
  int64_t max_delay_ms = 20;
  // Scripted faults: a request for which this returns true (given the call's name,
  // e.g. "journal") is dropped before it is sent, like drop_request.
  std::function<bool(const char* call)> drop_request_if;
  // Faults are injected only while this is true (tests switch them off to check results).
  std::shared_ptr<std::atomic<bool>> enabled = std::make_shared<std::atomic<bool>>(true);
};

std::unique_ptr<JournalTransport> NewFaultyTransport(std::unique_ptr<JournalTransport> inner,
                                                     const FaultOptions& opts);

// Builds the transport for journalnode `index` (QuorumOptions::transport_factory).
using TransportFactory =
    std::function<std::unique_ptr<JournalTransport>(int index, const HostPort& hp)>;

}  // namespace qj::jn
