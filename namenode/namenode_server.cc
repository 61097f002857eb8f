#include "namenode/namenode_server.h"

#include <fcntl.h>
#include <glog/logging.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "common/file_util.h"
#include "namenode/image.h"

namespace qj::nn {

namespace {

// "1234 edits in 321 batches (3.8 per batch)", for the logs when a writer closes.
std::string DescribeWriterStats(const jn::WriterStats& w) {
  char buf[128];
  snprintf(buf, sizeof(buf), "%lld edits in %lld batches (%.1f per batch)",
           static_cast<long long>(w.edits), static_cast<long long>(w.batches),
           w.batches > 0 ? static_cast<double>(w.edits) / static_cast<double>(w.batches) : 0.0);
  return buf;
}

// How long ago the oldest edit not yet on a majority was appended: the majority-th
// smallest per-journalnode lag, a journalnode outside the pipeline lagging forever.
int64_t UncommittedAgeMs(const jn::WriterStats& w) {
  std::vector<int64_t> lag;
  for (size_t i = 0; i < w.lag_ms.size() && i < w.in_pipeline.size(); ++i) {
    lag.push_back(w.in_pipeline[i] ? w.lag_ms[i] : INT64_MAX);
  }
  if (lag.empty()) return 0;
  std::sort(lag.begin(), lag.end());
  return lag[lag.size() / 2];  // index majority - 1
}

}  // namespace

// The Checkpointer's view of a NamenodeServer (checkpointer.h, CheckpointHost).
class NamenodeServer::CheckpointAdapter final : public CheckpointHost {
 public:
  explicit CheckpointAdapter(NamenodeServer* s) : s_(s) {}
  HaRole role() const override { return s_->ha_.role(); }
  int64_t last_applied_txid() const override {
    ReaderMutexLock l(&s_->ns_mu_);
    return s_->last_applied_txid_;
  }
  int64_t last_image_txid() const override { return s_->last_image_txid_.load(); }
  int64_t LatestImageTxId() const override { return s_->LatestImageTxId(); }
  Status SaveCheckpoint() override { return s_->SaveCheckpoint(); }
  void ImageFetched(int64_t txid) override { s_->last_image_txid_ = txid; }
  Result<int64_t> PurgeImages(int retain) override {
    return ::qj::nn::PurgeImages(s_->opts_.name_dir, retain, s_->opts_.file_ops);
  }
  Result<bool> PurgeEditsBelow(int64_t txid) override {
    std::shared_ptr<EditLog> log;
    {
      ReaderMutexLock l(&s_->ns_mu_);
      log = s_->edit_log_;
    }
    if (log == nullptr) return false;
    QJ_RETURN_IF_ERROR(log->Purge(txid));
    return true;
  }
  void SetActiveHint(const std::string& id) override { s_->ha_.set_active_hint(id); }

 private:
  NamenodeServer* const s_;
};

NamenodeServer::NamenodeServer(NamenodeOptions opts)
    : opts_(std::move(opts)),
      id_(opts_.namenode_id),
      ha_(opts_.namenode_id, opts_.clock),
      retry_cache_(opts_.retry_cache) {}

NamenodeServer::~NamenodeServer() { Stop(); }

Status NamenodeServer::Start() {
  MutexLock t(&transition_mu_);
  // Nothing saves an image yet: a temp image now is an interrupted save's.
  if (Status st = RemoveLeftoverImageTemps(opts_.name_dir, opts_.file_ops);
      !st.ok() && !st.IsNotFound()) {
    return st.Prepend(id_ + ": " + opts_.name_dir);
  }
  auto loaded = LoadNewestValidImage(opts_.name_dir, opts_.ns_options, opts_.file_ops);
  if (!loaded.ok()) {
    if (loaded.status().IsNotFound()) {
      return Status::NotFound(id_ + ": no image in " + opts_.name_dir +
                              ": run `namenode --format` (first namenode) or "
                              "`namenode --bootstrap_standby` (the other)");
    }
    return loaded.status().Prepend(id_ + ": loading an image from " + opts_.name_dir);
  }
  LOG(INFO) << id_ << ": loaded image at txid " << loaded->txid << " (" << loaded->ns->inode_count()
            << " inodes)";
  {
    WriterMutexLock l(&ns_mu_);
    ns_ = std::move(loaded->ns);
    last_applied_txid_ = loaded->txid;
    retry_cache_.Clear();
  }
  last_image_txid_ = loaded->txid;
  ha_.SetRole(HaRole::kStandby);
  StartTailing();
  CheckpointerOptions co;
  co.namenode_id = id_;
  for (const NamenodeInfo& nn : opts_.cluster.namenodes) {
    if (nn.id != id_) co.peers.push_back(nn);
  }
  co.checkpoint_txns = opts_.checkpoint_txns;
  co.checkpoint_period_s = opts_.checkpoint_period_s;
  co.images_retained = opts_.images_retained;
  co.extra_edits_retained = opts_.extra_edits_retained;
  co.check_interval_ms = opts_.checkpoint_check_interval_ms;
  cp_host_ = std::make_unique<CheckpointAdapter>(this);
  cp_peers_ = std::make_unique<RpcPeerImages>(opts_.name_dir, opts_.tls, opts_.file_ops);
  checkpointer_ =
      std::make_unique<Checkpointer>(std::move(co), cp_host_.get(), cp_peers_.get(), opts_.clock);
  checkpointer_->Start();
  return Status::OK();
}

void NamenodeServer::Stop() {
  {
    MutexLock t(&transition_mu_);
    if (stopped_) return;
    stopped_ = true;
    const bool was_active = ha_.role() == HaRole::kActive;
    ha_.SetRole(HaRole::kStopping);
    std::shared_ptr<EditLog> log;
    {
      WriterMutexLock l(&ns_mu_);
      log = std::move(edit_log_);
    }
    if (log != nullptr) {
      Status st = log->Finalize();
      if (!st.ok()) LOG(WARNING) << id_ << ": finalizing the segment at shutdown: " << st;
      log->Close();
      LOG(INFO) << id_ << ": journal writer closed: " << DescribeWriterStats(log->stats());
    }
    standby_reads_ok_ = false;
    applied_cv_.SignalAll();
    if (tailer_ != nullptr) tailer_->Stop();
    tail_read_ok_ns_ = 0;
    for (BackgroundClose& c : closers_) c.thread.join();
    closers_.clear();
    LOG(INFO) << id_ << ": stopped" << (was_active ? " (was active)" : "");
  }
  if (checkpointer_ != nullptr) checkpointer_->Stop();
}

// ---------------------------------------------------------------------------------------
// HA

NamenodeStatus NamenodeServer::GetStatus() const {
  NamenodeStatus s;
  s.role = ha_.role();
  s.namenode_id = id_;
  Status health = CheckHealth();
  s.ready_to_become_active = health.ok() && s.role != HaRole::kStopping;
  if (!health.ok()) s.not_ready_reason = health.ToString();
  {
    ReaderMutexLock l(&ns_mu_);
    s.last_applied_txid = last_applied_txid_;
  }
  s.epoch = epoch_.load();
  s.active_hint = ha_.active_hint();
  s.lease_deadline_mono_ns = ha_.lease_deadline();
  return s;
}

Status NamenodeServer::CheckHealth() const {
  HaRole role = ha_.role();
  if (role == HaRole::kStopping) return Status::Unavailable(id_ + " is stopping");
  if (role == HaRole::kInitializing) return Status::Unavailable(id_ + " is initializing");
  QJ_RETURN_IF_ERROR(ha_.fence_status());
  {
    MutexLock l(&health_mu_);
    if (!tail_error_.ok()) return tail_error_.Prepend(id_ + ": tailing stopped");
  }
  if (ns_stale_.load()) {
    return Status::IllegalState(id_ + ": namespace must be reloaded after a journal failure");
  }
  {
    ReaderMutexLock l(&ns_mu_);
    if (edit_log_ != nullptr) {
      QJ_RETURN_IF_ERROR(edit_log_->health());
      QJ_RETURN_IF_ERROR(CheckJournalStall(*edit_log_));
    }
  }
  const int64_t read_ok = tail_read_ok_ns_.load();
  if (role == HaRole::kStandby && read_ok != 0) {
    const int64_t ms = (opts_.clock->MonotonicNanos() - read_ok) / kNanosPerMilli;
    if (ms > opts_.cluster.health_journal_stall_ms) {
      return Status::Unavailable(id_ + ": no read from a journal majority for " +
                                 std::to_string(ms) + " ms (bound " +
                                 std::to_string(opts_.cluster.health_journal_stall_ms) + " ms)");
    }
  }
  return Status::OK();
}

Status NamenodeServer::CheckJournalStall(const EditLog& log) const {
  const int64_t age = UncommittedAgeMs(log.stats());
  if (age <= opts_.cluster.health_journal_stall_ms) return Status::OK();
  return Status::Unavailable(id_ + ": the oldest edit not acknowledged by a journal majority is " +
                             std::to_string(age) + " ms old (bound " +
                             std::to_string(opts_.cluster.health_journal_stall_ms) + " ms)");
}

Status NamenodeServer::TransitionToActive(int64_t lease_deadline_mono_ns) {
  MutexLock t(&transition_mu_);
  if (stopped_) return Status::Unavailable(id_ + " is stopping");
  if (ha_.role() == HaRole::kActive) {
    if (ha_.fence_status().ok() && !ns_stale_.load()) {
      // Already active: only the lease changes.
      return ha_.RenewLease(lease_deadline_mono_ns);
    }
    LOG(WARNING) << id_ << ": transitionToActive while fenced: stepping down first";
    BecomeStandbyLocked();
  }
  // The transition may outlast the lease it was won with: renewals that arrive meanwhile
  // are recorded, and the newest one is installed when it completes (HaState).
  ha_.BeginActivation(lease_deadline_mono_ns);
  Status st = BecomeActiveLocked();
  if (!st.ok()) ha_.CancelActivation();
  return st;
}

Status NamenodeServer::TransitionToStandby() {
  MutexLock t(&transition_mu_);
  if (stopped_) return Status::Unavailable(id_ + " is stopping");
  if (ha_.role() == HaRole::kStandby && !ns_stale_.load()) return Status::OK();
  BecomeStandbyLocked();
  return Status::OK();
}

Status NamenodeServer::BecomeActiveLocked() {
  LOG(INFO) << id_ << ": becoming active";
  // Step times for the log line that ends the transition (docs/PERFORMANCE.md).
  const int64_t t_begin = opts_.clock->MonotonicNanos();
  standby_reads_ok_ = false;
  applied_cv_.SignalAll();
  // 1. Stop tailing; everything it applied is committed.
  bool tail_failed = false;
  if (tailer_ != nullptr) {
    tailer_->Stop();
    tail_read_ok_ns_ = 0;
    tail_failed = !tailer_->health().ok();
  }
  const int64_t t_tail_stopped = opts_.clock->MonotonicNanos();
  // 2. A namespace that may hold uncommitted edits (or that a bad edit stopped) is
  //    rebuilt from the newest image.
  if (ns_stale_.load() || tail_failed) {
    Status st = ReloadFromImage();
    if (!st.ok()) {
      StartTailing();
      return st;
    }
  }
  // 3. Become the writer: new epoch, recovery of the last segment.
  jn::NamespaceInfo nsinfo;
  nsinfo.namespace_id = opts_.cluster.namespace_id;
  nsinfo.cluster_id = opts_.cluster.cluster_id;
  auto opened = EditLog::Open(opts_.quorum, nsinfo, opts_.segment_txns);
  if (!opened.ok()) {
    LOG(WARNING) << id_ << ": cannot become the journal writer: " << opened.status();
    StartTailing();
    return opened.status().Prepend(id_ + ": becoming the journal writer");
  }
  std::shared_ptr<EditLog> log(std::move(opened).value());
  const int64_t t_open = opts_.clock->MonotonicNanos();
  const int64_t recovered_end = log->last_txid();
  int64_t applied;
  {
    ReaderMutexLock l(&ns_mu_);
    applied = last_applied_txid_;
  }
  auto fail = [&](const Status& st) REQUIRES(transition_mu_) {
    LOG(WARNING) << id_ << ": becoming active failed: " << st;
    log->Close();
    StartTailing();
    return st;
  };
  if (applied > recovered_end) {
    return fail(Status::Corruption(id_ + ": namespace is at txid " + std::to_string(applied) +
                                   " but the recovered journal ends at " +
                                   std::to_string(recovered_end)));
  }
  // 4. Open the new segment (its first record, a NOOP, also tells the journalnodes the
  //    recovered log is committed) and, meanwhile, apply every committed edit we had not
  //    tailed: [applied + 1, recovered_end]. Recovery vouches for that range (it ends at
  //    the recovered log's end, which holds every committed edit), and the namespace holds
  //    exactly [.., applied] (committed edits only: tailed or loaded from an image). So
  //    when applied == recovered_end there is nothing to read, and nothing is read. The two
  //    steps share no state (the catch-up applies to the namespace, which nothing serves
  //    yet: standby reads are off and there is no edit_log_; the segment is the writer's),
  //    and nothing is served until both have succeeded. The catch-up reads on the stopped
  //    tailer's reader (its connections are open) on a thread of its own.
  Status caught_up = Status::OK();
  int64_t t_caught_up = 0;
  std::thread catcher;
  if (applied < recovered_end) {
    Tailer* tailer = tailer_.get();
    const int64_t timeout_ms = opts_.quorum.recovery_timeout_ms;
    catcher =
        std::thread([this, tailer, applied, recovered_end, timeout_ms, &caught_up, &t_caught_up] {
          auto apply = [this](const std::vector<EditRecord>& b) { return ApplyRecords(b); };
          if (tailer != nullptr) {
            caught_up = tailer->CatchUpStopped(applied + 1, recovered_end, apply, timeout_ms);
          } else {
            std::unique_ptr<jn::QuorumReader> reader = jn::QuorumReader::Create(opts_.quorum);
            caught_up = Tailer::CatchUp(reader.get(), applied + 1, recovered_end, apply, timeout_ms,
                                        opts_.clock);
          }
          t_caught_up = opts_.clock->MonotonicNanos();
        });
  }
  Status st = log->StartSegment();
  const int64_t t_segment = opts_.clock->MonotonicNanos();
  if (catcher.joinable()) catcher.join();
  if (!st.ok()) return fail(st);
  if (!caught_up.ok()) return fail(caught_up);
  if (opts_.test_activation_delay_ms > 0) {
    LOG(WARNING) << id_ << ": test only: delaying the end of the transition by "
                 << opts_.test_activation_delay_ms << " ms";
    std::this_thread::sleep_for(std::chrono::milliseconds(opts_.test_activation_delay_ms));
  }
  // 5. Serve, under the newest lease deadline handed over during the transition.
  int64_t deadline;
  {
    WriterMutexLock l(&ns_mu_);
    last_applied_txid_ = log->last_txid();
    edit_log_ = log;
    epoch_ = log->epoch();
    deadline = ha_.CompleteActivation();
  }
  const int64_t left_ms = (deadline - opts_.clock->MonotonicNanos()) / kNanosPerMilli;
  if (deadline != 0 && left_ms <= 0) {
    LOG(WARNING) << id_ << " epoch=" << log->epoch()
                 << ": became active after its lease deadline passed; serving nothing";
  }
  const auto us = [](int64_t from, int64_t to) {
    return std::to_string((to - from) / 1000) + " us";
  };
  LOG(INFO) << id_ << " epoch=" << log->epoch() << ": active at txid " << log->last_txid()
            << (deadline != 0 ? " (lease deadline in " + std::to_string(left_ms) + " ms)"
                              : " (manual mode, no lease)")
            << " after " << us(t_begin, opts_.clock->MonotonicNanos()) << ": tailer stop "
            << us(t_begin, t_tail_stopped) << ", writer open (epoch, recovery) "
            << us(t_tail_stopped, t_open) << ", new segment " << us(t_open, t_segment)
            << (applied == recovered_end
                    ? std::string(", nothing to catch up")
                    : ", catch-up of " + std::to_string(recovered_end - applied) +
                          " edits beside it " + us(t_open, t_caught_up));
  return Status::OK();
}

void NamenodeServer::BecomeStandbyLocked() {
  LOG(INFO) << id_ << ": becoming standby";
  const int64_t t_begin = opts_.clock->MonotonicNanos();
  int64_t t_finalized = t_begin;
  // 1. Stop serving: new calls are refused from here on.
  ha_.SetRole(HaRole::kStandby);
  // 2. Take the writer away from handlers (waits for appends in progress), then let
  //    every appended edit commit and close the segment.
  std::shared_ptr<EditLog> log;
  {
    WriterMutexLock l(&ns_mu_);
    log = std::move(edit_log_);
  }
  if (log != nullptr) {
    // A writer cut from the journal majority would hold Finalize until its write timeout
    // (10 s) while failoverd waits for this transition to release the lease: give up on
    // its unacknowledged edits at once (they were never answered) and reload instead.
    // Closing such a writer waits for its final heartbeat to time out (rpc timeout), so
    // it closes on a thread of its own: it can no longer commit anything (a newer epoch
    // fences it once the journal is reachable again), and nothing waits for its end.
    Status st = CheckJournalStall(*log);
    const bool stalled = !st.ok();
    if (st.ok()) st = log->Finalize();
    t_finalized = opts_.clock->MonotonicNanos();
    if (!st.ok()) {
      LOG(WARNING) << id_ << ": could not finalize the segment (" << st
                   << "); the namespace will be reloaded";
      ns_stale_ = true;
    }
    // A finalized writer has nothing left to commit (every appended edit is committed,
    // no segment is open): what its close does (the final commit point to every node,
    // best effort, then its threads end) need not hold up the transition, hence the
    // lease's release. Its epoch fences none of its calls a newer writer cares about.
    const bool finalized = st.ok();
    LOG(INFO) << id_ << ": journal writer " << (stalled ? "abandoned" : "finalized") << ": "
              << DescribeWriterStats(log->stats())
              << (stalled || finalized ? "; closing it in the background" : "");
    if (stalled || finalized) {
      CloseInBackground(std::move(log));
    } else {
      log->Close();
    }
  }
  // 3. A namespace that may hold uncommitted edits is rebuilt from the newest image.
  if (ns_stale_.load()) {
    Status st = ReloadFromImage();
    if (!st.ok()) LOG(ERROR) << id_ << ": reloading the namespace: " << st;
  }
  // 4. A fence is about the state we just discarded: once reloaded, we are a healthy
  //    standby again (failoverd may promote us later with a new epoch).
  if (!ns_stale_.load()) ha_.ClearFence();
  // 5. Tail again.
  StartTailing();
  const int64_t t_end = opts_.clock->MonotonicNanos();
  LOG(INFO) << id_ << ": standby after " << (t_end - t_begin) / 1000 << " us: finalize "
            << (t_finalized - t_begin) / 1000 << " us, then tailing "
            << (t_end - t_finalized) / 1000 << " us";
}

void NamenodeServer::CloseInBackground(std::shared_ptr<EditLog> log) {
  for (auto it = closers_.begin(); it != closers_.end();) {
    if (it->done->load()) {
      it->thread.join();
      it = closers_.erase(it);
    } else {
      ++it;
    }
  }
  auto done = std::make_shared<std::atomic<bool>>(false);
  std::thread t([log = std::move(log), done]() mutable {
    log->Close();
    log.reset();
    done->store(true);
  });
  closers_.push_back(BackgroundClose{std::move(t), std::move(done)});
}

void NamenodeServer::StartTailing() {
  if (ns_stale_.load()) return;  // nothing sane to tail onto; health() says why
  int64_t from;
  {
    ReaderMutexLock l(&ns_mu_);
    from = last_applied_txid_ + 1;
  }
  jn::QuorumOptions q = opts_.quorum;
  q.name = id_ + " tailer";
  {
    MutexLock l(&health_mu_);
    tail_error_ = Status::OK();
  }
  // A fresh tailer has the stall bound to make its first successful read.
  tail_read_ok_ns_ = opts_.clock->MonotonicNanos();
  // One tailer for the namenode's life: its reader's connections stay open across
  // transitions (BecomeActiveLocked's catch-up reads on them).
  if (tailer_ == nullptr) {
    tailer_ = std::make_unique<Tailer>(
        q,
        [this](const std::vector<EditRecord>& b) {
          Status st = ApplyRecords(b);
          if (!st.ok()) {
            MutexLock l(&health_mu_);
            tail_error_ = st;
          }
          return st;
        },
        opts_.tail_poll_ms, [this] { tail_read_ok_ns_ = opts_.clock->MonotonicNanos(); });
  }
  tailer_->Start(from);
  PublishApplied(from - 1);
  standby_reads_ok_ = true;
}

Status NamenodeServer::ReloadFromImage() {
  // The stale namespace is freed first: its inodes and map nodes go back to node_pool
  // (namenode/node_pool.h) and the load takes them from there, so a reload touches no
  // fresh memory (the dearest part of a load on this VM) and never holds two namespaces.
  // Until the load succeeds there is no namespace (ns_ null, ns_stale_ set): health,
  // reads, checkpoints and saveNamespace refuse, and the next transition tries again.
  std::unique_ptr<FsNamespace> stale;
  {
    WriterMutexLock l(&ns_mu_);
    ns_stale_ = true;
    stale = std::move(ns_);
  }
  const int64_t t0 = opts_.clock->MonotonicNanos();
  const int64_t freed = stale == nullptr ? 0 : stale->inode_count();
  stale.reset();  // outside the lock: nothing else may want it, and it takes a while
  const int64_t t1 = opts_.clock->MonotonicNanos();
  QJ_ASSIGN_OR_RETURN(LoadedImage img,
                      LoadNewestValidImage(opts_.name_dir, opts_.ns_options, opts_.file_ops));
  const int64_t t2 = opts_.clock->MonotonicNanos();
  WriterMutexLock l(&ns_mu_);
  LOG(INFO) << id_ << ": namespace reloaded from the image at txid " << img.txid << " (was at txid "
            << last_applied_txid_ << "): freed " << freed << " stale inodes in "
            << (t1 - t0) / kNanosPerMilli << " ms, loaded " << img.ns->inode_count() << " in "
            << (t2 - t1) / kNanosPerMilli << " ms";
  ns_ = std::move(img.ns);
  last_applied_txid_ = img.txid;
  // Entries may name edits that were never committed; the replay from the image rebuilds
  // the ones that were.
  retry_cache_.Clear();
  ns_stale_ = false;
  return Status::OK();
}

Status NamenodeServer::ApplyRecords(const std::vector<EditRecord>& batch) {
  WriterMutexLock l(&ns_mu_);
  for (const EditRecord& r : batch) {
    if (r.txid <= last_applied_txid_) continue;  // already applied (overlapping reads)
    if (r.txid != last_applied_txid_ + 1) {
      return Status::Corruption(id_ + ": gap in the edit log: expected txid " +
                                std::to_string(last_applied_txid_ + 1) + ", got " +
                                std::to_string(r.txid));
    }
    RetryIds ids;
    QJ_ASSIGN_OR_RETURN(Edit edit, DecodeEdit(r.op, r.payload, &ids));
    VLOG(2) << id_ << ": apply txid " << r.txid << " " << DescribeEdit(edit);
    QJ_RETURN_IF_ERROR(ns_->Apply(edit, r.txid));
    last_applied_txid_ = r.txid;
    if (!ids.empty() && retry_cache_.enabled()) {
      retry_cache_.Insert(ids, OutcomeOfEdit(edit, r.txid, *ns_),
                          opts_.clock->MonotonicNanos() / kNanosPerMilli);
    }
  }
  PublishApplied(last_applied_txid_);
  return Status::OK();
}

void NamenodeServer::OnJournalFailure(const Status& why) {
  ns_stale_ = true;
  ha_.Fence(why);
}

// ---------------------------------------------------------------------------------------
// Client calls

Result<std::shared_ptr<EditLog>> NamenodeServer::ServingLogLocked() {
  QJ_RETURN_IF_ERROR(ha_.CheckServing());
  std::shared_ptr<EditLog> log = edit_log_;
  if (log == nullptr) return Status::NotActive(id_ + " has no journal writer");
  Status health = log->health();
  if (!health.ok()) {
    OnJournalFailure(health);  // takes only HaState's own lock
    return Status::NotActive(id_ + " stopped serving: " + health.ToString());
  }
  return log;
}

CallStatus NamenodeServer::Mutate(const char* what, const RetryIds& ids, const PrepareFn& prepare,
                                  RetryOutcome* outcome) {
  HoldWhileActivating();
  CallStatus st = DoMutate(what, ids, prepare, outcome);
  CountCall(what, st);
  return st;
}

CallStatus NamenodeServer::Read(const char* what, int64_t min_txid, const ReadFn& read,
                                int64_t* served_txid) {
  HoldWhileActivating();
  CallStatus st = min_txid > 0 && ha_.role() != HaRole::kActive
                      ? DoStandbyRead(what, min_txid, read, served_txid)
                      : DoRead(what, read, served_txid);
  CountCall(what, st);
  return st;
}

void NamenodeServer::CountCall(const char* what, const CallStatus& st) {
  const char* result = !st.server.ok() ? StatusCodeName(st.server.code())
                       : !st.fs.ok()   ? FsErrorName(st.fs.code())
                                       : "ok";
  counters_.ops.With({what, result})->Increment();
}

WriterView NamenodeServer::GetWriterView() const {
  WriterView v;
  std::shared_ptr<EditLog> log;
  {
    ReaderMutexLock l(&ns_mu_);
    log = edit_log_;
  }
  if (log == nullptr) return v;
  v.open = true;
  v.epoch = log->epoch();
  v.last_txid = log->last_txid();
  v.committed_txid = log->committed_txid();
  v.stats = log->stats();
  return v;
}

int64_t NamenodeServer::inode_count() const {
  ReaderMutexLock l(&ns_mu_);
  return ns_ == nullptr ? 0 : ns_->inode_count();
}

CallStatus NamenodeServer::DoMutate(const char* what, const RetryIds& ids, const PrepareFn& prepare,
                                    RetryOutcome* outcome) {
  // 1. Refuse unless serving.
  Status st = ha_.CheckServing();
  if (!st.ok()) return CallStatus::Server(st);
  std::shared_ptr<EditLog> log;
  int64_t wait_txid = 0;
  FsStatus result;
  RetryOutcome done;
  {
    // 2. Prepare, apply, append, answer, under the exclusive lock.
    WriterMutexLock l(&ns_mu_);
    auto serving = ServingLogLocked();
    if (!serving.ok()) return CallStatus::Server(serving.status());
    log = std::move(serving).value();
    const int64_t now_mono_ms = opts_.clock->MonotonicNanos() / kNanosPerMilli;
    if (const RetryOutcome* earlier = retry_cache_.Find(ids, now_mono_ms)) {
      // A retry: answer as the first call, once its edit is committed.
      VLOG(1) << id_ << ": " << what << ": retry of call " << ids.call_id << " (txid "
              << earlier->txid << ") answered from the retry cache";
      done = *earlier;
      wait_txid = earlier->txid;
    } else {
      auto prepared = prepare(*ns_, opts_.clock->WallMillis());
      wait_txid = last_applied_txid_;
      if (!prepared.ok()) {
        result = prepared.status();
      } else if (prepared->has_value()) {
        const Edit& edit = **prepared;
        Status applied = ns_->Apply(edit, log->last_txid() + 1);
        if (!applied.ok()) {
          // Prepare accepted what Apply refuses: a namespace bug. Nothing changed.
          LOG(ERROR) << id_ << ": " << what << ": Apply refused a prepared edit: " << applied;
          return CallStatus::Server(applied);
        }
        auto txid = log->Append(EncodeEdit(edit, ids));
        if (!txid.ok()) {
          l.Unlock();
          OnJournalFailure(txid.status());
          return CallStatus::Server(Status::IOError(
              std::string(what) + ": the journal failed: " + txid.status().ToString()));
        }
        VLOG(2) << id_ << ": txid " << *txid << " " << DescribeEdit(edit);
        last_applied_txid_ = log->last_txid();
        wait_txid = *txid;
        done = OutcomeOfEdit(edit, *txid, *ns_);
        if (!ids.empty()) retry_cache_.Insert(ids, done, now_mono_ms);
      }
    }
  }
  // 3. Wait until the edit (or, for a failure or no-op, the state it saw) is committed.
  const int64_t wait_start = opts_.clock->MonotonicNanos();
  st = log->WaitCommitted(wait_txid, opts_.commit_timeout_ms);
  counters_.commit_seconds.Observe((opts_.clock->MonotonicNanos() - wait_start) / 1e9);
  if (!st.ok()) {
    Status health = log->health();
    if (!health.ok()) OnJournalFailure(health);
    return CallStatus::Server(
        Status::IOError(std::string(what) + ": txid " + std::to_string(wait_txid) +
                        " not confirmed committed (outcome unknown): " + st.ToString()));
  }
  // 4. The lease must still hold when we answer. The edit is durable either way; the
  //    caller is told the outcome is unknown rather than NOT_ACTIVE (no blind retry).
  st = ha_.CheckServing();
  if (!st.ok() && ha_.role() == HaRole::kActive && ha_.fence_status().ok()) {
    return CallStatus::Server(Status::IOError(std::string(what) +
                                              ": not answered, the lease expired: " + st.message() +
                                              " (outcome unknown)"));
  }
  if (result.ok() && outcome != nullptr) *outcome = std::move(done);
  return CallStatus::Fs(std::move(result));
}

void NamenodeServer::HoldWhileActivating() {
  if (opts_.activation_hold_ms > 0 && ha_.WaitWhileActivating(opts_.activation_hold_ms)) {
    counters_.activation_holds.Increment();
  }
}

Result<int64_t> NamenodeServer::Msync() {
  HoldWhileActivating();
  int64_t txid = 0;
  CallStatus st = DoRead(
      "msync", [](const FsNamespace&) { return FsStatus::OK(); }, &txid);
  if (!st.server.ok()) return st.server;
  return txid;
}

CallStatus NamenodeServer::DoStandbyRead(const char* what, int64_t min_txid, const ReadFn& read,
                                         int64_t* served_txid) {
  auto refuse = [&](const std::string& why) {
    return CallStatus::Server(Status::NotActive(id_ + ": " + what + ": " + why));
  };
  if (!opts_.standby_reads) return refuse("standby, and standby reads are off");
  if (!standby_reads_ok_.load()) return refuse("not a tailing standby");
  if (!ha_.fence_status().ok()) return refuse("fenced");
  {
    MutexLock l(&health_mu_);
    if (!tail_error_.ok()) return refuse("tailing stopped: " + tail_error_.ToString());
  }
  if (applied_txid_.load() < min_txid) {
    MutexLock l(&applied_mu_);
    applied_cv_.WaitFor(&applied_mu_, std::chrono::milliseconds(opts_.standby_read_wait_ms), [&] {
      return applied_txid_.load() >= min_txid || !standby_reads_ok_.load();
    });
  }
  FsStatus result;
  {
    ReaderMutexLock l(&ns_mu_);
    // Checked again under the lock: a transition or reload may have begun meanwhile.
    if (!standby_reads_ok_.load() || ns_stale_.load() || edit_log_ != nullptr) {
      return refuse("changing roles");
    }
    if (last_applied_txid_ < min_txid) {
      return refuse("standby at txid " + std::to_string(last_applied_txid_) +
                    ", behind the client's txid " + std::to_string(min_txid) + " after " +
                    std::to_string(opts_.standby_read_wait_ms) + " ms");
    }
    result = read(*ns_);
    if (served_txid != nullptr) *served_txid = last_applied_txid_;
  }
  return CallStatus::Fs(std::move(result));
}

void NamenodeServer::PublishApplied(int64_t txid) {
  {
    MutexLock l(&applied_mu_);
    applied_txid_ = txid;
  }
  applied_cv_.SignalAll();
}

CallStatus NamenodeServer::DoRead(const char* what, const ReadFn& read, int64_t* served_txid) {
  Status st = ha_.CheckServing();
  if (!st.ok()) return CallStatus::Server(st);
  std::shared_ptr<EditLog> log;
  int64_t seen = 0;
  FsStatus result;
  {
    ReaderMutexLock l(&ns_mu_);
    auto serving = ServingLogLocked();
    if (!serving.ok()) return CallStatus::Server(serving.status());
    log = std::move(serving).value();
    result = read(*ns_);
    seen = last_applied_txid_;
  }
  // Never reveal an edit that is not committed.
  st = log->WaitCommitted(seen, opts_.commit_timeout_ms);
  if (st.ok() && opts_.read_barrier && ha_.lease_deadline() == 0) st = ReadBarrier(log, seen);
  if (!st.ok()) {
    Status health = log->health();
    if (!health.ok()) OnJournalFailure(health);
    return CallStatus::Server(Status::NotActive(id_ + ": " + what + ": " + st.ToString()));
  }
  st = ha_.CheckServing();
  if (!st.ok()) return CallStatus::Server(st);
  if (served_txid != nullptr) *served_txid = seen;
  return CallStatus::Fs(std::move(result));
}

Status NamenodeServer::ReadBarrier(const std::shared_ptr<EditLog>& log, int64_t seen) {
  int64_t barrier;
  {
    WriterMutexLock l(&ns_mu_);
    if (edit_log_ != log) return Status::NotActive(id_ + " stopped being active");
    if (last_applied_txid_ > seen) {
      // An edit appended after the read already serves as its barrier.
      barrier = last_applied_txid_;
    } else {
      auto txid = log->Append(EncodeEdit(NoopEdit{}));
      if (!txid.ok()) {
        l.Unlock();
        OnJournalFailure(txid.status());
        return txid.status();
      }
      last_applied_txid_ = log->last_txid();
      barrier = *txid;
    }
  }
  return log->WaitCommitted(barrier, opts_.commit_timeout_ms);
}

// ---------------------------------------------------------------------------------------
// Images

int64_t NamenodeServer::LatestImageTxId() const {
  auto images = FindImages(opts_.name_dir, opts_.file_ops);
  if (!images.ok() || images->empty()) return -1;
  return images->back().txid;
}

Status NamenodeServer::ReadImageChunk(int64_t txid, int64_t offset, int32_t max_bytes,
                                      std::string* out) const {
  out->clear();
  if (offset < 0 || max_bytes <= 0) {
    return Status::InvalidArgument("fetchImage: offset and maxBytes must be positive");
  }
  const size_t n = static_cast<size_t>(std::min<int32_t>(max_bytes, 8 << 20));
  const std::string path = opts_.name_dir + "/" + ImageFileName(txid);
  auto file = opts_.file_ops->Open(path, FileOps::Mode::kRead);
  if (!file.ok()) {
    if (file.status().IsNotFound()) {
      return Status::NotFound("no image at txid " + std::to_string(txid));
    }
    return file.status();
  }
  return (*file)->ReadAt(static_cast<uint64_t>(offset), n, out);
}

Status NamenodeServer::SaveCheckpoint() {
  int64_t txid;
  {
    ReaderMutexLock l(&ns_mu_);
    // Only a namespace made of committed edits may become an image.
    if (edit_log_ != nullptr || ns_stale_.load()) {
      return Status::IllegalState(id_ + ": checkpoints are taken by the standby");
    }
    txid = last_applied_txid_;
    if (txid <= last_image_txid_.load()) return Status::OK();
    // The shared lock holds the tailer back while the image is written.
    QJ_RETURN_IF_ERROR(SaveImage(*ns_, txid, opts_.name_dir, opts_.file_ops));
  }
  last_image_txid_ = txid;
  LOG(INFO) << id_ << ": checkpoint saved at txid " << txid;
  return Status::OK();
}

}  // namespace qj::nn
