// failoverd's and haadmin's view of one namenode's HA protocol (HAServiceProtocol).
//
// Each call has the connection's timeout; a transport error drops the connection so the
// next call reconnects. Errors: NetworkError (could not connect / timed out / reset;
// `last_refused()` tells whether the connect was refused), Unavailable (monitorHealth
// said unhealthy), IllegalState (a transition or renewal was refused).
//
// Thread-compatible: give each thread its own NamenodeTarget (they are cheap).
#pragma once

#include <cstdint>
#include <string>

#include "HAServiceProtocol.h"
#include "common/cluster_config.h"
#include "common/status.h"
#include "common/rpc/rpc.h"
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
  NamenodeTarget(NamenodeInfo nn, int64_t timeout_ms);

  Result<NamenodeStatus> GetServiceStatus();
  Status MonitorHealth();
  // source: REQUEST_BY_FAILOVERD / REQUEST_BY_USER / REQUEST_BY_USER_FORCED.
  // lease_deadline_nanos 0 = no lease (manual mode).
  Status TransitionToActive(qjournal::thrift::RequestSource::type source,
                            int64_t lease_deadline_nanos);
  Status TransitionToStandby(qjournal::thrift::RequestSource::type source);
  Status RenewLease(int64_t lease_deadline_nanos);

  // Whether the last failed call could not connect because the connect was refused.
  bool last_refused() const { return last_refused_; }
  const NamenodeInfo& info() const { return nn_; }

 private:
  template <typename Fn>
  Status Invoke(const char* what, Fn&& fn);

  const NamenodeInfo nn_;
  rpc::Client<qjournal::thrift::HAServiceProtocolClient> conn_;
  bool last_refused_ = false;
};

}  // namespace qj::fo
