// The failover controller (failoverd) service, used by haadmin and by the peer failoverd
// for graceful failover.

include "rpc.thrift"

namespace cpp qjournal.thrift

struct FailoverStatus {
  1: required string namenodeId,
  // HEALTHY / UNHEALTHY / UNRESPONSIVE / INITIALIZING
  2: required string health,
  3: required bool holdsLease,
  4: required i64 leaseRemainingMs,
  // Milliseconds this controller still stays out of the contest after ceding; 0 if none.
  5: required i64 cededRemainingMs,
  6: required bool automaticFailoverEnabled,
}

enum FailoverErrorCode {
  FAILED = 1,                   // the operation ran and failed (peer unreachable, unhealthy)
  INVALID_ARGUMENT = 2,         // an argument out of its bounds (nothing was done)
  AUTOMATIC_FAILOVER_OFF = 3,   // cede/graceful failover need automatic failover on
}

exception FailoverException {
  1: string message,
  // Absent from servers older than the code.
  2: optional FailoverErrorCode code,
}

service FailoverController {
  FailoverStatus getStatus() throws (99: rpc.AccessDeniedException denied),
  // Demote the local namenode, release the lease, stay out of the contest for millisToCede
  // (1 .. 600000 ms; INVALID_ARGUMENT otherwise).
  void cedeActive(1: i32 millisToCede) throws (1: FailoverException e, 99: rpc.AccessDeniedException denied),
  // Make the local namenode active: ask the peer failoverd to cede, then take the lease.
  void gracefulFailover() throws (1: FailoverException e, 99: rpc.AccessDeniedException denied),
}
