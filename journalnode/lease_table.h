// Quorum leases, journalnode side (DESIGN §6): per journal, at most one unexpired
// holder. A grant lasts `duration` on this node's lease clock (Clock: CLOCK_BOOTTIME, so
// time suspended counts) from the moment the request was received. After start-up
// nothing is granted for a grace period at least as long as the longest lease, because
// the grants made before a restart are forgotten.
//
// In memory only (by design: the restart grace replaces persistence).
// Thread-safe (one mutex). Failure: InvalidArgument for a bad holder or duration, or a
// release by someone who does not hold an unexpired lease.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "common/clock.h"
#include "common/mutex.h"
#include "common/status.h"
#include "journalnode/protocol_types.h"

namespace qj::jn {

struct LeaseOptions {
  int64_t max_duration_ms = 10000;
  // Must be >= max_duration_ms.
  int64_t grace_ms = 10000;
  Clock* clock = RealClock::Get();
  std::string node_name = "jn";
};

class LeaseTable {
 public:
  explicit LeaseTable(const LeaseOptions& opts);

  // Grants or renews holder's lease, or says who holds it ("" during the grace period) and
  // for how long (LeaseAnswer, journalnode/protocol_types.h: what acquireLease answers).
  Result<LeaseAnswer> Acquire(const std::string& journal_id, const std::string& holder,
                              int64_t duration_ms);
  // OK if `holder` held it (now released) or nobody holds it.
  Status Release(const std::string& journal_id, const std::string& holder);

 private:
  struct Lease {
    std::string holder;
    int64_t expiry_nanos = 0;
  };
  const LeaseOptions opts_;
  const int64_t grace_end_nanos_;
  Mutex mu_;
  std::map<std::string, Lease> leases_ GUARDED_BY(mu_);
};

}  // namespace qj::jn
