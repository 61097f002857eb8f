#include "namenode/checkpointer.h"

#include <glog/logging.h>
#include <thrift/transport/TTransportException.h>

#include <cstdio>

#include "ClientProtocol.h"
#include "common/file_ops.h"
#include "common/progress.h"
#include "common/rpc/idl_errors.h"
#include "common/rpc/rpc.h"
#include "common/thrift_transport.h"
#include "namenode/image.h"

namespace qj::nn {

namespace th = qjournal::thrift;

namespace {

constexpr int32_t kChunkBytes = 4 << 20;

// One short-lived connection to a peer namenode (rpc::Connect); Open() throws like a
// Thrift call when the connection cannot be made.
class PeerConn {
 public:
  PeerConn(const HostPort& peer, int64_t timeout_ms, const rpc::TlsOptions& tls) : peer_(peer) {
    opts_.connect_timeout_ms = opts_.send_timeout_ms = opts_.recv_timeout_ms = timeout_ms;
    opts_.tls = tls;
  }
  th::ClientProtocolClient* Open() {
    auto c = rpc::Connect(peer_, opts_);
    if (!c.ok()) {
      throw apache::thrift::transport::TTransportException(
          apache::thrift::transport::TTransportException::NOT_OPEN, c.status().ToString());
    }
    conn_ = std::move(*c);
    client_ = std::make_unique<th::ClientProtocolClient>(conn_->in(), conn_->out());
    return client_.get();
  }

 private:
  const HostPort peer_;
  rpc::ClientOptions opts_;
  std::unique_ptr<rpc::Connection> conn_;
  std::unique_ptr<th::ClientProtocolClient> client_;
};

}  // namespace

Result<int64_t> PeerLatestImageTxId(const HostPort& peer, int64_t timeout_ms,
                                    const rpc::TlsOptions& tls) {
  try {
    PeerConn c(peer, timeout_ms, tls);
    return c.Open()->latestImageTxId();
  } catch (const th::FsException& e) {
    return rpc::StatusFrom(e, rpc::FsErrors(), peer.ToString() + ": latestImageTxId");
  } catch (const apache::thrift::TException& e) {
    return rpc::FromThrift(e, peer.ToString() + " latestImageTxId");
  }
}

Status DownloadImage(const HostPort& peer, int64_t txid, const std::string& dir, int64_t timeout_ms,
                     const rpc::TlsOptions& tls, FileOps* fs) {
  QJ_RETURN_IF_ERROR(fs->CreateDirs(dir));
  const std::string final_path = dir + "/" + ImageFileName(txid);
  const std::string tmp = final_path + ".download.tmp";
  QJ_ASSIGN_OR_RETURN(std::unique_ptr<SegmentFile> file, fs->Open(tmp, FileOps::Mode::kCreate));
  auto remove_tmp = [&] {
    file.reset();
    Status removed = fs->Unlink(tmp);
    if (!removed.ok() && !removed.IsNotFound()) {
      LOG(WARNING) << "removing " << tmp << " after a failed download: " << removed;
    }
  };
  auto fail = [&](Status st) {
    remove_tmp();
    return st;
  };
  try {
    PeerConn c(peer, timeout_ms, tls);
    th::ClientProtocolClient* client = c.Open();
    int64_t offset = 0;
    ProgressLog progress("fetching image " + ImageFileName(txid) + " from " + peer.ToString(), 0,
                         RealClock::Get());
    while (true) {
      std::string chunk;
      client->fetchImage(chunk, txid, offset, kChunkBytes);
      if (chunk.empty()) break;
      Status st = file->WriteAt(static_cast<uint64_t>(offset), chunk);
      if (!st.ok()) return fail(st);
      offset += static_cast<int64_t>(chunk.size());
      progress.Update(static_cast<uint64_t>(offset));
    }
    progress.Done(static_cast<uint64_t>(offset));
  } catch (const th::FsException& e) {
    return fail(rpc::StatusFrom(e, rpc::FsErrors(),
                                peer.ToString() + ": fetchImage " + std::to_string(txid)));
  } catch (const apache::thrift::TException& e) {
    return fail(rpc::FromThrift(e, peer.ToString() + " fetchImage " + std::to_string(txid)));
  }
  if (Status st = file->FullSync(); !st.ok()) return fail(st);
  file.reset();
  auto info = VerifyImageFile(tmp, fs);
  if (!info.ok() || info->txid != txid) {
    remove_tmp();
    if (!info.ok()) return info.status().Prepend("image fetched from " + peer.ToString());
    return Status::Corruption("image fetched from " + peer.ToString() + " is at txid " +
                              std::to_string(info->txid) + ", asked for " + std::to_string(txid));
  }
  if (Status st = fs->Rename(tmp, final_path); !st.ok()) return fail(st);
  return fs->SyncDir(dir);
}

Result<HaRole> PeerHaRole(const HostPort& peer, int64_t timeout_ms, const rpc::TlsOptions& tls) {
  try {
    PeerConn c(peer, timeout_ms, tls);
    th::HAServiceStatus s;
    c.Open()->getServiceStatus(s);
    switch (s.state) {
      case th::HAServiceState::ACTIVE:
        return HaRole::kActive;
      case th::HAServiceState::STANDBY:
        return HaRole::kStandby;
      case th::HAServiceState::STOPPING:
        return HaRole::kStopping;
      case th::HAServiceState::INITIALIZING:
        return HaRole::kInitializing;
    }
    return Status::Corruption(peer.ToString() + ": getServiceStatus: unknown state " +
                              std::to_string(static_cast<int>(s.state)));
  } catch (const apache::thrift::TException& e) {
    return rpc::FromThrift(e, peer.ToString() + " getServiceStatus");
  }
}

// ---------------------------------------------------------------------------------------
// RpcPeerImages

RpcPeerImages::RpcPeerImages(std::string name_dir, rpc::TlsOptions tls, FileOps* fs)
    : name_dir_(std::move(name_dir)), tls_(std::move(tls)), fs_(fs) {}

Result<int64_t> RpcPeerImages::LatestImageTxId(const NamenodeInfo& peer) {
  return PeerLatestImageTxId(peer.rpc(), 2000, tls_);
}

Status RpcPeerImages::Download(const NamenodeInfo& peer, int64_t txid) {
  return DownloadImage(peer.rpc(), txid, name_dir_, 30000, tls_, fs_);
}

Result<HaRole> RpcPeerImages::Role(const NamenodeInfo& peer) {
  return PeerHaRole(peer.rpc(), 500, tls_);
}

// ---------------------------------------------------------------------------------------
// Checkpointer

Checkpointer::Checkpointer(CheckpointerOptions opts, CheckpointHost* host, PeerImages* peers,
                           const Clock* clock)
    : opts_(std::move(opts)),
      host_(host),
      peers_(peers),
      clock_(clock),
      last_checkpoint_ms_(clock->MonotonicNanos() / kNanosPerMilli),
      worker_("nn-checkpoint", opts_.check_interval_ms * kNanosPerMilli, clock) {}

Checkpointer::~Checkpointer() { Stop(); }

void Checkpointer::Start() {
  worker_.Start(
      [this] {
        RunOnce();
        return clock_->MonotonicNanos();
      },
      /*step_first=*/false);
}

void Checkpointer::Stop() { worker_.Stop(); }

int64_t Checkpointer::next_step_due() const { return worker_.next_due(); }

int64_t Checkpointer::steps() const {
  MutexLock l(&step_mu_);
  return steps_;
}

int64_t Checkpointer::last_purge_txid() const {
  MutexLock l(&step_mu_);
  return last_purge_txid_;
}

void Checkpointer::RunOnce() {
  MutexLock l(&step_mu_);
  ++steps_;
  const HaRole role = host_->role();
  if (role == HaRole::kStandby) {
    PollPeerRoles();
    StandbyStep();
  } else if (role == HaRole::kActive) {
    ActiveStep();
  }
}

void Checkpointer::PollPeerRoles() {
  for (const NamenodeInfo& nn : opts_.peers) {
    // An unreachable peer gives no hint.
    auto role = peers_->Role(nn);
    if (role.ok() && *role == HaRole::kActive) {
      host_->SetActiveHint(nn.id);
      return;
    }
  }
  host_->SetActiveHint("");
}

void Checkpointer::StandbyStep() {
  const int64_t applied = host_->last_applied_txid();
  const int64_t now_ms = clock_->MonotonicNanos() / kNanosPerMilli;
  const int64_t behind = applied - host_->last_image_txid();
  if (behind <= 0) return;
  if (behind < opts_.checkpoint_txns &&
      now_ms - last_checkpoint_ms_ < opts_.checkpoint_period_s * 1000) {
    return;
  }
  Status st = host_->SaveCheckpoint();
  // A failed attempt also waits a whole period (unless checkpoint_txns are behind).
  last_checkpoint_ms_ = now_ms;
  if (!st.ok()) {
    LOG(WARNING) << opts_.namenode_id << ": checkpoint failed: " << st;
    return;
  }
  auto oldest = host_->PurgeImages(opts_.images_retained);
  if (!oldest.ok())
    LOG(WARNING) << opts_.namenode_id << ": purging old images: " << oldest.status();
}

void Checkpointer::ActiveStep() {
  const std::string& id = opts_.namenode_id;
  // 1. Pull a newer image from a peer (the standby takes the checkpoints).
  int64_t mine = host_->LatestImageTxId();
  for (const NamenodeInfo& nn : opts_.peers) {
    auto theirs = peers_->LatestImageTxId(nn);
    if (!theirs.ok() || *theirs <= mine) continue;
    Status st = peers_->Download(nn, *theirs);
    if (!st.ok()) {
      LOG(WARNING) << id << ": fetching image " << *theirs << " from " << nn.id << ": " << st;
      continue;
    }
    LOG(INFO) << id << ": fetched image at txid " << *theirs << " from " << nn.id;
    mine = *theirs;
    host_->ImageFetched(mine);
  }
  // 2. Keep the newest images; purge journal segments the oldest of them does not need.
  auto oldest = host_->PurgeImages(opts_.images_retained);
  if (!oldest.ok()) {
    LOG(WARNING) << id << ": purging old images: " << oldest.status();
    return;
  }
  const int64_t min_keep = *oldest - opts_.extra_edits_retained;
  if (*oldest < 0 || min_keep <= 1 || min_keep <= last_purge_txid_) return;
  auto purged = host_->PurgeEditsBelow(min_keep);
  if (!purged.ok()) {
    LOG(WARNING) << id << ": purging edits below txid " << min_keep << ": " << purged.status();
    return;
  }
  if (!*purged) return;  // no journal writer (no longer active)
  last_purge_txid_ = min_keep;
  LOG(INFO) << id << ": purged journal segments ending below txid " << min_keep;
}

}  // namespace qj::nn
