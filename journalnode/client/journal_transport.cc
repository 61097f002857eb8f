#include "journalnode/client/journal_transport.h"

#include <glog/logging.h>

#include <chrono>
#include <thread>

#include "JournalProtocol.h"
#include "common/mutex.h"
#include "common/rpc/rpc.h"
#include "common/thread_annotations.h"

namespace qj::jn {

namespace {

// One connection (rpc::Connect). Requests and responses use separate framed transports
// and protocols over the same socket, so the sender and receiver threads share no
// buffers. With TLS they do share one OpenSSL session, which two threads must not use at
// once: Send and Recv then hold the connection's io_mu(), and Recv waits for the answer
// to begin without it. (A Recv holding the lock while an answer arrives blocks a Send
// only for that long; writer answers are small, so the peer is never stuck writing to
// us while we are stuck writing to it.)
class ThriftTransport final : public JournalTransport {
 public:
  ThriftTransport(HostPort hp, TransportOptions opts) : hp_(std::move(hp)), opts_(opts) {}
  ~ThriftTransport() override { Close(); }

  Status Connect() override {
    Close();
    rpc::ClientOptions o;
    o.connect_timeout_ms = opts_.connect_timeout_ms;
    o.send_timeout_ms = opts_.send_timeout_ms;
    o.recv_timeout_ms = opts_.recv_timeout_ms;
    o.max_frame_bytes = opts_.max_frame_bytes;
    o.tls = opts_.tls;
    auto c = rpc::Connect(hp_, o);
    if (!c.ok())
      return c.status().code() == StatusCode::kTimedOut
                 ? c.status()
                 : Status::NetworkError(c.status().ToString());
    std::shared_ptr<rpc::Connection> conn(std::move(*c));
    client_ = std::make_unique<qjournal::thrift::JournalProtocolClient>(conn->in(), conn->out());
    MutexLock l(&conn_mu_);
    conn_ = std::move(conn);
    return Status::OK();
  }

  void Shutdown() override {
    MutexLock l(&conn_mu_);
    if (conn_) conn_->Shutdown();
  }

  void Close() override {
    std::shared_ptr<rpc::Connection> c;
    {
      MutexLock l(&conn_mu_);
      c = std::move(conn_);
    }
    client_.reset();
    if (c) c->Close();
  }

  Status Send(ChannelCall* call) override {
    std::shared_ptr<rpc::Connection> c = conn();
    if (!client_ || !c) return Status::NetworkError(hp_.ToString() + ": not connected");
    try {
      if (c->tls()) {
        MutexLock l(c->io_mu());
        call->Send(client_.get());
      } else {
        call->Send(client_.get());
      }
      return Status::OK();
    } catch (const std::exception& e) {
      return rpc::FromThrift(e, hp_.ToString() + " " + call->name());
    }
  }

  Status Recv(ChannelCall* call) override {
    std::shared_ptr<rpc::Connection> c = conn();
    if (!client_ || !c) return Status::NetworkError(hp_.ToString() + ": not connected");
    // A call with its own timeout (acceptRecovery) waits longer; the next call gets the
    // usual one back. Only the receiver thread reads or changes the receive timeout.
    const int64_t timeout_ms =
        call->recv_timeout_ms() > 0 ? call->recv_timeout_ms() : opts_.recv_timeout_ms;
    try {
      if (c->tls()) {
        Status ready = c->WaitReadable(timeout_ms);
        if (!ready.ok()) return ready.Prepend(hp_.ToString() + " " + call->name());
        MutexLock l(c->io_mu());
        RecvWithTimeout(c.get(), call);
      } else {
        RecvWithTimeout(c.get(), call);
      }
      return Status::OK();
    } catch (const std::exception& e) {
      return rpc::FromThrift(e, hp_.ToString() + " " + call->name());
    }
  }

 private:
  void RecvWithTimeout(rpc::Connection* c, ChannelCall* call) {
    if (call->recv_timeout_ms() > 0) c->SetRecvTimeout(call->recv_timeout_ms());
    call->Recv(client_.get());
    if (call->recv_timeout_ms() > 0) c->SetRecvTimeout(opts_.recv_timeout_ms);
  }
  std::shared_ptr<rpc::Connection> conn() EXCLUDES(conn_mu_) {
    MutexLock l(&conn_mu_);
    return conn_;
  }

  const HostPort hp_;
  const TransportOptions opts_;
  // Set and reset by Connect/Close, which run on the channel's sender thread while no
  // Send or Recv is running (JournalTransport's contract), so it needs no lock.
  std::unique_ptr<qjournal::thrift::JournalProtocolClient> client_;
  // Shutdown() comes from any thread.
  Mutex conn_mu_;
  std::shared_ptr<rpc::Connection> conn_ GUARDED_BY(conn_mu_);
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

  bool SendsInline() const override { return opts_.delay <= 0 && inner_->SendsInline(); }

  Status Recv(ChannelCall* call) override {
    Status s = inner_->Recv(call);
    if (s.ok() && Roll(opts_.drop_response)) {
      return Status::NetworkError(std::string("injected: response dropped: ") + call->name());
    }
    return s;
  }

 private:
  bool Roll(double p) EXCLUDES(mu_) {
    if (p <= 0 || !opts_.enabled->load()) return false;
    MutexLock l(&mu_);
    return std::uniform_real_distribution<double>(0, 1)(rng_) < p;
  }
  int64_t Uniform(int64_t max) EXCLUDES(mu_) {
    MutexLock l(&mu_);
    return std::uniform_int_distribution<int64_t>(0, max)(rng_);
  }

  std::unique_ptr<JournalTransport> inner_;
  const FaultOptions opts_;
  Mutex mu_;  // Send and Recv run on different threads
  std::mt19937_64 rng_ GUARDED_BY(mu_);
};

}  // namespace

std::unique_ptr<JournalTransport> NewThriftTransport(const HostPort& hp,
                                                     const TransportOptions& opts) {
  return std::make_unique<ThriftTransport>(hp, opts);
}

std::unique_ptr<JournalTransport> NewFaultyTransport(std::unique_ptr<JournalTransport> inner,
                                                     const FaultOptions& opts) {
  return std::make_unique<FaultyTransport>(std::move(inner), opts);
}

}  // namespace qj::jn
