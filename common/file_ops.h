// The file-system seam (an Env in LevelDB's sense, DESIGN §7): the journalnode's segments
// and metadata and the namenode's images and checkpoint transfers go through FileOps /
// SegmentFile, so that tests can inject failures (a failed fdatasync, a short write, a
// full disk) and a simulator can model crashes, without touching ::open elsewhere.
// Callers take a FileOps* and default to FileOps::Posix().
//
// Thread-safety: PosixFileOps is stateless and thread-safe. A SegmentFile is used by one
// thread at a time (the journal serializes its writer; readers open their own handle).
// Failure: every method returns IOError naming the path and errno text.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace qj {

// An open file: a journal segment, an image, or a temp copy of either. (The name is
// the journalnode's, where the seam started.)
class SegmentFile {
 public:
  virtual ~SegmentFile() = default;
  // Writes all of data at offset.
  [[nodiscard]] virtual Status WriteAt(uint64_t offset, std::string_view data) = 0;
  // Reads up to n bytes at offset into *out (fewer only at end of file).
  [[nodiscard]] virtual Status ReadAt(uint64_t offset, size_t n, std::string* out) = 0;
  // fdatasync: data (and the size, if it changed) durable.
  [[nodiscard]] virtual Status DataSync() = 0;
  // fsync: data and all metadata durable.
  [[nodiscard]] virtual Status FullSync() = 0;
  [[nodiscard]] virtual Status Truncate(uint64_t length) = 0;
  virtual Result<uint64_t> Size() = 0;
  virtual const std::string& path() const = 0;
};

// What FileOps::Stat tells about a file.
struct FileInfo {
  uint64_t size = 0;
  // The last change of its data: wall-clock milliseconds since the Unix epoch (the scale of
  // Clock::WallMillis, so that an age is clock->WallMillis() - mtime_ms).
  int64_t mtime_ms = 0;
};

class FileOps {
 public:
  virtual ~FileOps() = default;
  enum class Mode { kRead, kWrite, kCreate /* create or truncate, read-write */ };
  virtual Result<std::unique_ptr<SegmentFile>> Open(const std::string& path, Mode mode) = 0;
  [[nodiscard]] virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // NotFound if missing.
  [[nodiscard]] virtual Status Unlink(const std::string& path) = 0;
  [[nodiscard]] virtual Status SyncDir(const std::string& dir) = 0;
  // Temp, fsync, rename, fsync dir (common/file_util.h AtomicWriteFile).
  [[nodiscard]] virtual Status AtomicWrite(const std::string& path,
                                           const std::string& contents) = 0;
  // NotFound if missing.
  [[nodiscard]] virtual Status ReadFile(const std::string& path, std::string* out) = 0;
  // Entry names (not paths), unsorted; NotFound if the directory is missing.
  virtual Result<std::vector<std::string>> ListDir(const std::string& dir) = 0;
  [[nodiscard]] virtual Status CreateDirs(const std::string& dir) = 0;
  virtual bool Exists(const std::string& path) = 0;
  // A regular file's size and modification time. NotFound if missing, InvalidArgument for
  // a directory.
  virtual Result<FileInfo> Stat(const std::string& path) = 0;

  // The process-wide POSIX implementation.
  static FileOps* Posix();
};

// POSIX implementation; tests subclass it to inject faults.
class PosixFileOps : public FileOps {
 public:
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
};

}  // namespace qj
