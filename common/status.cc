#include "common/status.h"

namespace qj {

const char* StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "OK";
    case StatusCode::kNotFound:
      return "NotFound";
    case StatusCode::kAlreadyExists:
      return "AlreadyExists";
    case StatusCode::kCorruption:
      return "Corruption";
    case StatusCode::kIOError:
      return "IOError";
    case StatusCode::kInvalidArgument:
      return "InvalidArgument";
    case StatusCode::kIllegalState:
      return "IllegalState";
    case StatusCode::kStaleEpoch:
      return "StaleEpoch";
    case StatusCode::kOutOfSync:
      return "OutOfSync";
    case StatusCode::kTimedOut:
      return "TimedOut";
    case StatusCode::kNetworkError:
      return "NetworkError";
    case StatusCode::kNotFormatted:
      return "NotFormatted";
    case StatusCode::kUnavailable:
      return "Unavailable";
    case StatusCode::kNotActive:
      return "NotActive";
    case StatusCode::kPermissionDenied:
      return "PermissionDenied";
    case StatusCode::kNotSupported:
      return "NotSupported";
    case StatusCode::kResourceExhausted:
      return "ResourceExhausted";
    case StatusCode::kConnectionRefused:
      return "ConnectionRefused";
  }
  return "Unknown";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out = StatusCodeName(code_);
  if (code_ == StatusCode::kStaleEpoch) out += "(promised=" + std::to_string(epoch_) + ")";
  out += ": ";
  out += msg_;
  return out;
}

Status Status::Prepend(const std::string& context) const {
  if (ok()) return *this;
  Status s = *this;
  s.msg_ = context + ": " + msg_;
  return s;
}

}  // namespace qj
