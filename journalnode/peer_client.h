// PeerClient over Thrift: how a journalnode copies segments from, and reads manifests
// of, its peers ("host:port"). A new connection per call (rpc::Connect: connect / send /
// receive timeouts, TLS when on), so a dead peer costs at most one timeout.
//
// Thread-safe (no shared state). Failure: NetworkError naming the peer; typed errors
// from the peer come back as Status with the peer's message.
#pragma once

#include <cstdint>
#include <string>

#include "common/rpc/rpc.h"
#include "journalnode/journal.h"

namespace qj::jn {

class ThriftPeerClient final : public PeerClient {
 public:
  ThriftPeerClient(int64_t timeout_ms, rpc::TlsOptions tls)
      : timeout_ms_(timeout_ms), tls_(std::move(tls)) {}
  Result<SegmentChunkData> GetSegmentChunk(const std::string& peer, const std::string& journal_id,
                                           int64_t start_txid, int64_t end_txid, int64_t offset,
                                           int32_t max_bytes) override;
  Result<Manifest> GetManifest(const std::string& peer, const std::string& journal_id) override;

 private:
  const int64_t timeout_ms_;
  const rpc::TlsOptions tls_;
};

}  // namespace qj::jn
