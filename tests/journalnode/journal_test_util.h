// Helpers shared by the journal tests: records, headers, an in-process peer transport
// (journals call each other's real GetSegmentChunk / GetEditLogManifest), and a FileOps
// that fails syncs on demand.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/edit_record.h"
#include "journalnode/journal.h"

namespace qj::jn::testutil {

inline std::string Records(int64_t first, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    AppendRecord(&out, first + i, 3, "op-" + std::to_string(first + i));
  }
  return out;
}

inline RequestHeader Hdr(int64_t epoch, int64_t serial, int64_t committed = -1) {
  return RequestHeader{"ns1", epoch, serial, committed};
}

inline NamespaceInfo Ns() { return NamespaceInfo{42, "cluster-a", 1}; }

// Journals reachable by name, in this process.
class LocalPeers final : public PeerClient {
 public:
  void Add(const std::string& name, Journal* j) { peers_[name] = j; }
  void Remove(const std::string& name) { peers_.erase(name); }
  Result<SegmentChunkData> GetSegmentChunk(const std::string& peer, const std::string&,
                                           int64_t start, int64_t end, int64_t offset,
                                           int32_t max_bytes) override {
    auto it = peers_.find(peer);
    if (it == peers_.end()) return Status::NetworkError("no peer " + peer);
    return it->second->GetSegmentChunk(start, end, offset, max_bytes);
  }
  Result<Manifest> GetManifest(const std::string& peer, const std::string&) override {
    auto it = peers_.find(peer);
    if (it == peers_.end()) return Status::NetworkError("no peer " + peer);
    return it->second->GetEditLogManifest(1, false);
  }

 private:
  std::map<std::string, Journal*> peers_;
};

// POSIX files whose DataSync / FullSync fail while fail_syncs is set.
// While block_syncs is set, DataSync waits until Unblock() (counting the waiters).
// Counts opens of each file name.
class FaultyFileOps final : public PosixFileOps {
 public:
  std::atomic<bool> fail_syncs{false};
  std::atomic<bool> block_syncs{false};
  std::atomic<int> blocked{0};

  void Unblock() {
    std::lock_guard<std::mutex> l(mu_);
    block_syncs = false;
    cv_.notify_all();
  }
  int opens_of(const std::string& name_part) {
    std::lock_guard<std::mutex> l(mu_);
    int n = 0;
    for (const auto& [path, count] : opens_) {
      if (path.find(name_part) != std::string::npos) n += count;
    }
    return n;
  }

  Result<std::unique_ptr<SegmentFile>> Open(const std::string& path, Mode mode) override {
    {
      std::lock_guard<std::mutex> l(mu_);
      ++opens_[path];
    }
    auto f = PosixFileOps::Open(path, mode);
    if (!f.ok()) return f.status();
    return std::unique_ptr<SegmentFile>(new File(std::move(f).value(), this));
  }
  Status AtomicWrite(const std::string& path, const std::string& contents) override {
    if (fail_syncs) return Status::IOError("injected: fsync " + path + ".tmp failed");
    return PosixFileOps::AtomicWrite(path, contents);
  }

 private:
  class File final : public SegmentFile {
   public:
    File(std::unique_ptr<SegmentFile> f, FaultyFileOps* ops) : f_(std::move(f)), ops_(ops) {}
    Status WriteAt(uint64_t o, std::string_view d) override { return f_->WriteAt(o, d); }
    Status ReadAt(uint64_t o, size_t n, std::string* out) override { return f_->ReadAt(o, n, out); }
    Status DataSync() override {
      if (ops_->fail_syncs) return Status::IOError("injected: fdatasync " + path() + " failed");
      if (ops_->block_syncs) {
        std::unique_lock<std::mutex> l(ops_->mu_);
        ++ops_->blocked;
        ops_->cv_.wait(l, [this] { return !ops_->block_syncs; });
      }
      return f_->DataSync();
    }
    Status FullSync() override {
      if (ops_->fail_syncs) return Status::IOError("injected: fsync " + path() + " failed");
      return f_->FullSync();
    }
    Status Truncate(uint64_t n) override { return f_->Truncate(n); }
    Result<uint64_t> Size() override { return f_->Size(); }
    const std::string& path() const override { return f_->path(); }

   private:
    std::unique_ptr<SegmentFile> f_;
    FaultyFileOps* ops_;
  };

  std::mutex mu_;
  std::condition_variable cv_;  // notified by Unblock()
  std::map<std::string, int> opens_;
};

}  // namespace qj::jn::testutil
