#include "journalnode/client/journal_transport.h"

#include <glog/logging.h>
#include <sys/socket.h>
#include <thrift/Thrift.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>

#include <chrono>
#include <thread>

#include "JournalProtocol.h"
#include "common/thrift_transport.h"

namespace qj::jn {

namespace {

using apache::thrift::TException;
using apache::thrift::protocol::TBinaryProtocol;
using apache::thrift::transport::TSocket;
using apache::thrift::transport::TTransportException;

Status FromTransportException(const HostPort& hp, const char* what, const TException& e) {
  auto* te = dynamic_cast<const TTransportException*>(&e);
  std::string msg = hp.ToString() + " " + what + ": " + e.what();
  if (te != nullptr && te->getType() == TTransportException::TIMED_OUT) {
    return Status::TimedOut(msg);
  }
  return Status::NetworkError(msg);
}

// One TCP connection. Requests and responses use separate framed transports and protocols
// over the same socket, so the sender and receiver threads share no buffers.
class ThriftTransport final : public JournalTransport {
 public:
  ThriftTransport(HostPort hp, TransportOptions opts) : hp_(std::move(hp)), opts_(opts) {}
  ~ThriftTransport() override { Close(); }

  Status Connect() override {
    Close();
    try {
      auto sock = std::make_shared<TSocket>(hp_.host, hp_.port);
      sock->setConnTimeout(static_cast<int>(opts_.connect_timeout_ms));
      sock->setSendTimeout(static_cast<int>(opts_.send_timeout_ms));
      sock->setRecvTimeout(static_cast<int>(opts_.recv_timeout_ms));
      sock->setNoDelay(true);
      sock->setLinger(false, 0);
      sock->open();
      // Bounded per frame (common/thrift_transport.h): a plain TFramedTransport drops the
      // connection after ~100 MiB of responses in total (e.g. a tailer's reads).
      auto rtrans = NewFramedTransport(sock, opts_.max_frame_bytes);
      auto wtrans = NewFramedTransport(sock, opts_.max_frame_bytes);
      auto iprot = std::make_shared<TBinaryProtocol>(rtrans);
      auto oprot = std::make_shared<TBinaryProtocol>(wtrans);
      client_ = std::make_unique<qjournal::thrift::JournalProtocolClient>(iprot, oprot);
      std::lock_guard<std::mutex> l(fd_mu_);
      socket_ = sock;
      return Status::OK();
    } catch (const TException& e) {
      return FromTransportException(hp_, "connect", e);
    }
  }

  void Shutdown() override {
    std::lock_guard<std::mutex> l(fd_mu_);
    if (socket_ && socket_->isOpen()) ::shutdown(socket_->getSocketFD(), SHUT_RDWR);
  }

  void Close() override {
    std::shared_ptr<TSocket> s;
    {
      std::lock_guard<std::mutex> l(fd_mu_);
      s = std::move(socket_);
    }
    client_.reset();
    if (s) {
      try {
        s->close();
      } catch (const TException&) {
      }
    }
  }

  Status Send(ChannelCall* call) override {
    if (!client_) return Status::NetworkError(hp_.ToString() + ": not connected");
    try {
      call->Send(client_.get());
      return Status::OK();
    } catch (const TException& e) {
      return FromTransportException(hp_, call->name(), e);
    }
  }

  Status Recv(ChannelCall* call) override {
    if (!client_) return Status::NetworkError(hp_.ToString() + ": not connected");
    // A call with its own timeout (acceptRecovery) waits longer; the next call gets the
    // usual one back. Only the receiver thread reads or changes the receive timeout.
    std::shared_ptr<TSocket> sock;
    if (call->recv_timeout_ms() > 0) {
      std::lock_guard<std::mutex> l(fd_mu_);
      sock = socket_;
    }
    try {
      if (sock) sock->setRecvTimeout(static_cast<int>(call->recv_timeout_ms()));
      call->Recv(client_.get());
      if (sock) sock->setRecvTimeout(static_cast<int>(opts_.recv_timeout_ms));
      return Status::OK();
    } catch (const TException& e) {
      return FromTransportException(hp_, call->name(), e);
    }
  }

 private:
  const HostPort hp_;
  const TransportOptions opts_;
  std::unique_ptr<qjournal::thrift::JournalProtocolClient> client_;
  std::mutex fd_mu_;  // guards socket_ against Shutdown() from another thread
  std::shared_ptr<TSocket> socket_;
};

class FaultyTransport final : public JournalTransport {
 public:
  FaultyTransport(std::unique_ptr<JournalTransport> inner, FaultOptions opts)
      : inner_(std::move(inner)), opts_(std::move(opts)), rng_(opts_.seed) {}

  Status Connect() override { return inner_->Connect(); }
  void Shutdown() override { inner_->Shutdown(); }
  void Close() override { inner_->Close(); }

  Status Send(ChannelCall* call) override {
    if (opts_.drop_request_if && opts_.drop_request_if(call->name())) {
      return Status::NetworkError(std::string("injected: request blocked: ") + call->name());
    }
    if (Roll(opts_.drop_request)) {
      return Status::NetworkError(std::string("injected: request dropped: ") + call->name());
    }
    if (Roll(opts_.delay)) {
      int64_t ms = Uniform(opts_.max_delay_ms);
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    }
    return inner_->Send(call);
  }

  Status Recv(ChannelCall* call) override {
    Status s = inner_->Recv(call);
    if (s.ok() && Roll(opts_.drop_response)) {
      return Status::NetworkError(std::string("injected: response dropped: ") + call->name());
    }
    return s;
  }

 private:
  bool Roll(double p) {
    if (p <= 0 || !opts_.enabled->load()) return false;
    std::lock_guard<std::mutex> l(mu_);
    return std::uniform_real_distribution<double>(0, 1)(rng_) < p;
  }
  int64_t Uniform(int64_t max) {
    std::lock_guard<std::mutex> l(mu_);
    return std::uniform_int_distribution<int64_t>(0, max)(rng_);
  }

  std::unique_ptr<JournalTransport> inner_;
  const FaultOptions opts_;
  std::mutex mu_;  // Send and Recv run on different threads
  std::mt19937_64 rng_;
};

}  // namespace

std::unique_ptr<JournalTransport> NewThriftTransport(const HostPort& hp,
                                                     const TransportOptions& opts) {
  // Thrift prints connection errors to stderr itself; ours carry them in a Status.
  static std::once_flag once;
  std::call_once(once, [] {
    apache::thrift::GlobalOutput.setOutputFunction(
        [](const char* msg) { VLOG(1) << "thrift: " << msg; });
  });
  return std::make_unique<ThriftTransport>(hp, opts);
}

std::unique_ptr<JournalTransport> NewFaultyTransport(std::unique_ptr<JournalTransport> inner,
                                                     const FaultOptions& opts) {
  return std::make_unique<FaultyTransport>(std::move(inner), opts);
}

}  // namespace qj::jn
