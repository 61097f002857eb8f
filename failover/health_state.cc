#include "failover/health_state.h"

namespace qj::fo {

const char* HealthStateName(HealthState s) {
  switch (s) {
    case HealthState::kInitializing:
      return "INITIALIZING";
    case HealthState::kHealthy:
      return "HEALTHY";
    case HealthState::kUnhealthy:
      return "UNHEALTHY";
    case HealthState::kUnresponsive:
      return "UNRESPONSIVE";
  }
  return "?";
}

}  // namespace qj::fo
