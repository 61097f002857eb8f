// The error table of each IDL (errors.h), used by its server and by its clients:
//
//   journal.thrift   JournalErrors(): one exception type per code; ThrowJournalError /
//                    JournalStatusFrom below
//   namenode.thrift  FsErrors() (FsException.code), AdminErrors() (FsException.code of the
//                    administration calls), HaErrors() (ServiceFailedException.code)
//   failover.thrift  FailoverErrors() (FailoverException.code)
//
// Thread-safety: the tables are built once (function-local statics) and immutable.
#pragma once

#include <cstdint>
#include <exception>
#include <optional>
#include <string>

#include "common/rpc/errors.h"
#include "common/status.h"
#include "failover_types.h"
#include "journal_types.h"
#include "namenode_types.h"

namespace qj::rpc {

// ---- journal.thrift ----

// Which of journal.thrift's typed exceptions carries a failure (its wire "code").
enum class JournalError : uint8_t {
  kStaleEpoch = 1,  // StaleEpochException (promisedEpoch)
  kOutOfSync,       // OutOfSyncException (expectedTxId)
  kNotFormatted,    // NotFormattedException
  kUnavailable,     // JournalUnavailableException
  kIO,              // JournalIOException
  kInvalid,         // InvalidRequestException (InvalidRequestCode)
};
using JournalErrorSet = CodeSet<JournalError>;

const ErrorTable<JournalError>& JournalErrors();

// What the server knows beyond the Status when it throws.
struct JournalErrorDetail {
  // OutOfSyncException.expectedTxId: the next txid the journal expects, or -1.
  int64_t expected_txid = -1;
  // InvalidRequestException.code INVALID_JOURNAL_ID (else TOO_MANY_JOURNALS for
  // ResourceExhausted, INVALID_ARGUMENT for the rest).
  bool bad_journal_id = false;
};

// Throws the exception JournalErrors() gives for `s` among those `allowed` (what the
// method declares), with `message`; StaleEpochException carries s.promised_epoch().
[[noreturn]] void ThrowJournalError(const Status& s, JournalErrorSet allowed,
                                    const std::string& message,
                                    const JournalErrorDetail& detail = {});

// The Status of one of journal.thrift's typed exceptions: "<context>: <message>" with the
// code JournalErrors() gives (StaleEpoch keeps promisedEpoch; OutOfSyncException's
// expectedTxId goes to *expected_txid when given). nullopt for any other exception
// (transport, protocol, application): the caller handles those.
std::optional<Status> JournalStatusFrom(const std::exception& e, const std::string& context,
                                        int64_t* expected_txid = nullptr);

// ---- namenode.thrift ----

using FsCode = qjournal::thrift::FsErrorCode::type;
using FsCodeSet = CodeSet<FsCode>;
// Server failures that are not namespace answers (FsError, mapped 1:1 by the handler):
// NotActive -> NOT_ACTIVE (clients retry those on another namenode), InvalidArgument ->
// INVALID_ARGUMENT, NotFound -> FILE_NOT_FOUND where the call allows it; anything else
// IO_ERROR. Clients read the namespace codes back as NotFound, AlreadyExists,
// PermissionDenied, InvalidArgument (INVALID_PATH too) and IllegalState (NOT_A_DIRECTORY,
// IS_A_DIRECTORY, DIRECTORY_NOT_EMPTY).
const ErrorTable<FsCode>& FsErrors();

// The administration calls (saveNamespace, rollEdits, getNamenodeReport): NotActive ->
// NOT_ACTIVE (a role that may not run the call; the handler adds the believed active),
// InvalidArgument and IllegalState -> INVALID_ARGUMENT (a call this state refuses, such as a
// checkpoint asked of the active: retrying elsewhere or later is the operator's choice);
// anything else IO_ERROR. A client reads them back as NotActive, InvalidArgument, IOError.
const ErrorTable<FsCode>& AdminErrors();

using HaCode = qjournal::thrift::HAErrorCode::type;
// A failed transition or renewal is TRANSITION_FAILED; a client reads every HA code as
// IllegalState (the refusals are explained by their message).
const ErrorTable<HaCode>& HaErrors();

// ---- failover.thrift ----

using FailoverCode = qjournal::thrift::FailoverErrorCode::type;
// A failed cede or graceful failover is FAILED; a client reads every code as IllegalState.
const ErrorTable<FailoverCode>& FailoverErrors();

}  // namespace qj::rpc
