#include "tests/support/sim_disk.h"

#include <algorithm>

namespace qj::sim {

// A handle on an inode. It fails once the disk crashed, and for good after a restart (the
// process that held it is gone).
class SimDisk::File final : public SegmentFile {
 public:
  File(SimDisk* disk, std::string path, std::shared_ptr<Inode> inode, bool writable)
      REQUIRES(disk->mu_)
      : disk_(disk),
        path_(std::move(path)),
        inode_(std::move(inode)),
        writable_(writable),
        incarnation_(disk->incarnation_) {}

  Status WriteAt(uint64_t offset, std::string_view data) override {
    MutexLock l(&disk_->mu_);
    QJ_RETURN_IF_ERROR(Usable("write"));
    if (!writable_) return Status::IOError("write " + path_ + ": opened read-only");
    std::string& d = inode_->data;
    if (d.size() < offset + data.size()) d.resize(offset + data.size(), '\0');
    d.replace(offset, data.size(), data.data(), data.size());
    inode_->mtime_ms = disk_->clock_->WallMillis();
    return Status::OK();
  }
  Status ReadAt(uint64_t offset, size_t n, std::string* out) override {
    MutexLock l(&disk_->mu_);
    if (disk_->crashed_ || incarnation_ != disk_->incarnation_) {
      return Status::IOError("read " + path_ + ": simulated crash");
    }
    const std::string& d = inode_->data;
    if (offset >= d.size()) {
      out->clear();
    } else {
      *out = d.substr(offset, n);
    }
    return Status::OK();
  }
  Status DataSync() override { return Sync("fdatasync"); }
  Status FullSync() override { return Sync("fsync"); }
  Status Truncate(uint64_t length) override {
    MutexLock l(&disk_->mu_);
    QJ_RETURN_IF_ERROR(Usable("truncate"));
    inode_->data.resize(length, '\0');
    inode_->mtime_ms = disk_->clock_->WallMillis();
    return Status::OK();
  }
  Result<uint64_t> Size() override {
    MutexLock l(&disk_->mu_);
    if (disk_->crashed_ || incarnation_ != disk_->incarnation_) {
      return Status::IOError("stat " + path_ + ": simulated crash");
    }
    return static_cast<uint64_t>(inode_->data.size());
  }
  const std::string& path() const override { return path_; }

 private:
  Status Usable(const char* what) REQUIRES(disk_->mu_) {
    if (incarnation_ != disk_->incarnation_) {
      return Status::IOError(std::string(what) + " " + path_ + ": simulated crash");
    }
    return disk_->Step(std::string(what) + " " + path_);
  }
  Status Sync(const char* what) EXCLUDES(disk_->mu_) {
    MutexLock l(&disk_->mu_);
    QJ_RETURN_IF_ERROR(Usable(what));
    inode_->durable = inode_->data;
    return Status::OK();
  }

  SimDisk* const disk_;
  const std::string path_;
  const std::shared_ptr<Inode> inode_;
  const bool writable_;
  const int64_t incarnation_;
};

std::string SimDisk::Parent(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

Status SimDisk::Step(const std::string& what) {
  if (crashed_) return Status::IOError(what + ": simulated crash");
  const bool match = !crash_match_.empty() && what.find(crash_match_) != std::string::npos;
  if (steps_ == crash_at_ || match) {
    crashed_ = true;
    history_.push_back("CRASH before: " + what);
    return Status::IOError(what + ": simulated crash");
  }
  const bool sync = what.rfind("fdatasync ", 0) == 0 || what.rfind("fsync ", 0) == 0 ||
                    what.rfind("syncdir ", 0) == 0;
  if (sync && fail_sync_at_ >= 0 && steps_ >= fail_sync_at_) {
    // The sync fails and makes nothing durable; the disk goes on working.
    fail_sync_at_ = -1;
    ++steps_;
    ++failed_syncs_;
    history_.push_back("FAILED " + what);
    return Status::IOError(
        what +
        (fail_sync_enospc_ ? ": No space left on device (ENOSPC)" : ": Input/output error (EIO)") +
        " (simulated)");
  }
  ++steps_;
  history_.push_back(what);
  return Status::OK();
}

void SimDisk::FailSyncAtStep(int64_t n, bool enospc) {
  MutexLock l(&mu_);
  fail_sync_at_ = n;
  fail_sync_enospc_ = enospc;
}

int64_t SimDisk::failed_syncs() const {
  MutexLock l(&mu_);
  return failed_syncs_;
}

void SimDisk::CrashAtStep(int64_t n) {
  MutexLock l(&mu_);
  crash_at_ = n;
}

void SimDisk::CrashAtStepMatching(const std::string& what) {
  MutexLock l(&mu_);
  crash_match_ = what;
}

bool SimDisk::crashed() const {
  MutexLock l(&mu_);
  return crashed_;
}

int64_t SimDisk::steps() const {
  MutexLock l(&mu_);
  return steps_;
}

std::vector<std::string> SimDisk::history() const {
  MutexLock l(&mu_);
  return history_;
}

bool SimDisk::AffectsDir(const EntryOp& op, const std::string& dir) const {
  if (Parent(op.path) == dir) return true;
  return op.kind == EntryOp::kRename && Parent(op.to) == dir;
}

void SimDisk::ApplyEntryOp(const EntryOp& op, std::map<std::string, std::shared_ptr<Inode>>* files,
                           std::set<std::string>* dirs) {
  switch (op.kind) {
    case EntryOp::kLink:
      (*files)[op.path] = op.inode;
      break;
    case EntryOp::kUnlink:
      files->erase(op.path);
      break;
    case EntryOp::kRename: {
      auto it = files->find(op.path);
      if (it == files->end()) break;  // its creation was lost: nothing to move
      auto inode = it->second;
      files->erase(it);
      (*files)[op.to] = inode;
      break;
    }
    case EntryOp::kMkdir:
      dirs->insert(op.path);
      break;
  }
}

void SimDisk::Restart(Loss loss, std::mt19937_64* rng) {
  MutexLock l(&mu_);
  // Directory entries: a prefix of the unsynced changes, in order.
  size_t keep = 0;
  switch (loss) {
    case Loss::kKeepAll:
    case Loss::kKeepOddPages:
    case Loss::kKeepEvenPages:
      keep = pending_.size();
      break;
    case Loss::kLoseAll:
      keep = 0;
      break;
    case Loss::kRandom:
      keep = pending_.empty() ? 0 : static_cast<size_t>((*rng)() % (pending_.size() + 1));
      break;
  }
  for (size_t i = 0; i < keep; ++i) ApplyEntryOp(pending_[i], &dfiles_, &ddirs_);
  pending_.clear();
  files_ = dfiles_;
  dirs_ = ddirs_;
  // File data: per page, the new or the old bytes; the new or the old size.
  std::set<Inode*> seen;
  for (auto& [path, inode] : files_) {
    if (!seen.insert(inode.get()).second) continue;
    const std::string& now = inode->data;
    const std::string& old = inode->durable;
    if (now == old) continue;
    const bool by_parity = loss == Loss::kKeepOddPages || loss == Loss::kKeepEvenPages;
    bool new_size =
        loss == Loss::kKeepAll || by_parity || (loss == Loss::kRandom && ((*rng)() & 1) != 0);
    const size_t size = new_size ? now.size() : old.size();
    std::string out(size, '\0');
    for (size_t page = 0; page < size; page += kPage) {
      const size_t n = std::min<size_t>(kPage, size - page);
      const bool odd = (page / kPage) % 2 == 1;
      bool take_new = loss == Loss::kKeepAll || (loss == Loss::kRandom && ((*rng)() & 1) != 0) ||
                      (loss == Loss::kKeepOddPages && odd) ||
                      (loss == Loss::kKeepEvenPages && !odd);
      const std::string& src = take_new ? now : old;
      if (page < src.size()) src.copy(&out[page], std::min(n, src.size() - page), page);
    }
    inode->data = out;
    inode->durable = out;
  }
  crashed_ = false;
  crash_at_ = -1;
  crash_match_.clear();
  ++incarnation_;
  history_.push_back("RESTART");
}

Result<std::unique_ptr<SegmentFile>> SimDisk::Open(const std::string& path, Mode mode) {
  MutexLock l(&mu_);
  auto it = files_.find(path);
  if (mode == Mode::kRead) {
    if (crashed_) return Status::IOError("open " + path + ": simulated crash");
    if (it == files_.end()) return Status::NotFound(path + " does not exist");
    return std::unique_ptr<SegmentFile>(new File(this, path, it->second, false));
  }
  if (mode == Mode::kWrite) {
    if (crashed_) return Status::IOError("open " + path + ": simulated crash");
    if (it == files_.end()) return Status::NotFound(path + " does not exist");
    return std::unique_ptr<SegmentFile>(new File(this, path, it->second, true));
  }
  // kCreate: create or truncate.
  if (dirs_.count(Parent(path)) == 0) {
    QJ_RETURN_IF_ERROR(Step("create " + path));
    return Status::NotFound("create " + path + ": no directory " + Parent(path));
  }
  QJ_RETURN_IF_ERROR(Step("create " + path));
  if (it != files_.end()) {
    it->second->data.clear();
    it->second->mtime_ms = clock_->WallMillis();
    return std::unique_ptr<SegmentFile>(new File(this, path, it->second, true));
  }
  auto inode = std::make_shared<Inode>();
  inode->mtime_ms = clock_->WallMillis();
  files_[path] = inode;
  pending_.push_back(EntryOp{EntryOp::kLink, path, "", inode});
  return std::unique_ptr<SegmentFile>(new File(this, path, inode, true));
}

Status SimDisk::Rename(const std::string& from, const std::string& to) {
  MutexLock l(&mu_);
  QJ_RETURN_IF_ERROR(Step("rename " + from + " -> " + to));
  auto it = files_.find(from);
  if (it == files_.end()) return Status::IOError("rename " + from + ": no such file");
  auto inode = it->second;
  files_.erase(it);
  files_[to] = inode;
  pending_.push_back(EntryOp{EntryOp::kRename, from, to, nullptr});
  return Status::OK();
}

Status SimDisk::Unlink(const std::string& path) {
  MutexLock l(&mu_);
  QJ_RETURN_IF_ERROR(Step("unlink " + path));
  if (files_.erase(path) == 0) return Status::NotFound(path + " does not exist");
  pending_.push_back(EntryOp{EntryOp::kUnlink, path, "", nullptr});
  return Status::OK();
}

Status SimDisk::SyncDir(const std::string& dir) {
  MutexLock l(&mu_);
  QJ_RETURN_IF_ERROR(Step("syncdir " + dir));
  if (dirs_.count(dir) == 0) return Status::IOError("fsync dir " + dir + ": no such directory");
  std::vector<EntryOp> rest;
  for (const EntryOp& op : pending_) {
    if (AffectsDir(op, dir)) {
      ApplyEntryOp(op, &dfiles_, &ddirs_);
    } else {
      rest.push_back(op);
    }
  }
  pending_ = std::move(rest);
  return Status::OK();
}

Status SimDisk::AtomicWrite(const std::string& path, const std::string& contents) {
  const std::string tmp = path + ".tmp";
  QJ_ASSIGN_OR_RETURN(auto f, Open(tmp, Mode::kCreate));
  QJ_RETURN_IF_ERROR(f->WriteAt(0, contents));
  QJ_RETURN_IF_ERROR(f->FullSync());
  f.reset();
  QJ_RETURN_IF_ERROR(Rename(tmp, path));
  return SyncDir(Parent(path));
}

Status SimDisk::ReadFile(const std::string& path, std::string* out) {
  MutexLock l(&mu_);
  if (crashed_) return Status::IOError("read " + path + ": simulated crash");
  auto it = files_.find(path);
  if (it == files_.end()) return Status::NotFound(path + " does not exist");
  *out = it->second->data;
  return Status::OK();
}

Result<std::vector<std::string>> SimDisk::ListDir(const std::string& dir) {
  MutexLock l(&mu_);
  if (crashed_) return Status::IOError("list " + dir + ": simulated crash");
  if (dirs_.count(dir) == 0) return Status::NotFound(dir + " does not exist");
  std::vector<std::string> names;
  for (const auto& [path, inode] : files_) {
    if (Parent(path) == dir) names.push_back(path.substr(dir.size() + 1));
  }
  for (const std::string& d : dirs_) {
    if (Parent(d) == dir) names.push_back(d.substr(dir.size() + 1));
  }
  return names;
}

Status SimDisk::CreateDirs(const std::string& dir) {
  std::vector<std::string> missing;
  {
    MutexLock l(&mu_);
    for (std::string d = dir; !d.empty() && d != "." && d != "/" && dirs_.count(d) == 0;
         d = Parent(d)) {
      missing.push_back(d);
    }
  }
  std::reverse(missing.begin(), missing.end());
  for (const std::string& d : missing) {
    {
      MutexLock l(&mu_);
      QJ_RETURN_IF_ERROR(Step("mkdir " + d));
      dirs_.insert(d);
      pending_.push_back(EntryOp{EntryOp::kMkdir, d, "", nullptr});
      // The top of the tree has no parent in this model: its entry is durable at once.
      if (dirs_.count(Parent(d)) == 0) {
        ddirs_.insert(d);
        pending_.pop_back();
        continue;
      }
    }
    QJ_RETURN_IF_ERROR(SyncDir(Parent(d)));
  }
  return Status::OK();
}

bool SimDisk::Exists(const std::string& path) {
  MutexLock l(&mu_);
  return files_.count(path) != 0 || dirs_.count(path) != 0;
}

Result<FileInfo> SimDisk::Stat(const std::string& path) {
  MutexLock l(&mu_);
  if (crashed_) return Status::IOError("stat " + path + ": simulated crash");
  if (dirs_.count(path) != 0) return Status::InvalidArgument(path + " is a directory");
  auto it = files_.find(path);
  if (it == files_.end()) return Status::NotFound(path + " does not exist");
  FileInfo info;
  info.size = it->second->data.size();
  info.mtime_ms = it->second->mtime_ms;
  return info;
}

Status SimDisk::Peek(const std::string& path, std::string* out) {
  MutexLock l(&mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return Status::NotFound(path + " does not exist");
  *out = it->second->data;
  return Status::OK();
}

Status SimDisk::Poke(const std::string& path, uint64_t offset, const std::string& bytes) {
  MutexLock l(&mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return Status::NotFound(path + " does not exist");
  for (std::string* s : {&it->second->data, &it->second->durable}) {
    if (s->size() < offset + bytes.size()) s->resize(offset + bytes.size(), '\0');
    s->replace(offset, bytes.size(), bytes);
  }
  return Status::OK();
}

}  // namespace qj::sim
