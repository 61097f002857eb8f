#include "common/file_ops.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/file_util.h"

namespace qj {
namespace {

class PosixSegmentFile final : public SegmentFile {
 public:
  PosixSegmentFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixSegmentFile() override { ::close(fd_); }

  Status WriteAt(uint64_t offset, std::string_view data) override {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n =
          ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("write at offset " + std::to_string(offset + done) + " of", path_,
                           errno);
      }
      done += static_cast<size_t>(n);
    }
    return Status::OK();
  }

  Status ReadAt(uint64_t offset, size_t n, std::string* out) override {
    out->resize(n);
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(fd_, out->data() + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("read at offset " + std::to_string(offset + done) + " of", path_, errno);
      }
      if (r == 0) break;
      done += static_cast<size_t>(r);
    }
    out->resize(done);
    return Status::OK();
  }

  Status DataSync() override {
    if (::fdatasync(fd_) != 0) return ErrnoStatus("fdatasync", path_, errno);
    return Status::OK();
  }
  Status FullSync() override {
    if (::fsync(fd_) != 0) return ErrnoStatus("fsync", path_, errno);
    return Status::OK();
  }
  Status Truncate(uint64_t length) override {
    if (::ftruncate(fd_, static_cast<off_t>(length)) != 0) {
      return ErrnoStatus("truncate to " + std::to_string(length), path_, errno);
    }
    return Status::OK();
  }
  Result<uint64_t> Size() override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return ErrnoStatus("stat", path_, errno);
    return static_cast<uint64_t>(st.st_size);
  }
  const std::string& path() const override { return path_; }

 private:
  const std::string path_;
  const int fd_;
};

}  // namespace

FileOps* FileOps::Posix() {
  static PosixFileOps* ops = new PosixFileOps();
  return ops;
}

Result<std::unique_ptr<SegmentFile>> PosixFileOps::Open(const std::string& path, Mode mode) {
  int flags = O_CLOEXEC;
  switch (mode) {
    case Mode::kRead:
      flags |= O_RDONLY;
      break;
    case Mode::kWrite:
      flags |= O_RDWR;
      break;
    case Mode::kCreate:
      flags |= O_RDWR | O_CREAT | O_TRUNC;
      break;
  }
  int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) {
    if (errno == ENOENT) return Status::NotFound(path + " does not exist");
    return ErrnoStatus("open", path, errno);
  }
  return std::unique_ptr<SegmentFile>(new PosixSegmentFile(path, fd));
}

Status PosixFileOps::Rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return ErrnoStatus("rename to " + to + " from", from, errno);
  }
  return Status::OK();
}

Status PosixFileOps::Unlink(const std::string& path) {
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return Status::NotFound(path + " does not exist");
    return ErrnoStatus("unlink", path, errno);
  }
  return Status::OK();
}

Status PosixFileOps::SyncDir(const std::string& dir) { return FsyncDir(dir); }

Status PosixFileOps::AtomicWrite(const std::string& path, const std::string& contents) {
  return AtomicWriteFile(path, contents);
}

Status PosixFileOps::ReadFile(const std::string& path, std::string* out) {
  return ReadFileToString(path, out);
}

Result<std::vector<std::string>> PosixFileOps::ListDir(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return Status::NotFound(dir + " does not exist");
    return ErrnoStatus("list directory", dir, errno);
  }
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  ::closedir(d);
  return names;
}

Status PosixFileOps::CreateDirs(const std::string& dir) { return qj::CreateDirs(dir); }

bool PosixFileOps::Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

Result<FileInfo> PosixFileOps::Stat(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::NotFound(path + " does not exist");
    return ErrnoStatus("stat", path, errno);
  }
  if (S_ISDIR(st.st_mode)) return Status::InvalidArgument(path + " is a directory");
  FileInfo info;
  info.size = static_cast<uint64_t>(st.st_size);
  info.mtime_ms = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
  return info;
}

}  // namespace qj
