#include "failover/namenode_target.h"

#include "common/rpc/idl_errors.h"

namespace qj::fo {

namespace th = qjournal::thrift;

RpcNamenodeTarget::RpcNamenodeTarget(NamenodeInfo nn, int64_t timeout_ms)
    : nn_(nn), conn_(nn.rpc(), rpc::ClientOptions::WithTimeout(timeout_ms)) {}

NamenodeTargetFactory RpcNamenodeTarget::Factory() {
  return [](const NamenodeInfo& nn, int64_t timeout_ms) -> std::unique_ptr<NamenodeTarget> {
    return std::make_unique<RpcNamenodeTarget>(nn, timeout_ms);
  };
}

template <typename Fn>
Status RpcNamenodeTarget::Invoke(const char* what, Fn&& fn) {
  // A cached connection may belong to a namenode process that has since died (and maybe
  // restarted): if it breaks without a timeout, try once more on a fresh connection.
  // Every HA call is safe to repeat (transitions and renewals are idempotent in effect).
  for (int attempt = 0;; ++attempt) {
    const bool reused = conn_.connected();
    auto client = conn_.Get();
    last_refused_ = !client.ok() && client.status().code() == StatusCode::kConnectionRefused;
    if (!client.ok()) {
      return Status::NetworkError(client.status().message()).Prepend(nn_.id + " " + what);
    }
    try {
      fn(**client);
      return Status::OK();
    } catch (const th::HealthCheckFailedException& e) {
      return Status::Unavailable(nn_.id + " " + what + ": unhealthy: " + e.message);
    } catch (const th::ServiceFailedException& e) {
      return rpc::StatusFrom(e, rpc::HaErrors(), nn_.id + " " + what);
    } catch (const apache::thrift::transport::TTransportException& e) {
      conn_.Reset();
      if (reused && attempt == 0 &&
          e.getType() != apache::thrift::transport::TTransportException::TIMED_OUT) {
        continue;
      }
      return Status::NetworkError(nn_.id + " " + what + " (" + nn_.rpc().ToString() +
                                  "): " + e.what());
    } catch (const apache::thrift::TException& e) {
      conn_.Reset();
      return Status::NetworkError(nn_.id + " " + what + " (" + nn_.rpc().ToString() +
                                  "): " + e.what());
    }
  }
}

Result<NamenodeStatus> RpcNamenodeTarget::GetServiceStatus() {
  th::HAServiceStatus s;
  QJ_RETURN_IF_ERROR(
      Invoke("getServiceStatus", [&](th::HAServiceProtocolClient& c) { c.getServiceStatus(s); }));
  NamenodeStatus out;
  switch (s.state) {
    case th::HAServiceState::ACTIVE:
      out.state = "active";
      break;
    case th::HAServiceState::STANDBY:
      out.state = "standby";
      break;
    case th::HAServiceState::INITIALIZING:
      out.state = "initializing";
      break;
    case th::HAServiceState::STOPPING:
      out.state = "stopping";
      break;
  }
  out.ready_to_become_active = s.readyToBecomeActive;
  out.not_ready_reason = s.notReadyReason;
  out.last_applied_txid = s.lastAppliedTxId;
  out.epoch = s.epoch;
  out.pid = s.pid;
  out.active_namenode_id = s.activeNamenodeId;
  return out;
}

Status RpcNamenodeTarget::MonitorHealth() {
  return Invoke("monitorHealth", [&](th::HAServiceProtocolClient& c) { c.monitorHealth(); });
}

Status RpcNamenodeTarget::TransitionToActive(th::RequestSource::type source,
                                             int64_t lease_deadline_nanos) {
  th::HAStateChangeRequest req;
  req.source = source;
  if (lease_deadline_nanos != 0) req.__set_leaseDeadlineMonoNs(lease_deadline_nanos);
  // A failoverd holds the lease under its namenode's id; the namenode checks it.
  if (source == th::RequestSource::REQUEST_BY_FAILOVERD) req.__set_holderId(nn_.id);
  return Invoke("transitionToActive",
                [&](th::HAServiceProtocolClient& c) { c.transitionToActive(req); });
}

Status RpcNamenodeTarget::TransitionToStandby(th::RequestSource::type source) {
  th::HAStateChangeRequest req;
  req.source = source;
  if (source == th::RequestSource::REQUEST_BY_FAILOVERD) req.__set_holderId(nn_.id);
  return Invoke("transitionToStandby",
                [&](th::HAServiceProtocolClient& c) { c.transitionToStandby(req); });
}

Status RpcNamenodeTarget::RenewLease(int64_t lease_deadline_nanos) {
  return Invoke("renewLease", [&](th::HAServiceProtocolClient& c) {
    c.renewLease(lease_deadline_nanos, nn_.id);
  });
}

}  // namespace qj::fo
