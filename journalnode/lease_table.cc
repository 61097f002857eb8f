#include "journalnode/lease_table.h"

namespace qj::jn {

LeaseTable::LeaseTable(const LeaseOptions& opts)
    : opts_(opts),
      grace_end_nanos_(opts.clock->MonotonicNanos() + opts.grace_ms * kNanosPerMilli) {}

Result<LeaseAnswer> LeaseTable::Acquire(const std::string& journal_id, const std::string& holder,
                                        int64_t duration_ms) {
  const std::string who = opts_.node_name + " " + journal_id;
  if (holder.empty() || holder.size() > 256) {
    return Status::InvalidArgument(who + ": lease holder id must be 1..256 bytes");
  }
  if (duration_ms <= 0 || duration_ms > opts_.max_duration_ms) {
    return Status::InvalidArgument(who + ": lease duration " + std::to_string(duration_ms) +
                                   " ms is outside 1.." + std::to_string(opts_.max_duration_ms) +
                                   " ms");
  }
  // The receive time: the expiry is measured from here, so it lies after the asker's own
  // deadline (which starts before it sent the request).
  const int64_t now = opts_.clock->MonotonicNanos();
  LeaseAnswer g;
  if (now < grace_end_nanos_) {
    g.remaining_ms = (grace_end_nanos_ - now + kNanosPerMilli - 1) / kNanosPerMilli;
    return g;
  }
  MutexLock l(&mu_);
  Lease& lease = leases_[journal_id];
  if (!lease.holder.empty() && lease.expiry_nanos > now && lease.holder != holder) {
    g.holder = lease.holder;
    g.remaining_ms = (lease.expiry_nanos - now + kNanosPerMilli - 1) / kNanosPerMilli;
    return g;
  }
  if (lease.holder != holder || lease.expiry_nanos <= now) {
    LOG(INFO) << who << ": lease granted to " << holder << " for " << duration_ms << " ms";
  }
  lease.holder = holder;
  lease.expiry_nanos = now + duration_ms * kNanosPerMilli;
  g.granted = true;
  g.holder = holder;
  g.remaining_ms = duration_ms;
  return g;
}

Status LeaseTable::Release(const std::string& journal_id, const std::string& holder) {
  const std::string who = opts_.node_name + " " + journal_id;
  const int64_t now = opts_.clock->MonotonicNanos();
  MutexLock l(&mu_);
  auto it = leases_.find(journal_id);
  if (it == leases_.end() || it->second.expiry_nanos <= now) return Status::OK();
  if (it->second.holder != holder) {
    return Status::InvalidArgument(who + ": " + holder + " cannot release the lease held by " +
                                   it->second.holder);
  }
  leases_.erase(it);
  LOG(INFO) << who << ": lease released by " << holder;
  return Status::OK();
}

}  // namespace qj::jn
