// The thrift transport of the lease client: one journalnode, one worker thread.
//
// Calls are queued in order and sent by the worker over one connection (reconnecting
// after errors), so a release never overtakes an earlier acquire. A hung journalnode
// ties up only its own worker: while an acquire to it is queued or in flight, a new
// acquire fails at once ("busy") instead of piling up behind it.
//
// Thread-safe. The destructor stops the worker after the call in flight (bounded by the
// RPC timeout); callbacks of calls still queued get a NetworkError.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/cluster_config.h"
#include "journalnode/client/lease_client.h"

namespace qj::fo {

class JnLeaseGrantor final : public jn::LeaseGrantor {
 public:
  JnLeaseGrantor(HostPort jn, int64_t rpc_timeout_ms);
  ~JnLeaseGrantor() override;

  std::string name() const override { return jn_.ToString(); }
  void AcquireAsync(const std::string& journal_id, const std::string& holder_id,
                    int64_t duration_ms, std::function<void(jn::GrantReply)> done) override;
  void ReleaseAsync(const std::string& journal_id, const std::string& holder_id,
                    std::function<void(Status)> done) override;

 private:
  struct Call {
    bool acquire;
    std::string journal_id, holder_id;
    int64_t duration_ms;
    std::function<void(jn::GrantReply)> on_grant;
    std::function<void(Status)> on_release;
  };
  void Run();

  const HostPort jn_;
  const int64_t rpc_timeout_ms_;
  std::mutex mu_;
  std::condition_variable cv_;    // notified by the callers (new call) and the destructor
  std::deque<Call> queue_;        // GUARDED_BY(mu_)
  bool acquire_pending_ = false;  // GUARDED_BY(mu_): an acquire queued or in flight
  bool stop_ = false;             // GUARDED_BY(mu_)
  std::thread worker_;
};

// One grantor per journalnode of the quorum.
std::vector<std::unique_ptr<jn::LeaseGrantor>> MakeJnLeaseGrantors(const std::vector<HostPort>& jns,
                                                                   int64_t rpc_timeout_ms);

}  // namespace qj::fo
