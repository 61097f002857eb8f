// Image transfer between namenodes (checkpoint sharing and --bootstrap_standby).
//
// The standby writes checkpoints (NamenodeServer::SaveCheckpoint, driven by the
// checkpoint thread in checkpointer.cc); the active pulls the standby's newer images with
// these functions, keeps `images_retained` of them, and purges journal segments below
// the oldest kept image's txid minus `extra_edits_retained`.
//
// Thread-safety: free functions, safe to call concurrently on different directories.
#pragma once

#include <cstdint>
#include <string>

#include "common/cluster_config.h"
#include "common/file_ops.h"
#include "common/rpc/rpc.h"
#include "common/status.h"

namespace qj::nn {

// The newest image txid a namenode holds (-1: none). NetworkError if unreachable.
Result<int64_t> PeerLatestImageTxId(const HostPort& peer, int64_t timeout_ms,
                                    const rpc::TlsOptions& tls);

// Downloads image `txid` from `peer` into dir/fsimage_<txid>: to a temp file, verified
// (VerifyImageFile: every CRC, the header's txid), fsynced, renamed, dir fsynced. Never
// leaves a partial image under the final name. Files go through `fs`.
Status DownloadImage(const HostPort& peer, int64_t txid, const std::string& dir, int64_t timeout_ms,
                     const rpc::TlsOptions& tls, FileOps* fs = FileOps::Posix());

}  // namespace qj::nn
