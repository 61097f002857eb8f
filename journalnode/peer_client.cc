#include "journalnode/peer_client.h"

#include <optional>

#include "JournalProtocol.h"
#include "common/cluster_config.h"
#include "common/rpc/idl_errors.h"
#include "journalnode/journal_wire.h"

namespace qj::jn {
namespace {

namespace th = qjournal::thrift;

// Runs fn with a connected client; maps every failure to a Status naming the peer.
template <typename Fn>
Status WithClient(const std::string& peer, int64_t timeout_ms, const rpc::TlsOptions& tls, Fn fn) {
  auto hp = ParseHostPort(peer);
  if (!hp.ok()) return Status::InvalidArgument("bad peer address '" + peer + "'");
  rpc::ClientOptions opts;
  opts.connect_timeout_ms = opts.send_timeout_ms = opts.recv_timeout_ms = timeout_ms;
  opts.max_frame_bytes = 64 << 20;
  opts.tls = tls;
  rpc::Client<th::JournalProtocolClient> client(*hp, opts);
  return client.Call("peer", [&](th::JournalProtocolClient* c) -> Status {
    try {
      return fn(*c);
    } catch (const apache::thrift::TException& e) {
      std::optional<Status> typed = rpc::JournalStatusFrom(e, "peer " + peer);
      if (!typed) throw;  // rpc::Client::Call maps it and drops the connection
      return *typed;
    }
  });
}

}  // namespace

Result<SegmentChunkData> ThriftPeerClient::GetSegmentChunk(const std::string& peer,
                                                           const std::string& journal_id,
                                                           int64_t start_txid, int64_t end_txid,
                                                           int64_t offset, int32_t max_bytes) {
  SegmentChunkData out;
  Status s = WithClient(peer, timeout_ms_, tls_, [&](th::JournalProtocolClient& c) {
    th::SegmentChunk chunk;
    c.getSegmentChunk(chunk, journal_id, start_txid, end_txid, offset, max_bytes);
    out = FromThrift(std::move(chunk));
    return Status::OK();
  });
  if (!s.ok()) return s;
  return out;
}

Result<Manifest> ThriftPeerClient::GetManifest(const std::string& peer,
                                               const std::string& journal_id) {
  Manifest out;
  Status s = WithClient(peer, timeout_ms_, tls_, [&](th::JournalProtocolClient& c) {
    th::EditLogManifest m;
    c.getEditLogManifest(m, journal_id, 1, false);
    out = FromThrift(m);
    return Status::OK();
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace qj::jn
