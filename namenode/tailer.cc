#include "namenode/tailer.h"

#include <glog/logging.h>
#include <pthread.h>

#include <chrono>

namespace qj {

namespace {

constexpr int kMaxTxnsPerRead = 1000;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Tailer::Tailer(jn::QuorumOptions opts, ApplyFn apply, int64_t poll_interval_ms)
    : opts_(std::move(opts)), apply_(std::move(apply)), poll_interval_ms_(poll_interval_ms) {}

Tailer::~Tailer() { Stop(); }

void Tailer::Start(int64_t from_txid) {
  Stop();
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = false;
    health_ = Status::OK();
  }
  next_txid_ = from_txid;
  LOG(INFO) << opts_.name << ": tailing committed edits from txid " << from_txid;
  thread_ = std::thread([this] { Run(); });
}

void Tailer::Stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  LOG(INFO) << opts_.name << ": tailer stopped at txid " << next_txid_.load() - 1;
}

Status Tailer::health() const {
  std::lock_guard<std::mutex> l(mu_);
  return health_;
}

void Tailer::Run() {
  pthread_setname_np(pthread_self(), "nn-tailer");
  std::unique_ptr<jn::QuorumReader> reader = jn::QuorumReader::Create(opts_);
  int64_t backoff_ms = poll_interval_ms_;
  int64_t last_warning_ms = 0;
  while (true) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (stop_) return;
    }
    auto batch = reader->ReadCommitted(next_txid_.load(), kMaxTxnsPerRead);
    int64_t sleep_ms = 0;
    if (!batch.ok()) {
      if (NowMs() - last_warning_ms > 5000) {
        LOG(WARNING) << opts_.name << ": tailer read at txid " << next_txid_.load()
                     << " failed (will retry): " << batch.status();
        last_warning_ms = NowMs();
      }
      backoff_ms = std::min<int64_t>(backoff_ms * 2, 1000);
      sleep_ms = backoff_ms;
    } else if (batch->empty()) {
      backoff_ms = poll_interval_ms_;
      sleep_ms = poll_interval_ms_;
    } else {
      backoff_ms = poll_interval_ms_;
      Status st = apply_(*batch);
      if (!st.ok()) {
        LOG(ERROR) << opts_.name << ": tailer stops: " << st;
        std::lock_guard<std::mutex> l(mu_);
        health_ = st;
        return;
      }
      next_txid_ = batch->back().txid + 1;
      VLOG(1) << opts_.name << ": tailed " << batch->size() << " edits up to txid "
              << batch->back().txid;
    }
    if (sleep_ms > 0) {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait_for(l, std::chrono::milliseconds(sleep_ms), [this] { return stop_; });
    }
  }
}

Status Tailer::CatchUp(jn::QuorumReader* reader, int64_t from_txid, int64_t to_txid,
                       const ApplyFn& apply, int64_t timeout_ms) {
  const int64_t deadline = NowMs() + timeout_ms;
  int64_t next = from_txid;
  Status last_error = Status::OK();
  while (next <= to_txid) {
    int max = static_cast<int>(std::min<int64_t>(kMaxTxnsPerRead, to_txid - next + 1));
    auto batch = reader->ReadCommitted(next, max);
    if (batch.ok() && !batch->empty()) {
      if (batch->back().txid > to_txid) batch->resize(static_cast<size_t>(to_txid - next + 1));
      QJ_RETURN_IF_ERROR(apply(*batch));
      next = batch->back().txid + 1;
      continue;
    }
    if (!batch.ok()) last_error = batch.status();
    if (NowMs() >= deadline) {
      return Status::TimedOut("catching up committed edits: reached txid " +
                              std::to_string(next - 1) + " of " + std::to_string(to_txid) +
                              (last_error.ok() ? "" : "; last error: " + last_error.ToString()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return Status::OK();
}

}  // namespace qj
