// The checkpoint thread of NamenodeServer, and image transfer between namenodes.
#include "namenode/checkpointer.h"

#include <glog/logging.h>
#include <pthread.h>
#include <thrift/transport/TTransportException.h>

#include <cstdio>

#include "ClientProtocol.h"
#include "common/file_ops.h"
#include "common/progress.h"
#include "common/rpc/rpc.h"
#include "common/thrift_transport.h"
#include "namenode/image.h"
#include "namenode/namenode_server.h"

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
    return Status::IOError(peer.ToString() + ": latestImageTxId: " + e.message);
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
    return fail(Status::IOError(peer.ToString() + ": fetchImage " + std::to_string(txid) + ": " +
                                e.message));
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

// ---------------------------------------------------------------------------------------
// NamenodeServer's checkpoint thread.

void NamenodeServer::CheckpointLoop() {
  pthread_setname_np(pthread_self(), "nn-checkpoint");
  while (true) {
    {
      MutexLock l(&cp_mu_);
      cp_cv_.WaitFor(&cp_mu_, std::chrono::milliseconds(opts_.checkpoint_check_interval_ms),
                     [this]() REQUIRES(cp_mu_) { return cp_stop_; });
      if (cp_stop_) return;
    }
    HaRole role = ha_.role();
    if (role == HaRole::kStandby) {
      PollPeerRole();
      StandbyCheckpointStep();
    } else if (role == HaRole::kActive) {
      ActivePullAndPurgeStep();
    }
  }
}

void NamenodeServer::PollPeerRole() {
  for (const NamenodeInfo& nn : opts_.cluster.namenodes) {
    if (nn.id == id_) continue;
    try {
      PeerConn c(nn.rpc(), 500, opts_.tls);
      th::HAServiceStatus s;
      c.Open()->getServiceStatus(s);
      if (s.state == th::HAServiceState::ACTIVE) {
        ha_.set_active_hint(nn.id);
        return;
      }
    } catch (const apache::thrift::TException&) {
      // Unreachable peer: no hint from it.
    }
  }
  ha_.set_active_hint("");
}

void NamenodeServer::StandbyCheckpointStep() {
  int64_t applied;
  {
    ReaderMutexLock l(&ns_mu_);
    applied = last_applied_txid_;
  }
  const int64_t now_ms = opts_.clock->MonotonicNanos() / kNanosPerMilli;
  const int64_t behind = applied - last_image_txid_.load();
  if (behind <= 0) return;
  if (behind < opts_.checkpoint_txns &&
      now_ms - last_checkpoint_ms_ < opts_.checkpoint_period_s * 1000) {
    return;
  }
  Status st = SaveCheckpoint();
  last_checkpoint_ms_ = now_ms;
  if (!st.ok()) {
    LOG(WARNING) << id_ << ": checkpoint failed: " << st;
    return;
  }
  auto oldest = PurgeImages(opts_.name_dir, opts_.images_retained, opts_.file_ops);
  if (!oldest.ok()) LOG(WARNING) << id_ << ": purging old images: " << oldest.status();
}

void NamenodeServer::ActivePullAndPurgeStep() {
  // 1. Pull a newer image from a peer (the standby takes the checkpoints).
  int64_t mine = LatestImageTxId();
  for (const NamenodeInfo& nn : opts_.cluster.namenodes) {
    if (nn.id == id_) continue;
    auto theirs = PeerLatestImageTxId(nn.rpc(), 2000, opts_.tls);
    if (!theirs.ok() || *theirs <= mine) continue;
    Status st = DownloadImage(nn.rpc(), *theirs, opts_.name_dir, 30000, opts_.tls, opts_.file_ops);
    if (!st.ok()) {
      LOG(WARNING) << id_ << ": fetching image " << *theirs << " from " << nn.id << ": " << st;
      continue;
    }
    LOG(INFO) << id_ << ": fetched image at txid " << *theirs << " from " << nn.id;
    mine = *theirs;
    last_image_txid_ = mine;
  }
  // 2. Keep the newest images; purge journal segments the oldest of them does not need.
  auto oldest = PurgeImages(opts_.name_dir, opts_.images_retained, opts_.file_ops);
  if (!oldest.ok()) {
    LOG(WARNING) << id_ << ": purging old images: " << oldest.status();
    return;
  }
  const int64_t min_keep = *oldest - opts_.extra_edits_retained;
  if (*oldest < 0 || min_keep <= 1 || min_keep <= last_purge_txid_) return;
  std::shared_ptr<EditLog> log;
  {
    ReaderMutexLock l(&ns_mu_);
    log = edit_log_;
  }
  if (log == nullptr) return;
  Status st = log->Purge(min_keep);
  if (!st.ok()) {
    LOG(WARNING) << id_ << ": purging edits below txid " << min_keep << ": " << st;
    return;
  }
  last_purge_txid_ = min_keep;
  LOG(INFO) << id_ << ": purged journal segments ending below txid " << min_keep;
}

}  // namespace qj::nn
