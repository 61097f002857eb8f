// failoverd's and haadmin's view of one namenode's HA protocol (HAServiceProtocol).
//
// NamenodeTarget is the interface the Controller, the HealthMonitor and haadmin call;
// RpcNamenodeTarget is the Thrift implementation. Tests put a scripted namenode behind
// the interface to decide what each call answers and when (tests/failover/).
//
// Errors of every call: NetworkError (could not connect / timed out / reset;
// `last_refused()` tells whether the connect was refused), Unavailable (monitorHealth
// said unhealthy), IllegalState (a transition or renewal was refused).
//
// Thread-compatible: give each thread its own NamenodeTarget (they are cheap).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "HAServiceProtocol.h"
#include "common/cluster_config.h"
#include "common/rpc/rpc.h"
#include "common/status.h"
#include "namenode_types.h"

namespace qj::fo {

struct NamenodeStatus {
  std::string state;  // "active", "standby", "initializing", "stopping"
  bool ready_to_become_active = false;
  std::string not_ready_reason;
  int64_t last_applied_txid = -1;
  int64_t epoch = -1;
  int pid = -1;
  std::string active_namenode_id;
};

class NamenodeTarget {
 public:
  virtual ~NamenodeTarget() = default;

  virtual Result<NamenodeStatus> GetServiceStatus() = 0;
  virtual Status MonitorHealth() = 0;
  // source: REQUEST_BY_FAILOVERD / REQUEST_BY_USER / REQUEST_BY_USER_FORCED.
  // lease_deadline_nanos 0 = no lease (manual mode).
  virtual Status TransitionToActive(qjournal::thrift::RequestSource::type source,
                                    int64_t lease_deadline_nanos) = 0;
  virtual Status TransitionToStandby(qjournal::thrift::RequestSource::type source) = 0;
  virtual Status RenewLease(int64_t lease_deadline_nanos) = 0;

  // Whether the last failed call could not connect because the connect was refused.
  virtual bool last_refused() const = 0;
  virtual const NamenodeInfo& info() const = 0;
};

// Makes a target for `nn` whose calls time out after `timeout_ms`.
using NamenodeTargetFactory =
    std::function<std::unique_ptr<NamenodeTarget>(const NamenodeInfo& nn, int64_t timeout_ms)>;

// Over Thrift. Each call has the connection's timeout; a transport error drops the
// connection so the next call reconnects.
class RpcNamenodeTarget final : public NamenodeTarget {
 public:
  RpcNamenodeTarget(NamenodeInfo nn, int64_t timeout_ms);

  Result<NamenodeStatus> GetServiceStatus() override;
  Status MonitorHealth() override;
  Status TransitionToActive(qjournal::thrift::RequestSource::type source,
                            int64_t lease_deadline_nanos) override;
  Status TransitionToStandby(qjournal::thrift::RequestSource::type source) override;
  Status RenewLease(int64_t lease_deadline_nanos) override;
  bool last_refused() const override { return last_refused_; }
  const NamenodeInfo& info() const override { return nn_; }

  // The factory of the real thing.
  static NamenodeTargetFactory Factory();

 private:
  template <typename Fn>
  Status Invoke(const char* what, Fn&& fn);

  const NamenodeInfo nn_;
  rpc::Client<qjournal::thrift::HAServiceProtocolClient> conn_;
  bool last_refused_ = false;
};

}  // namespace qj::fo
