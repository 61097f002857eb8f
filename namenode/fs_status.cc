#include "namenode/fs_status.h"

namespace qj::nn {

const char* FsErrorName(FsError e) {
  switch (e) {
    case FsError::kNotFound:
      return "NotFound";
    case FsError::kAlreadyExists:
      return "AlreadyExists";
    case FsError::kNotADirectory:
      return "NotADirectory";
    case FsError::kDirectoryNotEmpty:
      return "DirectoryNotEmpty";
    case FsError::kInvalidPath:
      return "InvalidPath";
    case FsError::kPermissionDenied:
      return "PermissionDenied";
    case FsError::kIsADirectory:
      return "IsADirectory";
    case FsError::kInvalidArgument:
      return "InvalidArgument";
  }
  return "Unknown";
}

std::string FsStatus::ToString() const {
  if (ok()) return "OK";
  return std::string(FsErrorName(*code_)) + ": " + msg_;
}

Status FsStatus::ToStatus() const {
  if (ok()) return Status::OK();
  switch (*code_) {
    case FsError::kNotFound:
      return Status::NotFound(msg_);
    case FsError::kAlreadyExists:
      return Status::AlreadyExists(msg_);
    case FsError::kPermissionDenied:
      return Status::PermissionDenied(msg_);
    case FsError::kInvalidPath:
    case FsError::kInvalidArgument:
      return Status::InvalidArgument(ToString());
    case FsError::kNotADirectory:
    case FsError::kDirectoryNotEmpty:
    case FsError::kIsADirectory:
      return Status::IllegalState(ToString());
  }
  return Status::IllegalState(ToString());
}

}  // namespace qj::nn
