#include "common/rpc/idl_errors.h"

namespace qj::rpc {

namespace th = qjournal::thrift;

// ---- journal.thrift ----

const ErrorTable<JournalError>& JournalErrors() {
  static const ErrorTable<JournalError> table(
      {
          {StatusCode::kStaleEpoch, JournalError::kStaleEpoch},
          {StatusCode::kOutOfSync, JournalError::kOutOfSync},
          {StatusCode::kNotFormatted, JournalError::kNotFormatted},
          {StatusCode::kUnavailable, JournalError::kUnavailable},
          // A journal that found corruption stops serving.
          {StatusCode::kCorruption, JournalError::kUnavailable},
          {StatusCode::kIOError, JournalError::kIO},
          {StatusCode::kInvalidArgument, JournalError::kInvalid},
          {StatusCode::kAlreadyExists, JournalError::kInvalid},
          {StatusCode::kNotFound, JournalError::kInvalid},
          {StatusCode::kResourceExhausted, JournalError::kInvalid},
      },
      JournalError::kIO,
      {JournalError::kIO, JournalError::kInvalid, JournalError::kUnavailable,
       JournalError::kNotFormatted},
      StatusCode::kIOError);
  return table;
}

void ThrowJournalError(const Status& s, JournalErrorSet allowed, const std::string& message,
                       const JournalErrorDetail& detail) {
  switch (JournalErrors().ToWire(s.code(), allowed)) {
    case JournalError::kStaleEpoch: {
      th::StaleEpochException e;
      e.message = message;
      e.promisedEpoch = s.promised_epoch();
      throw e;
    }
    case JournalError::kOutOfSync: {
      th::OutOfSyncException e;
      e.message = message;
      e.expectedTxId = detail.expected_txid;
      throw e;
    }
    case JournalError::kNotFormatted: {
      th::NotFormattedException e;
      e.message = message;
      throw e;
    }
    case JournalError::kUnavailable: {
      th::JournalUnavailableException e;
      e.message = message;
      throw e;
    }
    case JournalError::kInvalid: {
      th::InvalidRequestException e;
      e.message = message;
      e.__set_code(detail.bad_journal_id ? th::InvalidRequestCode::INVALID_JOURNAL_ID
                   : s.code() == StatusCode::kResourceExhausted
                       ? th::InvalidRequestCode::TOO_MANY_JOURNALS
                       : th::InvalidRequestCode::INVALID_ARGUMENT);
      throw e;
    }
    case JournalError::kIO:
      break;
  }
  th::JournalIOException e;
  e.message = message;
  throw e;
}

std::optional<Status> JournalStatusFrom(const std::exception& e, const std::string& context,
                                        int64_t* expected_txid) {
  JournalError wire;
  std::string message;
  int64_t promised_epoch = -1;
  if (auto* x = dynamic_cast<const th::StaleEpochException*>(&e)) {
    wire = JournalError::kStaleEpoch;
    message = x->message;
    promised_epoch = x->promisedEpoch;
  } else if (auto* x = dynamic_cast<const th::OutOfSyncException*>(&e)) {
    wire = JournalError::kOutOfSync;
    message = x->message;
    if (expected_txid != nullptr) *expected_txid = x->expectedTxId;
  } else if (auto* x = dynamic_cast<const th::NotFormattedException*>(&e)) {
    wire = JournalError::kNotFormatted;
    message = x->message;
  } else if (auto* x = dynamic_cast<const th::JournalUnavailableException*>(&e)) {
    wire = JournalError::kUnavailable;
    message = x->message;
  } else if (auto* x = dynamic_cast<const th::JournalIOException*>(&e)) {
    wire = JournalError::kIO;
    message = x->message;
  } else if (auto* x = dynamic_cast<const th::InvalidRequestException*>(&e)) {
    wire = JournalError::kInvalid;
    message = x->message;
  } else {
    return std::nullopt;
  }
  if (!context.empty()) message = context + ": " + message;
  const StatusCode code = JournalErrors().ToStatus(wire);
  if (code == StatusCode::kStaleEpoch)
    return Status::StaleEpoch(promised_epoch, std::move(message));
  return Status(code, std::move(message));
}

// ---- namenode.thrift ----

const ErrorTable<FsCode>& FsErrors() {
  using C = th::FsErrorCode;
  static const ErrorTable<FsCode> table(
      {
          {StatusCode::kNotFound, C::FILE_NOT_FOUND},
          {StatusCode::kAlreadyExists, C::FILE_ALREADY_EXISTS},
          {StatusCode::kPermissionDenied, C::PERMISSION_DENIED},
          {StatusCode::kNotActive, C::NOT_ACTIVE},
          {StatusCode::kIOError, C::IO_ERROR},
          {StatusCode::kInvalidArgument, C::INVALID_ARGUMENT},
          {StatusCode::kInvalidArgument, C::INVALID_PATH},
          {StatusCode::kIllegalState, C::NOT_A_DIRECTORY},
          {StatusCode::kIllegalState, C::IS_A_DIRECTORY},
          {StatusCode::kIllegalState, C::DIRECTORY_NOT_EMPTY},
      },
      C::IO_ERROR, {C::IO_ERROR}, StatusCode::kIOError);
  return table;
}

const ErrorTable<FsCode>& AdminErrors() {
  using C = th::FsErrorCode;
  static const ErrorTable<FsCode> table(
      {
          {StatusCode::kNotActive, C::NOT_ACTIVE},
          {StatusCode::kInvalidArgument, C::INVALID_ARGUMENT},
          {StatusCode::kIllegalState, C::INVALID_ARGUMENT},
          {StatusCode::kIOError, C::IO_ERROR},
      },
      C::IO_ERROR, {C::IO_ERROR}, StatusCode::kIOError);
  return table;
}

const ErrorTable<HaCode>& HaErrors() {
  using C = th::HAErrorCode;
  static const ErrorTable<HaCode> table(
      {
          {StatusCode::kIllegalState, C::TRANSITION_FAILED},
          {StatusCode::kIllegalState, C::MANUAL_WHILE_AUTOMATIC},
          {StatusCode::kIllegalState, C::AUTOMATIC_FAILOVER_OFF},
          {StatusCode::kIllegalState, C::NOT_LEASE_HOLDER},
          {StatusCode::kIllegalState, C::INVALID_LEASE_DEADLINE},
          {StatusCode::kIllegalState, C::NOT_ACTIVE},
      },
      C::TRANSITION_FAILED, {C::TRANSITION_FAILED}, StatusCode::kIllegalState);
  return table;
}

// ---- failover.thrift ----

const ErrorTable<FailoverCode>& FailoverErrors() {
  using C = th::FailoverErrorCode;
  static const ErrorTable<FailoverCode> table(
      {
          {StatusCode::kIllegalState, C::FAILED},
          {StatusCode::kIllegalState, C::INVALID_ARGUMENT},
          {StatusCode::kIllegalState, C::AUTOMATIC_FAILOVER_OFF},
      },
      C::FAILED, {C::FAILED}, StatusCode::kIllegalState);
  return table;
}

}  // namespace qj::rpc
