// FsStatus / FsResult<T>: how namespace operations report a client-visible failure.
//
// Every failure of a namespace operation (Prepare*, reads) carries one FsError that maps
// 1:1 onto thrift FsErrorCode, so the RPC layer converts without string matching:
//
//   FsError              thrift FsErrorCode      meaning
//   kNotFound            FILE_NOT_FOUND          the path (or a parent) does not exist
//   kAlreadyExists       FILE_ALREADY_EXISTS     the target exists (or mkdirs on a file)
//   kNotADirectory       NOT_A_DIRECTORY         a path component that must be a dir is a file
//   kDirectoryNotEmpty   DIRECTORY_NOT_EMPTY     non-recursive delete of a non-empty dir
//   kInvalidPath         INVALID_PATH            "invalid path '<p>': <why>"
//   kPermissionDenied    PERMISSION_DENIED       HDFS-style permission check failed
//   kIsADirectory        IS_A_DIRECTORY          a file operation on a directory
//   kInvalidArgument     INVALID_ARGUMENT        any other bad argument (replication,
//                                                block size, not under construction, ...)
//
// Value types; thread-compatible.
#pragma once

#include <glog/logging.h>

#include <optional>
#include <ostream>
#include <string>
#include <utility>

#include "common/status.h"

namespace qj::nn {

enum class FsError : uint8_t {
  kNotFound = 1,
  kAlreadyExists,
  kNotADirectory,
  kDirectoryNotEmpty,
  kInvalidPath,
  kPermissionDenied,
  kIsADirectory,
  kInvalidArgument,
};

// "NotFound", "NotADirectory", ...
const char* FsErrorName(FsError e);

class [[nodiscard]] FsStatus {
 public:
  FsStatus() = default;  // OK
  FsStatus(FsError code, std::string msg) : code_(code), msg_(std::move(msg)) {}
  static FsStatus OK() { return FsStatus(); }

  bool ok() const { return !code_.has_value(); }
  // The error; only meaningful when !ok().
  FsError code() const {
    DCHECK(!ok());
    return *code_;
  }
  const std::string& message() const { return msg_; }
  // "NotADirectory: /a/b: 'b' is not a directory" or "OK".
  std::string ToString() const;
  // Maps onto the generic Status: NotFound, AlreadyExists, PermissionDenied keep their
  // code; kInvalidPath/kInvalidArgument -> InvalidArgument; the rest -> IllegalState. The
  // message is prefixed with the FsError name so nothing is lost in logs.
  Status ToStatus() const;

 private:
  std::optional<FsError> code_;
  std::string msg_;
};

inline std::ostream& operator<<(std::ostream& os, const FsStatus& s) { return os << s.ToString(); }

// A value or the FsStatus that explains why there is none.
template <typename T>
using FsResult = BasicResult<T, FsStatus>;

}  // namespace qj::nn

#define QJ_FS_RETURN_IF_ERROR(expr)      \
  do {                                   \
    ::qj::nn::FsStatus _qj_fst = (expr); \
    if (!_qj_fst.ok()) return _qj_fst;   \
  } while (0)
