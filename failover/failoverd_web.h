// The failoverd's HTTP pages (common/daemon_web.h): lease and health state, transitions
// and time since the last lease round, as Prometheus metrics, a status page and JSON, with
// charts of transitions and of the lease time left.
#pragma once

#include <memory>

#include "common/daemon_web.h"
#include "failover/controller.h"
#include "journalnode/client/lease_client.h"

namespace qj::fo {

// The controller must outlive the returned object (stop it first). Not started.
std::unique_ptr<DaemonWeb> MakeFailoverdWeb(Controller* controller,
                                            const jn::LeaseClientOptions& lease,
                                            const HttpServerOptions& http);

}  // namespace qj::fo
