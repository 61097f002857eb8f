#include "failover/failoverd_web.h"

#include <string>

#include "failover/health_monitor.h"

namespace qj::fo {

namespace {

// How long a lease stays valid after the start of the round that won it.
int64_t ValidMs(const jn::LeaseClientOptions& lease) {
  return LeaseDeadlineNanos(0, lease) / kNanosPerMilli;
}

// Milliseconds since the last successful acquire/renew round started; -1 when not held.
int64_t SinceRenewalMs(const ControllerStatus& st, const jn::LeaseClientOptions& lease) {
  return st.holds_lease ? ValidMs(lease) - st.lease_remaining_ms : -1;
}

void Collect(Controller* c, const jn::LeaseClientOptions& lease, metrics::TextWriter* w) {
  const ControllerStatus st = c->GetStatus();
  auto gauge = [&](const char* name, const char* help, double v) {
    w->Begin(name, "gauge", help);
    w->Sample(name, {}, v);
  };
  gauge("qj_failoverd_lease_held", "1 while this failoverd holds the journal lease",
        st.holds_lease ? 1 : 0);
  gauge("qj_failoverd_lease_remaining_seconds", "Time until the held lease expires (0: not held)",
        st.lease_remaining_ms / 1e3);
  if (st.holds_lease) {
    gauge("qj_failoverd_seconds_since_lease_renewal",
          "Time since the start of the last lease round that succeeded",
          SinceRenewalMs(st, lease) / 1e3);
  }
  gauge("qj_failoverd_namenode_active", "1 while its namenode is active under this lease",
        st.active ? 1 : 0);
  gauge("qj_failoverd_automatic", "1 in automatic failover mode", st.automatic ? 1 : 0);
  gauge("qj_failoverd_ceded_remaining_seconds",
        "Time left of a cedeActive stay-out (0: contending normally)", st.ceded_remaining_ms / 1e3);
  w->Begin("qj_failoverd_health_state", "gauge", "1 for the namenode's current health state");
  for (HealthState h : {HealthState::kInitializing, HealthState::kHealthy, HealthState::kUnhealthy,
                        HealthState::kUnresponsive}) {
    w->Sample("qj_failoverd_health_state", {{"state", HealthStateName(h)}},
              st.health == HealthStateName(h) ? 1 : 0);
  }
  w->Begin("qj_failoverd_transitions_total", "counter",
           "Times this failoverd made its namenode active or took it out of active");
  w->Sample("qj_failoverd_transitions_total", {{"to", "active"}},
            static_cast<double>(st.became_active));
  w->Sample("qj_failoverd_transitions_total", {{"to", "standby"}},
            static_cast<double>(st.left_active));
}

StatusReport Report(Controller* c, const jn::LeaseClientOptions& lease) {
  const ControllerStatus st = c->GetStatus();
  StatusReport r;
  r.daemon = "failoverd";
  r.name = st.namenode_id;
  r.Field("namenode_id", st.namenode_id);
  r.Field("namenode_active", st.active);
  r.Field("health", st.health);
  r.Field("lease_held", st.holds_lease);
  r.Field("lease_remaining_ms", st.lease_remaining_ms);
  r.Field("since_lease_renewal_ms", SinceRenewalMs(st, lease));
  r.Field("automatic", st.automatic);
  r.Field("ceded_remaining_ms", st.ceded_remaining_ms);
  r.Field("became_active", st.became_active);
  r.Field("left_active", st.left_active);
  return r;
}

}  // namespace

std::unique_ptr<DaemonWeb> MakeFailoverdWeb(Controller* controller,
                                            const jn::LeaseClientOptions& lease,
                                            const HttpServerOptions& http) {
  DaemonWebOptions o;
  o.http = http;
  o.rate_title = "transitions (per s)";
  o.level_title = "lease time left (ms)";
  auto web = std::make_unique<DaemonWeb>(
      o, [controller, lease] { return Report(controller, lease); },
      [controller] {
        const ControllerStatus st = controller->GetStatus();
        return std::make_pair(static_cast<double>(st.became_active + st.left_active),
                              static_cast<double>(st.lease_remaining_ms));
      });
  web->registry()->AddCollector(
      [controller, lease](metrics::TextWriter* w) { Collect(controller, lease, w); });
  return web;
}

}  // namespace qj::fo
