// What failoverd knows of its namenode's health (health_monitor.h gathers it); shared by
// the monitor and ControllerCore, which must not depend on the monitor's transport.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace qj::fo {

enum class HealthState { kInitializing, kHealthy, kUnhealthy, kUnresponsive };
const char* HealthStateName(HealthState s);

struct HealthSnapshot {
  HealthState state = HealthState::kInitializing;
  // True when the namenode process certainly does not exist any more.
  bool process_gone = false;
  pid_t pid = -1;
  // Lease-clock time at which the newest check that found the namenode HEALTHY was sent
  // (0: none yet). The namenode was healthy at some moment after it, so a lease renewal
  // may vouch for the namenode up to this time plus one lease (ControllerCore,
  // health_fresh_ms). Kept across snapshots that are not HEALTHY.
  int64_t healthy_at = 0;
  // The namenode's own view from its last getServiceStatus ("active", "standby", ...;
  // "" when unknown).
  std::string ha_state;
  std::string reason;  // why not healthy
};

}  // namespace qj::fo
