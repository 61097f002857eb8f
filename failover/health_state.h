// What failoverd knows of its namenode's health (health_monitor.h gathers it); shared by
// the monitor and ControllerCore, which must not depend on the monitor's transport.
#pragma once

#include <sys/types.h>

#include <string>

namespace qj::fo {

enum class HealthState { kInitializing, kHealthy, kUnhealthy, kUnresponsive };
const char* HealthStateName(HealthState s);

struct HealthSnapshot {
  HealthState state = HealthState::kInitializing;
  // True when the namenode process certainly does not exist any more.
  bool process_gone = false;
  pid_t pid = -1;
  // The namenode's own view from its last getServiceStatus ("active", "standby", ...;
  // "" when unknown).
  std::string ha_state;
  std::string reason;  // why not healthy
};

}  // namespace qj::fo
