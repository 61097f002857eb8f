// Status and Result<T>: how every fallible function in qjournal reports failure.
//
// A Status is OK or carries a code and a message that says what and where (file, offset,
// txid, epoch, peer). Thread-compatible value types.
#pragma once

#include <glog/logging.h>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <utility>

namespace qj {

enum class StatusCode {
  kOk = 0,
  kNotFound,
  kAlreadyExists,
  kCorruption,
  kIOError,
  kInvalidArgument,
  kIllegalState,
  kStaleEpoch,
  kOutOfSync,
  kTimedOut,
  kNetworkError,
  kNotFormatted,
  kUnavailable,  // a journal stopped serving, a quorum was lost
  kNotActive,
  kPermissionDenied,
  kNotSupported,
  kResourceExhausted,  // a configured cap was reached (e.g. journals per journalnode)
  // Nothing listens on the peer's port (ECONNREFUSED): the process is down, not slow.
  kConnectionRefused,
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string msg) : code_(code), msg_(std::move(msg)) {}

  static Status OK() { return Status(); }
#define QJ_STATUS_CTOR(Name) \
  static Status Name(std::string msg) { return Status(StatusCode::k##Name, std::move(msg)); }
  QJ_STATUS_CTOR(NotFound)
  QJ_STATUS_CTOR(AlreadyExists)
  QJ_STATUS_CTOR(Corruption)
  QJ_STATUS_CTOR(IOError)
  QJ_STATUS_CTOR(InvalidArgument)
  QJ_STATUS_CTOR(IllegalState)
  QJ_STATUS_CTOR(OutOfSync)
  QJ_STATUS_CTOR(TimedOut)
  QJ_STATUS_CTOR(NetworkError)
  QJ_STATUS_CTOR(NotFormatted)
  QJ_STATUS_CTOR(Unavailable)
  QJ_STATUS_CTOR(NotActive)
  QJ_STATUS_CTOR(PermissionDenied)
  QJ_STATUS_CTOR(NotSupported)
  QJ_STATUS_CTOR(ResourceExhausted)
  QJ_STATUS_CTOR(ConnectionRefused)
#undef QJ_STATUS_CTOR
  // A stale-epoch error always names the promised epoch.
  static Status StaleEpoch(int64_t promised_epoch, std::string msg) {
    Status s(StatusCode::kStaleEpoch, std::move(msg));
    s.epoch_ = promised_epoch;
    return s;
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return msg_; }
  // For kStaleEpoch: the epoch the peer promised. -1 otherwise.
  int64_t promised_epoch() const { return epoch_; }

  bool IsNotFound() const { return code_ == StatusCode::kNotFound; }
  bool IsCorruption() const { return code_ == StatusCode::kCorruption; }
  bool IsStaleEpoch() const { return code_ == StatusCode::kStaleEpoch; }
  bool IsOutOfSync() const { return code_ == StatusCode::kOutOfSync; }
  bool IsTimedOut() const { return code_ == StatusCode::kTimedOut; }

  // "Corruption: edits_inprogress_... offset 4096: bad CRC".
  std::string ToString() const;
  // Prefixes the message with context: s.Prepend("jn1 ns1") -> "jn1 ns1: <msg>".
  Status Prepend(const std::string& context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string msg_;
  int64_t epoch_ = -1;
};

inline std::ostream& operator<<(std::ostream& os, const Status& s) { return os << s.ToString(); }

// A value or the status that explains why there is none. S is Status, or another status
// type with ok() and operator<< (the namenode's FsStatus: see namenode/fs_status.h).
template <typename T, typename S = Status>
class [[nodiscard]] BasicResult {
 public:
  BasicResult(T value) : value_(std::move(value)) {}    // NOLINT(runtime/explicit)
  BasicResult(S status) : status_(std::move(status)) {  // NOLINT(runtime/explicit)
    DCHECK(!status_.ok()) << "Result built from an OK status without a value";
  }

  bool ok() const { return status_.ok(); }
  const S& status() const { return status_; }
  const T& value() const& {
    CHECK(ok()) << status_;
    return *value_;
  }
  T& value() & {
    CHECK(ok()) << status_;
    return *value_;
  }
  T&& value() && {
    CHECK(ok()) << status_;
    return std::move(*value_);
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  S status_;
  std::optional<T> value_;
};

template <typename T>
using Result = BasicResult<T, Status>;

}  // namespace qj

#define QJ_CONCAT_INNER(a, b) a##b
#define QJ_CONCAT(a, b) QJ_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function if expr is not OK.
#define QJ_RETURN_IF_ERROR(expr)     \
  do {                               \
    ::qj::Status _qj_st = (expr);    \
    if (!_qj_st.ok()) return _qj_st; \
  } while (0)

#define QJ_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()

// QJ_ASSIGN_OR_RETURN(auto x, FunctionReturningResult());
#define QJ_ASSIGN_OR_RETURN(lhs, expr) \
  QJ_ASSIGN_OR_RETURN_IMPL(QJ_CONCAT(_qj_res_, __LINE__), lhs, expr)
