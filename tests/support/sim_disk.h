// SimDisk: an in-memory FileOps that knows which bytes and which directory entries are
// durable, so that a test can crash a journalnode between any two durable steps and
// restart it on what a power loss would leave behind.
//
// Model (what Linux + ext4 promise, no more):
//   - File data: writes land in the page cache. DataSync / FullSync of a file make all of
//     its data and its size durable. A crash keeps, for every 4 KiB page that differs
//     from the durable copy, either the new page or the old one (the loss policy
//     decides), and either the new or the old size; pages beyond the old data that are
//     lost read back as zeros.
//   - Directory entries: create, rename, unlink and mkdir are durable only once the
//     directory holding them is synced (SyncDir). A crash keeps a prefix, in issue order,
//     of the entry changes not yet synced (a journaling file system commits metadata in
//     order).
//   - Crash points: every mutating call (open for create/write, write, sync, truncate,
//     rename, unlink, mkdir, directory sync; AtomicWrite is its five steps) counts as one
//     step. CrashAtStep(n) lets steps 0..n-1 happen and fails step n and every call after
//     it with IOError("simulated crash"), as if the process died there. Restart() applies
//     the power loss and lets calls through again.
//   - Sync failures: FailSyncAtStep(n, enospc) fails the first fdatasync / fsync / directory
//     sync at or after step n with IOError (EIO or ENOSPC in the message); nothing it covered
//     becomes durable, later calls work. Unlike Linux, a later successful sync still makes the
//     pages durable (their dirty state is not forgotten); a crash after the failure loses them
//     as the loss policy says.
//
//   - Modification times: a file's data changes (create, write, truncate) stamp it with the
//     disk's clock's WallMillis (Stat). The stamp is not crash-modelled: a restart keeps it.
//
// Thread-safety: one mutex guards everything; SimFile handles share it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/file_ops.h"
#include "common/mutex.h"

namespace qj::sim {

class SimDisk final : public FileOps {
 public:
  static constexpr uint64_t kPage = 4096;

  // What a crash keeps of the writes that were not synced.
  enum class Loss {
    kKeepAll,  // every unsynced page and entry change survived (a process crash)
    kLoseAll,  // none survived (power loss right after the last sync)
    kRandom,   // each unsynced page independently, a random prefix of entry changes
    // Every entry change and the new size survived, and of the unsynced pages only the
    // odd (even) numbered ones: holes inside a multi-page write, deterministically.
    kKeepOddPages,
    kKeepEvenPages,
  };

  // `clock` stamps modification times; it must outlive the disk.
  explicit SimDisk(const Clock* clock = RealClock::Get())
      : clock_(clock), dirs_{"/"}, ddirs_{"/"} {}

  // --- Crash control. ---
  // Step n (0-based, counted over this disk's life) and every call after it fail.
  void CrashAtStep(int64_t n);
  // Crash at the first step whose description contains `what` (e.g. "create
  // .../edits_inprogress_0000000000000000016"); descriptions: see Describe below.
  void CrashAtStepMatching(const std::string& what);
  bool crashed() const;
  // The first sync (fdatasync, fsync, syncdir) at or after step n fails (see the top).
  void FailSyncAtStep(int64_t n, bool enospc);
  int64_t failed_syncs() const;
  int64_t steps() const;
  // The description of every step so far ("write <path>", "sync <path>", ...).
  std::vector<std::string> history() const;
  // Power loss: drops unsynced state as `loss` says (kRandom draws from rng), then lets
  // calls through again. Open handles from before the crash keep failing.
  void Restart(Loss loss, std::mt19937_64* rng);

  // --- FileOps. ---
  Result<std::unique_ptr<SegmentFile>> Open(const std::string& path, Mode mode) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status Unlink(const std::string& path) override;
  Status SyncDir(const std::string& dir) override;
  Status AtomicWrite(const std::string& path, const std::string& contents) override;
  Status ReadFile(const std::string& path, std::string* out) override;
  Result<std::vector<std::string>> ListDir(const std::string& dir) override;
  Status CreateDirs(const std::string& dir) override;
  bool Exists(const std::string& path) override;
  Result<FileInfo> Stat(const std::string& path) override;

  // Test access to a file's current bytes (page cache view); NotFound if missing.
  Status Peek(const std::string& path, std::string* out);
  // Overwrites bytes durably (bit flips, planted damage); no step is counted.
  Status Poke(const std::string& path, uint64_t offset, const std::string& bytes);

 private:
  class File;
  struct Inode {
    std::string data;     // what reads see
    std::string durable;  // what survives a power loss
    int64_t generation = 0;
    int64_t mtime_ms = 0;  // clock_'s WallMillis at the last change of `data`
  };
  struct EntryOp {
    enum Kind { kLink, kUnlink, kRename, kMkdir } kind;
    std::string path, to;
    std::shared_ptr<Inode> inode;  // kLink
  };

  static std::string Parent(const std::string& path);
  // Counts a step; fails if the disk has crashed or this step is the crash point.
  Status Step(const std::string& what) REQUIRES(mu_);
  void ApplyEntryOp(const EntryOp& op, std::map<std::string, std::shared_ptr<Inode>>* files,
                    std::set<std::string>* dirs);
  bool AffectsDir(const EntryOp& op, const std::string& dir) const;

  const Clock* const clock_;
  mutable Mutex mu_;
  std::map<std::string, std::shared_ptr<Inode>> files_ GUARDED_BY(mu_);   // live names
  std::set<std::string> dirs_ GUARDED_BY(mu_);                            // live directories
  std::map<std::string, std::shared_ptr<Inode>> dfiles_ GUARDED_BY(mu_);  // durable names
  std::set<std::string> ddirs_ GUARDED_BY(mu_);                           // durable directories
  std::vector<EntryOp> pending_ GUARDED_BY(mu_);  // entry changes not yet durable
  int64_t steps_ GUARDED_BY(mu_) = 0;
  int64_t crash_at_ GUARDED_BY(mu_) = -1;
  std::string crash_match_ GUARDED_BY(mu_);
  bool crashed_ GUARDED_BY(mu_) = false;
  int64_t fail_sync_at_ GUARDED_BY(mu_) = -1;
  bool fail_sync_enospc_ GUARDED_BY(mu_) = false;
  int64_t failed_syncs_ GUARDED_BY(mu_) = 0;
  int64_t incarnation_ GUARDED_BY(mu_) = 0;  // bumped by Restart: older handles fail
  std::vector<std::string> history_ GUARDED_BY(mu_);
};

}  // namespace qj::sim
