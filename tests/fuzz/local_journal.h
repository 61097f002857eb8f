// Three real journalnodes for the RPC fuzz targets that need a quorum behind the handler
// (namenode_service, failover_service): each a JournalNode in this process, served over
// Thrift by its own JournalServer thread on a port of 127.0.0.1 the kernel picked, the
// journal formatted. Started once per process (the targets keep their state across
// inputs) and stopped at exit by the target.
#pragma once

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/cluster_config.h"
#include "journalnode/journal_node.h"
#include "journalnode/journal_service.h"

namespace qj::fuzz {

// A port on 127.0.0.1 free at the time of asking (the kernel's pick for port 0).
int FreePort();

class LocalJournal {
 public:
  // Starts the journalnodes under `dir` (emptied first) and formats `journal_id` with
  // namespace `namespace_id` / `cluster_id` on them. Aborts on failure.
  LocalJournal(const std::string& dir, const std::string& journal_id, int64_t namespace_id,
               const std::string& cluster_id);
  // Stops the servers, then the nodes.
  ~LocalJournal();
  LocalJournal(const LocalJournal&) = delete;
  LocalJournal& operator=(const LocalJournal&) = delete;

  const std::vector<HostPort>& addresses() const { return addresses_; }

 private:
  struct Node {
    std::unique_ptr<jn::JournalNode> node;
    std::unique_ptr<jn::JournalServer> server;
    std::thread thread;
  };
  std::vector<Node> nodes_;
  std::vector<HostPort> addresses_;
};

}  // namespace qj::fuzz
