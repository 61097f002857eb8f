// The journalnode's HTTP pages (common/daemon_web.h): per journal, its counters
// (JournalCounters) and state (Journal::GetState) as Prometheus metrics, a status page and
// JSON with a table of journals, and charts of the commit rate and lag.
#pragma once

#include <memory>

#include "common/daemon_web.h"
#include "journalnode/journal_node.h"

namespace qj::jn {

// The node must outlive the returned object (stop it first). Not started.
std::unique_ptr<DaemonWeb> MakeJournalNodeWeb(JournalNode* node, const HttpServerOptions& http);

}  // namespace qj::jn
