// The namenode's checkpoint thread (Checkpointer), and image transfer between namenodes
// (checkpoint sharing and --bootstrap_standby).
//
// Checkpointer: every `check_interval_ms` (timed on its Clock) it does one step by role:
//   STANDBY  asks the peers which of them is active (CheckpointHost::SetActiveHint), then
//            saves a checkpoint when the image lags the applied txid by `checkpoint_txns`
//            or more, or by any amount once `checkpoint_period_s` has passed since the last
//            attempt (a failed save waits a whole period too), and keeps `images_retained`
//            images;
//   ACTIVE   pulls each peer's newer image (the standby takes the checkpoints), keeps
//            `images_retained` images, and purges journal segments below the oldest kept
//            image's txid minus `extra_edits_retained` (once per such txid);
//   else     nothing.
// It sees its namenode through CheckpointHost and the peers through PeerImages, so a test
// drives it with test doubles and a fake clock (RunOnce, or the thread and Clock moves).
//
// Thread-safety: Checkpointer is thread-safe (steps are serialized); Start() once,
// Stop() (or the destructor) joins the thread. Host and peers are called from the
// stepping thread only, one call at a time. The free functions are safe to call
// concurrently on different directories.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/cluster_config.h"
#include "common/file_ops.h"
#include "common/mutex.h"
#include "common/periodic_worker.h"
#include "common/rpc/rpc.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "namenode/ha_state.h"

namespace qj::nn {

// The newest image txid a namenode holds (-1: none). NetworkError if unreachable; a
// server's FsException keeps its code (rpc::FsErrors()).
Result<int64_t> PeerLatestImageTxId(const HostPort& peer, int64_t timeout_ms,
                                    const rpc::TlsOptions& tls);

// Downloads image `txid` from `peer` into dir/fsimage_<txid>: to a temp file, verified
// (VerifyImageFile: every CRC, the header's txid), fsynced, renamed, dir fsynced. Never
// leaves a partial image under the final name. Files go through `fs`. NotFound if the
// peer has no image at `txid` (its FsException's code, through rpc::FsErrors()).
Status DownloadImage(const HostPort& peer, int64_t txid, const std::string& dir, int64_t timeout_ms,
                     const rpc::TlsOptions& tls, FileOps* fs = FileOps::Posix());

// The HA role a namenode reports (getServiceStatus). NetworkError if unreachable.
Result<HaRole> PeerHaRole(const HostPort& peer, int64_t timeout_ms, const rpc::TlsOptions& tls);

// What the Checkpointer needs of its own namenode (NamenodeServer implements it).
class CheckpointHost {
 public:
  virtual ~CheckpointHost() = default;
  virtual HaRole role() const = 0;
  virtual int64_t last_applied_txid() const = 0;
  // The txid of the newest image this namenode saved, loaded or fetched (-1: none).
  virtual int64_t last_image_txid() const = 0;
  // The newest image in the name dir, read from the directory (-1: none).
  virtual int64_t LatestImageTxId() const = 0;
  // Saves an image at the last applied txid (NamenodeServer::SaveCheckpoint).
  virtual Status SaveCheckpoint() = 0;
  // Records that an image at `txid` was fetched into the name dir.
  virtual void ImageFetched(int64_t txid) = 0;
  // Keeps the newest `retain` images; the oldest kept txid (-1: none). See PurgeImages.
  virtual Result<int64_t> PurgeImages(int retain) = 0;
  // Purges journal segments ending below `txid` (EditLog::Purge) when this namenode holds
  // the journal writer: true; false (nothing done) when it holds none.
  virtual Result<bool> PurgeEditsBelow(int64_t txid) = 0;
  // The id of the namenode believed active ("" for none known).
  virtual void SetActiveHint(const std::string& id) = 0;
};

// What the Checkpointer needs of its peers (RpcPeerImages below: over ClientProtocol).
class PeerImages {
 public:
  virtual ~PeerImages() = default;
  // The newest image txid `peer` holds (-1: none).
  virtual Result<int64_t> LatestImageTxId(const NamenodeInfo& peer) = 0;
  // Fetches image `txid` of `peer` into this namenode's name dir (as DownloadImage).
  virtual Status Download(const NamenodeInfo& peer, int64_t txid) = 0;
  virtual Result<HaRole> Role(const NamenodeInfo& peer) = 0;
};

// PeerImages over ClientProtocol: PeerLatestImageTxId (2 s timeout), DownloadImage
// (30 s per call) into `name_dir` through `fs`, PeerHaRole (500 ms).
class RpcPeerImages final : public PeerImages {
 public:
  RpcPeerImages(std::string name_dir, rpc::TlsOptions tls, FileOps* fs);
  Result<int64_t> LatestImageTxId(const NamenodeInfo& peer) override;
  Status Download(const NamenodeInfo& peer, int64_t txid) override;
  Result<HaRole> Role(const NamenodeInfo& peer) override;

 private:
  const std::string name_dir_;
  const rpc::TlsOptions tls_;
  FileOps* const fs_;
};

struct CheckpointerOptions {
  std::string namenode_id;  // in log lines
  // The other namenodes, in the cluster file's order.
  std::vector<NamenodeInfo> peers;
  int64_t checkpoint_txns = 100000;
  int64_t checkpoint_period_s = 600;
  int images_retained = 2;
  int64_t extra_edits_retained = 1000000;
  int64_t check_interval_ms = 1000;
};

class Checkpointer {
 public:
  // `host`, `peers` and `clock` must outlive this object. The checkpoint period counts
  // from construction (the namenode builds it once its image is loaded).
  Checkpointer(CheckpointerOptions opts, CheckpointHost* host, PeerImages* peers,
               const Clock* clock);
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Starts the thread ("nn-checkpoint"): a step every check_interval_ms of the clock, the
  // first one interval after Start().
  void Start();
  // Ends the wait at once, waits for a step in progress to end, joins. Idempotent.
  void Stop();

  // One step, by the host's role (the header comment). The thread calls it; a test may
  // call it instead of starting the thread.
  void RunOnce() EXCLUDES(step_mu_);

  // The clock time (MonotonicNanos) of the thread's next step; 0 while a step runs or
  // before Start().
  int64_t next_step_due() const;
  // Steps run so far (by the thread or RunOnce).
  int64_t steps() const EXCLUDES(step_mu_);
  // The txid below which the journal was last purged (0: never).
  int64_t last_purge_txid() const EXCLUDES(step_mu_);

 private:
  void PollPeerRoles() REQUIRES(step_mu_);
  void StandbyStep() REQUIRES(step_mu_);
  void ActiveStep() REQUIRES(step_mu_);

  const CheckpointerOptions opts_;
  CheckpointHost* const host_;
  PeerImages* const peers_;
  const Clock* const clock_;

  // Serializes steps; acquired after nothing.
  mutable Mutex step_mu_;
  // When the last checkpoint was attempted (or the object built), clock milliseconds.
  int64_t last_checkpoint_ms_ GUARDED_BY(step_mu_);
  int64_t last_purge_txid_ GUARDED_BY(step_mu_) = 0;
  int64_t steps_ GUARDED_BY(step_mu_) = 0;

  // The thread ("nn-checkpoint"): RunOnce every check_interval_ms. Last, so that it is
  // stopped before what its steps use goes.
  PeriodicWorker worker_;
};

}  // namespace qj::nn
