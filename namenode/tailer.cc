#include "namenode/tailer.h"

#include <glog/logging.h>
#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

namespace qj::nn {

namespace {

constexpr int kMaxTxnsPerRead = 1000;

int64_t NowMs(const Clock* clock) { return clock->MonotonicNanos() / kNanosPerMilli; }

constexpr int64_t kProgressIntervalMs = 5000;

// "12000 edits (txid 1..12000) in 2.31 s, 5194 edits/s".
std::string Rate(int64_t edits, int64_t since_ms, int64_t now_ms, int64_t first_txid = -1) {
  const double secs = std::max<int64_t>(1, now_ms - since_ms) / 1000.0;
  char buf[160];
  if (first_txid >= 0) {
    snprintf(buf, sizeof(buf), "%lld edits (txid %lld..%lld) in %.2f s, %.0f edits/s",
             static_cast<long long>(edits), static_cast<long long>(first_txid),
             static_cast<long long>(first_txid + edits - 1), secs, edits / secs);
  } else {
    snprintf(buf, sizeof(buf), "%lld edits in %.2f s, %.0f edits/s", static_cast<long long>(edits),
             secs, edits / secs);
  }
  return buf;
}

}  // namespace

Tailer::Tailer(jn::QuorumOptions opts, ApplyFn apply, int64_t poll_interval_ms,
               std::function<void()> on_read_ok)
    : opts_(std::move(opts)),
      apply_(std::move(apply)),
      poll_interval_ms_(poll_interval_ms),
      on_read_ok_(std::move(on_read_ok)) {}

Tailer::~Tailer() { Stop(); }

void Tailer::Start(int64_t from_txid) {
  Stop();
  {
    MutexLock l(&mu_);
    stop_ = false;
    health_ = Status::OK();
  }
  next_txid_ = from_txid;
  if (reader_ == nullptr) reader_ = jn::QuorumReader::Create(opts_);
  LOG(INFO) << opts_.name << ": tailing committed edits from txid " << from_txid;
  thread_ = std::thread([this] { Run(); });
}

void Tailer::Stop() {
  if (!thread_.joinable()) return;
  {
    MutexLock l(&mu_);
    stop_ = true;
  }
  cv_.SignalAll();
  thread_.join();
  LOG(INFO) << opts_.name << ": tailer stopped at txid " << next_txid_.load() - 1;
}

Status Tailer::health() const {
  MutexLock l(&mu_);
  return health_;
}

void Tailer::Run() {
  pthread_setname_np(pthread_self(), "nn-tailer");
  jn::QuorumReader* const reader = reader_.get();
  int64_t backoff_ms = poll_interval_ms_;
  int64_t last_warning_ms = 0;
  // Replay progress: from the start until the first read that finds nothing new, the
  // tailer is replaying the backlog (after a restart or a bootstrap); it says how far it
  // got every 5 s and once when done.
  const int64_t replay_from = next_txid_.load();
  const Clock* clock = opts_.clock;
  const int64_t replay_start_ms = NowMs(clock);
  int64_t replay_logged_ms = replay_start_ms;
  bool replaying = true;
  while (true) {
    {
      MutexLock l(&mu_);
      if (stop_) return;
    }
    auto batch = reader->ReadCommitted(next_txid_.load(), kMaxTxnsPerRead);
    int64_t sleep_ms = 0;
    if (batch.ok() && on_read_ok_) on_read_ok_();
    if (!batch.ok()) {
      if (NowMs(clock) - last_warning_ms > 5000) {
        LOG(WARNING) << opts_.name << ": tailer read at txid " << next_txid_.load()
                     << " failed (will retry): " << batch.status();
        last_warning_ms = NowMs(clock);
      }
      backoff_ms = std::min<int64_t>(backoff_ms * 2, 1000);
      sleep_ms = backoff_ms;
    } else if (batch->empty()) {
      backoff_ms = poll_interval_ms_;
      sleep_ms = poll_interval_ms_;
      if (replaying) {
        replaying = false;
        const int64_t n = next_txid_.load() - replay_from;
        if (n > 0) {
          LOG(INFO) << opts_.name << ": replay: done, " << Rate(n, replay_start_ms, NowMs(clock));
        }
      }
    } else {
      backoff_ms = poll_interval_ms_;
      Status st = apply_(*batch);
      if (!st.ok()) {
        LOG(ERROR) << opts_.name << ": tailer stops: " << st;
        MutexLock l(&mu_);
        health_ = st;
        return;
      }
      next_txid_ = batch->back().txid + 1;
      VLOG(1) << opts_.name << ": tailed " << batch->size() << " edits up to txid "
              << batch->back().txid;
      if (replaying && NowMs(clock) - replay_logged_ms >= kProgressIntervalMs) {
        replay_logged_ms = NowMs(clock);
        LOG(INFO) << opts_.name << ": replay: "
                  << Rate(next_txid_.load() - replay_from, replay_start_ms, replay_logged_ms);
      }
    }
    if (sleep_ms > 0) {
      MutexLock l(&mu_);
      cv_.WaitFor(&mu_, std::chrono::milliseconds(sleep_ms),
                  [this]() REQUIRES(mu_) { return stop_; });
    }
  }
}

Status Tailer::CatchUpStopped(int64_t from_txid, int64_t to_txid, const ApplyFn& apply,
                              int64_t timeout_ms) {
  if (thread_.joinable()) {
    return Status::IllegalState(opts_.name + ": catch-up while the tailer runs");
  }
  if (reader_ == nullptr) reader_ = jn::QuorumReader::Create(opts_);
  return CatchUp(reader_.get(), from_txid, to_txid, apply, timeout_ms, opts_.clock);
}

Status Tailer::CatchUp(jn::QuorumReader* reader, int64_t from_txid, int64_t to_txid,
                       const ApplyFn& apply, int64_t timeout_ms, const Clock* clock) {
  const int64_t start_ms = NowMs(clock);
  const int64_t deadline = start_ms + timeout_ms;
  int64_t next = from_txid;
  Status last_error = Status::OK();
  int64_t logged_ms = start_ms;
  while (next <= to_txid) {
    if (NowMs(clock) - logged_ms >= kProgressIntervalMs) {
      logged_ms = NowMs(clock);
      LOG(INFO) << "catching up committed edits: at txid " << next - 1 << " of " << to_txid << ", "
                << Rate(next - from_txid, start_ms, logged_ms);
    }
    int max = static_cast<int>(std::min<int64_t>(kMaxTxnsPerRead, to_txid - next + 1));
    auto batch = reader->ReadCommitted(next, max);
    if (batch.ok() && !batch->empty()) {
      if (batch->back().txid > to_txid) batch->resize(static_cast<size_t>(to_txid - next + 1));
      QJ_RETURN_IF_ERROR(apply(*batch));
      next = batch->back().txid + 1;
      continue;
    }
    if (!batch.ok()) last_error = batch.status();
    if (NowMs(clock) >= deadline) {
      return Status::TimedOut("catching up committed edits: reached txid " +
                              std::to_string(next - 1) + " of " + std::to_string(to_txid) +
                              (last_error.ok() ? "" : "; last error: " + last_error.ToString()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (to_txid >= from_txid) {
    LOG(INFO) << "caught up committed edits: "
              << Rate(to_txid - from_txid + 1, start_ms, NowMs(clock), from_txid);
  }
  return Status::OK();
}

}  // namespace qj::nn
