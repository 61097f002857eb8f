// NamenodeServer: the namenode's core, without RPC. It owns the namespace, the journal
// writer (while active), the tailer (while standby), the image directory and the
// checkpoint thread (Checkpointer, checkpointer.h), and decides what may be served.
//
// Write path (Mutate), group-committed:
//   1. refuse unless serving (HaState::CheckServing: active, not fenced, lease valid);
//   2. under the exclusive namespace lock: Prepare (validate, resolve) -> Apply ->
//      EditLog::Append (txid = next) -> build the answer;
//   3. release the lock; WaitCommitted(txid) (concurrent handlers share journal batches);
//   4. check serving again and answer. A failure after step 2 is reported as IO_ERROR
//      ("outcome unknown"), never as NOT_ACTIVE (clients retry NOT_ACTIVE elsewhere).
// A call with RetryIds is looked up in the retry cache (retry_cache.h) in step 2, under
// the same lock: if an earlier call with these ids made an edit, nothing is prepared or
// applied; the call waits for that edit to commit and gets its recorded answer. The ids
// go into the edit, and every edit with ids that this namenode applies (appends, tails,
// replays) is recorded, so the active after a failover answers the retry the same way.
// A failed Prepare still waits for the last applied txid to commit before answering, so
// that an error never reveals an uncommitted change.
//
// Read path (Read): under the shared lock run the read and note the last applied txid;
// release; WaitCommitted(that txid); then, in manual mode (no lease deadline) and with
// options.read_barrier, also commit a journal barrier (a NOOP edit, shared by concurrent
// readers) appended after the read: if a newer active exists, a majority has promised it
// a newer epoch and the barrier fails, so a deposed active never answers from stale
// state. With a lease, the lease deadline gives the same guarantee. Check serving again,
// answer.
//
// Consistent reads on the standby (HDFS-12943): a read with min_txid > 0 may be served
// by a standby that is tailing (not while it changes roles or after a tail error). It
// waits up to standby_read_wait_ms until it has applied min_txid, then reads under the
// shared lock; everything a tailing standby applied is committed, so it never reveals an
// uncommitted edit. Every read answer says which txid it was read at (served_txid), so a
// client that passes the highest one it has seen reads its own writes (after an msync or
// a read from the active) and never goes back in time, whichever namenode answers.
//
// Journal failure: the writer fails (fenced by a newer epoch, majority lost) -> HaState
// is fenced at once (every call refused, monitorHealth fails) and the in-memory namespace,
// which may hold applied-but-uncommitted edits, is marked stale: the next transition
// reloads it from the newest image plus committed edits.
//
// Roles: Start() loads the newest valid image and becomes STANDBY (tailing).
// TransitionToActive: stop tailing, open the writer (new epoch + recovery), open a
// segment and, at the same time, apply the committed edits the tailer had not read yet
// (none when the tailer applied through the recovered log's end: then no read at all;
// otherwise on the tailer's own reader and connections), serve. TransitionToStandby: stop
// serving, finalize the segment, tail again; the finalized writer is closed on a thread of
// its own (its final heartbeats), which nothing waits for but Stop().
//
// Thread-safety: thread-safe. Lock order: transition_mu_ -> ns_mu_ -> HaState's mutex.
// No lock is held across a journal wait (WaitCommitted) except the rare segment roll.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/cluster_config.h"
#include "common/file_ops.h"
#include "common/metrics.h"
#include "common/mutex.h"
#include "common/rpc/rpc.h"
#include "common/status.h"
#include "journalnode/client/quorum_writer.h"
#include "namenode/checkpointer.h"
#include "namenode/edit_log.h"
#include "namenode/fs_status.h"
#include "namenode/ha_state.h"
#include "namenode/namespace.h"
#include "namenode/retry_cache.h"
#include "namenode/tailer.h"

namespace qj::nn {

struct NamenodeOptions {
  std::string namenode_id;  // "nn1"
  ClusterConfig cluster;
  std::string name_dir;
  NamespaceOptions ns_options;  // superuser, namespace id, ...
  // Journal client settings (journalnodes and journal id filled from the cluster file).
  jn::QuorumOptions quorum;
  int64_t segment_txns = 100000;
  int64_t checkpoint_txns = 100000;
  int64_t checkpoint_period_s = 600;
  int images_retained = 2;
  int64_t extra_edits_retained = 1000000;
  // How often the checkpoint thread looks at its work (and the active asks the standby
  // for new images).
  int64_t checkpoint_check_interval_ms = 1000;
  bool read_barrier = true;
  // How long a client call waits for its edit to commit before answering IO_ERROR.
  int64_t commit_timeout_ms = 30000;
  // Bounds of the retry cache (retry_cache.h); max_entries = 0 turns it off.
  RetryCacheOptions retry_cache;
  Clock* clock = RealClock::Get();
  // Every image file (save, load, purge, serve, download) goes through this.
  FileOps* file_ops = FileOps::Posix();
  // This namenode's client side of TLS (to its peer namenode; the journal's is
  // quorum.tls).
  rpc::TlsOptions tls;
  // How long a standby's tailer that found nothing new waits before it asks again. A
  // standby that has not read from a journal majority for health.journal_stall_ms is
  // unhealthy: keep this well below that bound.
  int64_t tail_poll_ms = 10;
  // Test only: a transition to active waits this long before it starts serving (models a
  // slow catch-up or journal). 0 in production.
  int64_t test_activation_delay_ms = 0;
  // A client call that arrives while this namenode is becoming active waits up to this
  // long for the transition to end, instead of NOT_ACTIVE at once (HaState::
  // WaitWhileActivating). 0: refuse at once. Keep it below the clients' attempt timeout.
  int64_t activation_hold_ms = 1000;
  // Serve reads with min_txid > 0 while standby (see the header comment), waiting at most
  // standby_read_wait_ms for the tailer to reach min_txid.
  bool standby_reads = true;
  int64_t standby_read_wait_ms = 200;
  // Test only: the first mutation on a path containing test_stall_before_marker sleeps
  // test_stall_ms before it runs; one containing test_stall_after_marker, after it is
  // committed and before it answers (a client timeout then cuts it at that step). Empty:
  // off (production).
  std::string test_stall_before_marker;
  std::string test_stall_after_marker;
  int64_t test_stall_ms = 0;
};

// The outcome of a client call: a namespace failure (fs) or a server failure (server:
// NotActive, IOError, TimedOut, ...). At most one is not OK.
struct CallStatus {
  FsStatus fs;
  Status server;
  bool ok() const { return fs.ok() && server.ok(); }
  static CallStatus Server(Status s) { return CallStatus{FsStatus::OK(), std::move(s)}; }
  static CallStatus Fs(FsStatus s) { return CallStatus{std::move(s), Status::OK()}; }
};

// What the client-call path counts, for the namenode's /metrics (namenode_web.cc).
struct NamenodeCounters {
  // Client calls by operation ("mkdirs", ...) and result ("ok", an FsError name such as
  // "NotFound", or a server status code such as "NotActive").
  metrics::Family<metrics::Counter> ops{"qj_namenode_operations_total", "", {"op", "result"}, [] {
                                          return std::make_unique<metrics::Counter>();
                                        }};
  // How long a call waited for its edit (or the state it read) to commit on a majority.
  metrics::Histogram commit_seconds{metrics::ExponentialBuckets(0.0001, 2, 16)};
  // Client calls that arrived while the namenode was becoming active and waited for the
  // transition to end (activation_hold_ms).
  metrics::Counter activation_holds;
};

// The journal writer as the active sees it (open == false on a standby).
struct WriterView {
  bool open = false;
  int64_t epoch = 0;
  int64_t last_txid = 0;
  int64_t committed_txid = 0;
  jn::WriterStats stats;
};

struct NamenodeStatus {
  HaRole role = HaRole::kInitializing;
  std::string namenode_id;
  bool ready_to_become_active = false;
  std::string not_ready_reason;
  int64_t last_applied_txid = 0;
  int64_t epoch = 0;
  std::string active_hint;
  int64_t lease_deadline_mono_ns = 0;
};

class NamenodeServer {
 public:
  explicit NamenodeServer(NamenodeOptions opts);
  ~NamenodeServer();
  NamenodeServer(const NamenodeServer&) = delete;
  NamenodeServer& operator=(const NamenodeServer&) = delete;

  // Loads the newest valid image (NotFound: the name dir has none: format or bootstrap
  // first), starts tailing as STANDBY and the checkpoint thread.
  Status Start();
  // Stops serving; if active, finalizes the open segment; stops every thread. Idempotent.
  void Stop();

  // ---- HA ----
  NamenodeStatus GetStatus() const;
  // OK when healthy; the reason otherwise (fenced, tailer failed, stopping, or cut from
  // the journal: active with an edit a majority has not acknowledged for longer than
  // cluster.health_journal_stall_ms, or standby with no successful read from a majority
  // for that long). failoverd demotes an unhealthy active and never promotes an unhealthy
  // standby, so a namenode cut from the journalnodes is replaced within that bound.
  Status CheckHealth() const;
  Status TransitionToActive(int64_t lease_deadline_mono_ns);
  Status TransitionToStandby();
  Status RenewLease(int64_t lease_deadline_mono_ns) {
    return ha_.RenewLease(lease_deadline_mono_ns);
  }

  // ---- Client calls ----
  // prepare: validates and resolves against the namespace (no change).
  // ids: the call's RetryIds, empty for none (then the call is not cached).
  // *outcome (may be null): on success, the answer of the edit the call made, or of the
  // earlier call with the same ids (outcome->txid == 0: the call made no edit).
  using PrepareFn =
      std::function<FsResult<std::optional<Edit>>(const FsNamespace& ns, int64_t now_ms)>;
  using ReadFn = std::function<FsStatus(const FsNamespace& ns)>;
  // Both count the call in counters() by `what` and result.
  CallStatus Mutate(const char* what, const RetryIds& ids, const PrepareFn& prepare,
                    RetryOutcome* outcome);
  // min_txid > 0: a consistent read a standby may serve (header comment). *served_txid
  // (may be null): the txid of the state that was read, when it ran.
  CallStatus Read(const char* what, int64_t min_txid, const ReadFn& read,
                  int64_t* served_txid = nullptr);
  // msync: on the active, a txid covering every write answered so far by any namenode
  // (checked as a read: the active must still be the active).
  Result<int64_t> Msync();

  // ---- Images (served to the peer and to bootstrap) ----
  // Txid of the newest image in the name dir, -1 if none.
  int64_t LatestImageTxId() const;
  // Up to max_bytes of image `txid` from offset; empty at the end. NotFound if missing.
  Status ReadImageChunk(int64_t txid, int64_t offset, int32_t max_bytes, std::string* out) const;
  // Saves an image of the current namespace at the last applied txid (standby or
  // stopped roles only: the active's namespace may hold uncommitted edits).
  Status SaveCheckpoint();

  // ---- Figures for the status pages and /metrics ----
  const NamenodeCounters& counters() const { return counters_; }
  WriterView GetWriterView() const;
  int64_t inode_count() const;
  int64_t last_image_txid() const { return last_image_txid_.load(); }

  // ---- Administration (qjadmin; admin.cc) ----
  // Writes an image at the last applied txid now and returns that txid (no new file when
  // the newest image is already at it). On the active, mutations wait (exclusive lock)
  // until every applied edit is committed and the image is written: an image never holds
  // an uncommitted edit. Refused while the namespace is stale (journal failed).
  Result<int64_t> SaveNamespace();
  // Active and serving only: finalizes the open segment and opens the next one; returns
  // its first txid. A journal failure fences this namenode, as in Mutate.
  Result<int64_t> RollEdits();
  struct AdminReport {
    NamenodeStatus status;
    int64_t last_written_txid = -1;  // -1 unless active
    int64_t committed_txid = -1;     // -1 unless active
    int64_t image_txid = -1;
    int64_t image_age_ms = -1;  // -1: no image
    int64_t inode_count = 0;
  };
  AdminReport GetAdminReport() const;

  const NamenodeOptions& options() const { return opts_; }
  Clock* clock() const { return opts_.clock; }

 private:
  CallStatus DoMutate(const char* what, const RetryIds& ids, const PrepareFn& prepare,
                      RetryOutcome* outcome);
  CallStatus DoRead(const char* what, const ReadFn& read, int64_t* served_txid);
  CallStatus DoStandbyRead(const char* what, int64_t min_txid, const ReadFn& read,
                           int64_t* served_txid);
  // Wakes standby reads waiting for the tailer.
  void PublishApplied(int64_t txid);
  void CountCall(const char* what, const CallStatus& st);

  // Applies committed records (tailer, catch-up) under the exclusive lock.
  Status ApplyRecords(const std::vector<EditRecord>& batch);
  // Replaces the namespace with the newest valid image. No tailer may run.
  Status ReloadFromImage() REQUIRES(transition_mu_);
  // Fences this namenode because the journal failed.
  void OnJournalFailure(const Status& why);
  // Commits a barrier after a read that saw txid `seen` (see the header comment).
  Status ReadBarrier(const std::shared_ptr<EditLog>& log, int64_t seen);
  // The writer to serve with, or NotActive: the role or lease forbids serving, there is no
  // writer, or it failed (then recorded via OnJournalFailure).
  Result<std::shared_ptr<EditLog>> ServingLogLocked() REQUIRES_SHARED(ns_mu_);
  void StartTailing() REQUIRES(transition_mu_);
  // Also requires an activation begun in HaState.
  Status BecomeActiveLocked() REQUIRES(transition_mu_);
  void BecomeStandbyLocked() REQUIRES(transition_mu_);
  // Closes `log` (a writer taken from the handlers) on a thread of its own; joins the
  // earlier ones that have ended.
  void CloseInBackground(std::shared_ptr<EditLog> log) REQUIRES(transition_mu_);
  // Unavailable when the writer's oldest edit not acknowledged by a majority is older than
  // the stall bound (the journalnodes are cut off or hung); OK otherwise.
  Status CheckJournalStall(const EditLog& log) const;
  // A client call's first step: while a transition to active is under way, wait for it
  // to end (up to opts_.activation_hold_ms). Takes no lock of this class.
  void HoldWhileActivating();

  // The Checkpointer's view of this namenode (namenode_server.cc).
  class CheckpointAdapter;

  const NamenodeOptions opts_;
  const std::string id_;
  HaState ha_;

  // Serializes transitions, Start/Stop, image installs. Acquired before ns_mu_ and
  // HaState's mutex.
  Mutex transition_mu_;
  std::unique_ptr<Tailer> tailer_ GUARDED_BY(transition_mu_);

  // Guards ns_, last_applied_txid_, retry_cache_ and appends to edit_log_.
  mutable SharedMutex ns_mu_ ACQUIRED_AFTER(transition_mu_);
  std::unique_ptr<FsNamespace> ns_ GUARDED_BY(ns_mu_) PT_GUARDED_BY(ns_mu_);
  int64_t last_applied_txid_ GUARDED_BY(ns_mu_) = 0;
  // Holds outcomes of edits in ns_ only: cleared whenever ns_ is replaced.
  RetryCache retry_cache_ GUARDED_BY(ns_mu_);
  // The writer while active; handlers keep a copy across their commit wait.
  std::shared_ptr<EditLog> edit_log_ GUARDED_BY(ns_mu_);
  // True when ns_ may hold edits that were never committed (the journal failed).
  std::atomic<bool> ns_stale_{false};
  std::atomic<int64_t> epoch_{0};
  NamenodeCounters counters_;

  // For standby reads: true only while tailing (ns_ then holds committed edits only);
  // applied_txid_ mirrors last_applied_txid_ for waiters on applied_cv_.
  std::atomic<bool> standby_reads_ok_{false};
  std::atomic<int64_t> applied_txid_{0};
  Mutex applied_mu_;
  CondVar applied_cv_;
  // When the running tailer last read from a majority (clock_ monotonic ns); 0 while no
  // tailer runs (active, activating, stopping).
  std::atomic<int64_t> tail_read_ok_ns_{0};

  // Why the last tailer stopped (an edit that does not decode or apply); OK otherwise.
  mutable Mutex health_mu_;
  Status tail_error_ GUARDED_BY(health_mu_);

  // Writers being closed in the background (BecomeStandbyLocked: a finalized writer's final
  // heartbeats, or a writer the journal majority stopped acknowledging, whose close waits
  // for its last call to time out); `done` is set when the close returned. Joined once
  // done by the next CloseInBackground, and all by Stop().
  struct BackgroundClose {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::vector<BackgroundClose> closers_ GUARDED_BY(transition_mu_);
  // The newest image saved, loaded or fetched (-1: none).
  std::atomic<int64_t> last_image_txid_{-1};
  bool stopped_ GUARDED_BY(transition_mu_) = false;

  // The checkpoint thread and what it sees: built by Start() (under transition_mu_),
  // stopped by Stop() after transition_mu_ is released (a step takes ns_mu_), destroyed
  // with this object (the checkpointer first).
  std::unique_ptr<CheckpointAdapter> cp_host_;
  std::unique_ptr<RpcPeerImages> cp_peers_;
  std::unique_ptr<Checkpointer> checkpointer_;
};

}  // namespace qj::nn
