#include "failover/jn_lease_grantor.h"

#include <glog/logging.h>
#include <pthread.h>

#include "JournalProtocol.h"
#include "common/rpc/rpc.h"
#include "journal_types.h"

namespace qj::fo {

namespace th = qjournal::thrift;

JnLeaseGrantor::JnLeaseGrantor(HostPort jn, int64_t rpc_timeout_ms)
    : jn_(std::move(jn)), rpc_timeout_ms_(rpc_timeout_ms) {
  worker_ = std::thread([this] { Run(); });
}

JnLeaseGrantor::~JnLeaseGrantor() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  worker_.join();
  for (auto& c : queue_) {
    Status s = Status::NetworkError(jn_.ToString() + ": lease grantor shut down");
    if (c.acquire) {
      c.on_grant(jn::GrantReply{s, false, "", 0});
    } else {
      c.on_release(s);
    }
  }
}

void JnLeaseGrantor::AcquireAsync(const std::string& journal_id, const std::string& holder_id,
                                  int64_t duration_ms, std::function<void(jn::GrantReply)> done) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!acquire_pending_ && !stop_) {
      acquire_pending_ = true;
      queue_.push_back(Call{true, journal_id, holder_id, duration_ms, std::move(done), nullptr});
      cv_.notify_all();
      return;
    }
  }
  done(jn::GrantReply{Status::NetworkError(jn_.ToString() + ": busy with an earlier call"), false,
                      "", 0});
}

void JnLeaseGrantor::ReleaseAsync(const std::string& journal_id, const std::string& holder_id,
                                  std::function<void(Status)> done) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!stop_) {
      queue_.push_back(Call{false, journal_id, holder_id, 0, nullptr, std::move(done)});
      cv_.notify_all();
      return;
    }
  }
  done(Status::NetworkError(jn_.ToString() + ": lease grantor shut down"));
}

void JnLeaseGrantor::Run() {
  pthread_setname_np(pthread_self(), "lease-grantor");
  rpc::Client<th::JournalProtocolClient> conn(jn_, rpc::ClientOptions::WithTimeout(rpc_timeout_ms_));
  while (true) {
    Call call;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      call = std::move(queue_.front());
      queue_.pop_front();
    }
    // Execute outside the lock; the connection belongs to this thread.
    jn::GrantReply reply;
    Status release_status;
    auto client = conn.Get();
    if (!client.ok()) {
      reply.status = Status::NetworkError(client.status().message());
      release_status = reply.status;
    } else {
      try {
        if (call.acquire) {
          th::LeaseResponse resp;
          (*client)->acquireLease(resp, call.journal_id, call.holder_id, call.duration_ms);
          reply.granted = resp.granted;
          reply.holder = resp.holder;
          reply.remaining_ms = resp.remainingMs;
        } else {
          (*client)->releaseLease(call.journal_id, call.holder_id);
        }
      } catch (const th::InvalidRequestException& e) {
        reply.status = Status::InvalidArgument(jn_.ToString() + ": " + e.message);
        release_status = reply.status;
      } catch (const apache::thrift::TException& e) {
        conn.Reset();
        reply.status = Status::NetworkError(jn_.ToString() + ": " + e.what());
        release_status = reply.status;
      }
    }
    if (call.acquire) {
      {
        std::lock_guard<std::mutex> l(mu_);
        acquire_pending_ = false;
      }
      call.on_grant(std::move(reply));
    } else {
      call.on_release(release_status);
    }
  }
}

std::vector<std::unique_ptr<jn::LeaseGrantor>> MakeJnLeaseGrantors(const std::vector<HostPort>& jns,
                                                                   int64_t rpc_timeout_ms) {
  std::vector<std::unique_ptr<jn::LeaseGrantor>> out;
  for (const auto& hp : jns) out.push_back(std::make_unique<JnLeaseGrantor>(hp, rpc_timeout_ms));
  return out;
}

}  // namespace qj::fo
