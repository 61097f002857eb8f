#include "journalnode/journal_node.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "common/file_util.h"
#include "journalnode/peer_client.h"

namespace qj::jn {

Status ValidateJournalId(const std::string& id) {
  if (id.empty() || id.size() > 64 || id == "." || id == "..") {
    return Status::InvalidArgument("journal id '" + id.substr(0, 80) +
                                   "' must be 1..64 characters of [A-Za-z0-9._-]");
  }
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) {
      return Status::InvalidArgument("journal id '" + id +
                                     "' must be 1..64 characters of [A-Za-z0-9._-]");
    }
  }
  return Status::OK();
}

Result<std::unique_ptr<JournalNode>> JournalNode::Open(const JournalNodeOptions& opts) {
  if (opts.edits_dir.empty()) return Status::InvalidArgument("no edits directory given");
  QJ_RETURN_IF_ERROR(opts.file_ops->CreateDirs(opts.edits_dir));
  const std::string lock_path = opts.edits_dir + "/in_use.lock";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("open lock file", lock_path, errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    std::string holder;
    (void)ReadFileToString(lock_path, &holder);
    while (!holder.empty() && holder.back() == '\n') holder.pop_back();
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return Status::IllegalState("storage directory " + opts.edits_dir +
                                  " is in use by another journalnode (lock " + lock_path + " held" +
                                  (holder.empty() ? "" : " by " + holder) + ")");
    }
    return ErrnoStatus("lock", lock_path, err);
  }
  const std::string me = "pid " + std::to_string(::getpid()) + " (" + opts.name + ")\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, me.data(), me.size(), 0) < 0) {
    LOG(WARNING) << opts.name << ": cannot record the pid in " << lock_path;
  }
  std::unique_ptr<JournalNode> node(new JournalNode(opts, fd));
  auto names = opts.file_ops->ListDir(opts.edits_dir);
  if (!names.ok()) return names.status();
  MutexLock l(&node->mu_);
  for (const std::string& n : *names) {
    if (n == "in_use.lock" || !ValidateJournalId(n).ok()) continue;
    if (!opts.file_ops->Exists(opts.edits_dir + "/" + n + "/current")) continue;
    node->AddLocked(n);
  }
  LOG(INFO) << opts.name << ": serving " << node->journals_.size() << " journals from "
            << opts.edits_dir;
  if (node->journals_.size() > opts.max_journals) {
    LOG(WARNING) << opts.name << ": " << node->journals_.size()
                 << " journals on disk, more than --journalnode_max_journals=" << opts.max_journals
                 << "; all are served, no new one can be formatted";
  }
  return node;
}

JournalNode::JournalNode(const JournalNodeOptions& opts, int lock_fd)
    : opts_(opts), lock_fd_(lock_fd), leases_([&] {
        LeaseOptions l = opts.lease;
        l.clock = opts.clock;
        l.node_name = opts.name;
        return l;
      }()) {
  peer_client_ = opts.peer_client;
  if (peer_client_ == nullptr) {
    owned_peer_client_ = std::make_unique<ThriftPeerClient>(opts.peer_timeout_ms, opts.peer_tls);
    peer_client_ = owned_peer_client_.get();
  }
}

JournalNode::~JournalNode() {
  Shutdown();
  {
    MutexLock l(&mu_);
    journals_.clear();
  }
  ::close(lock_fd_);  // releases the flock
}

Journal* JournalNode::AddLocked(const std::string& id) {
  JournalOptions jo;
  jo.node_name = opts_.name;
  jo.journal_id = id;
  jo.dir = opts_.edits_dir + "/" + id;
  jo.file_ops = opts_.file_ops;
  jo.clock = opts_.clock;
  jo.peers = peer_client_;
  jo.self_address = opts_.self_address;
  jo.cache_bytes = opts_.cache_bytes;
  jo.max_batch_bytes = opts_.max_batch_bytes;
  jo.committed_persist_interval_ms = opts_.committed_persist_interval_ms;
  jo.slow_sync_warn_ms = opts_.slow_sync_warn_ms;
  Slot& slot = journals_[id];
  slot.journal = Journal::Open(jo);
  Journal* j = slot.journal.get();
  if (!stopping_) slot.background = std::thread([this, j] { BackgroundLoop(j); });
  return j;
}

void JournalNode::ForEachJournal(
    const std::function<void(const std::string& id, const Journal& j)>& fn) {
  MutexLock l(&mu_);
  for (const auto& [id, slot] : journals_) fn(id, *slot.journal);
}

Result<Journal*> JournalNode::Get(const std::string& journal_id, bool create) {
  QJ_RETURN_IF_ERROR(ValidateJournalId(journal_id).Prepend(opts_.name));
  MutexLock l(&mu_);
  auto it = journals_.find(journal_id);
  if (it != journals_.end()) return it->second.journal.get();
  if (!create) {
    return Status::NotFormatted(opts_.name + " " + journal_id + ": journal is not formatted");
  }
  if (stopping_) return Status::Unavailable(opts_.name + ": shutting down");
  if (journals_.size() >= opts_.max_journals) {
    return Status::ResourceExhausted(
        opts_.name + ": refusing to create journal " + journal_id + ": this node already has " +
        std::to_string(journals_.size()) +
        " journals (--journalnode_max_journals=" + std::to_string(opts_.max_journals) + ")");
  }
  return AddLocked(journal_id);
}

void JournalNode::BackgroundLoop(Journal* j) {
  const int64_t tick_ms = std::max<int64_t>(
      50, std::min(opts_.committed_persist_interval_ms, opts_.catchup_interval_ms));
  int64_t since_catchup_ms = 0;
  while (true) {
    {
      MutexLock l(&mu_);
      if (stop_cv_.WaitFor(&mu_, std::chrono::milliseconds(tick_ms),
                           [this]() REQUIRES(mu_) { return stopping_; })) {
        return;
      }
    }
    Status s = j->FlushCommittedTxId();
    if (!s.ok()) LOG(WARNING) << j->who() << ": persisting committed txid: " << s;
    since_catchup_ms += tick_ms;
    if (since_catchup_ms >= opts_.catchup_interval_ms) {
      since_catchup_ms = 0;
      for (const std::string& peer : opts_.peers) {
        auto n = j->CatchUpFrom(peer);
        if (!n.ok() && !n.status().IsNotFound() && n.status().code() != StatusCode::kNotFormatted) {
          VLOG(1) << j->who() << ": catch-up from " << peer << ": " << n.status();
        }
      }
    }
  }
}

void JournalNode::Shutdown() {
  std::vector<std::thread> threads;
  std::vector<Journal*> journals;
  {
    MutexLock l(&mu_);
    stopping_ = true;
    for (auto& [id, slot] : journals_) {
      if (slot.background.joinable()) threads.push_back(std::move(slot.background));
      journals.push_back(slot.journal.get());
    }
  }
  stop_cv_.SignalAll();
  for (auto& t : threads) t.join();
  for (Journal* j : journals) {
    Status s = j->FlushCommittedTxId();
    if (!s.ok()) LOG(WARNING) << j->who() << ": persisting committed txid at shutdown: " << s;
  }
}

}  // namespace qj::jn
