// The namenode's HTTP pages (common/daemon_web.h): HA state, namespace size, operations
// by type and result, commit waits, checkpoint, lease slack, and the journal quorum as the
// writer sees it (active) or how far tailing lags (standby), as Prometheus metrics, a
// status page and JSON, with charts of the commit rate and lag.
//
// A standby learns the quorum's committed txid by asking the journalnodes once per sample
// interval from the sampler thread (never from a page request).
#pragma once

#include <memory>

#include "common/daemon_web.h"
#include "namenode/namenode_server.h"

namespace qj::nn {

// The server must outlive the returned object (stop it first). Not started.
std::unique_ptr<DaemonWeb> MakeNamenodeWeb(NamenodeServer* server, const HttpServerOptions& http);

}  // namespace qj::nn
