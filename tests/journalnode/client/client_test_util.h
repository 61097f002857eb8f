// Helpers shared by the journal client tests (header-only).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "journalnode/client/journal_transport.h"
#include "journalnode/client/quorum_writer.h"
#include "tests/support/jn_cluster.h"
#include "tests/support/status_macros.h"

namespace qj::testing {

// The payload a test writer uses for txid: names the writer so a test can tell versions.
inline std::string TestPayload(const std::string& writer, int64_t txid) {
  return writer + "/" + std::to_string(txid);
}

// Every committed edit from txid 1 on, read through a QuorumReader on `opts`. The reader
// checks what the journalnodes hold, not how fast they serve it: each read may take 15 s
// (a 12 MiB segment read on a loaded 2-core machine took over the cluster's 1 s default).
inline Result<std::vector<EditRecord>> ReadAll(jn::QuorumOptions opts) {
  opts.rpc_timeout_ms = std::max<int64_t>(opts.rpc_timeout_ms, 15000);
  auto reader = jn::QuorumReader::Create(opts);
  std::vector<EditRecord> all;
  while (true) {
    auto r = reader->ReadCommitted(static_cast<int64_t>(all.size()) + 1, 500);
    if (!r.ok()) return r.status();
    if (r->empty()) return all;
    for (auto& e : *r) all.push_back(std::move(e));
  }
}

// What journalnode i alone serves as committed (a reader over that node only).
inline Result<std::vector<EditRecord>> ReadNode(const JnCluster& c, int i) {
  jn::QuorumOptions o = c.Options("reader-jn" + std::to_string(i));
  o.journalnodes = {o.journalnodes[i]};
  return ReadAll(o);
}

// Every node's committed log must be a prefix of `log` (nodes never diverge).
inline void ExpectNodesAgree(const JnCluster& cluster, const std::vector<EditRecord>& log) {
  for (int i = 0; i < cluster.size(); ++i) {
    auto node_log = ReadNode(cluster, i);
    ASSERT_TRUE(node_log.ok()) << "jn" << i << ": " << node_log.status();
    ASSERT_LE(node_log->size(), log.size()) << "jn" << i;
    for (size_t k = 0; k < node_log->size(); ++k) {
      ASSERT_EQ((*node_log)[k].txid, log[k].txid) << "jn" << i;
      ASSERT_EQ((*node_log)[k].payload, log[k].payload) << "jn" << i << " txid " << log[k].txid;
    }
  }
}

// Appends txids [from, to] with TestPayload(tag, txid).
inline Status AppendRange(jn::QuorumWriter* w, const std::string& tag, int64_t from, int64_t to) {
  for (int64_t t = from; t <= to; ++t) QJ_RETURN_IF_ERROR(w->Append(t, 1, TestPayload(tag, t)));
  return Status::OK();
}

// A scripted network partition between one client and the journalnodes: calls named in
// blocked(i) are dropped before they reach node i (all calls when "*" is in it).
class Partition {
 public:
  explicit Partition(int n) : blocked_(n) {}
  void Block(int node, const std::string& call = "*") {
    std::lock_guard<std::mutex> l(mu_);
    blocked_[node].insert(call);
  }
  void Heal() {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& b : blocked_) b.clear();
  }
  bool Blocked(int node, const char* call) {
    std::lock_guard<std::mutex> l(mu_);
    return blocked_[node].count("*") > 0 || blocked_[node].count(call) > 0;
  }
  // Installs this partition (plus optional random faults) into opts.
  void Install(jn::QuorumOptions* opts, jn::FaultOptions faults = {}) {
    const int64_t timeout = opts->rpc_timeout_ms;
    opts->transport_factory = [this, faults, timeout](int i, const HostPort& hp) {
      jn::TransportOptions t;
      t.connect_timeout_ms = t.send_timeout_ms = t.recv_timeout_ms = timeout;
      jn::FaultOptions f = faults;
      f.seed = faults.seed * 31 + static_cast<uint64_t>(i);
      f.drop_request_if = [this, i](const char* call) { return Blocked(i, call); };
      return jn::NewFaultyTransport(jn::NewThriftTransport(hp, t), f);
    };
  }

 private:
  std::mutex mu_;
  std::vector<std::set<std::string>> blocked_;
};

}  // namespace qj::testing
