// The per-IDL error tables (common/rpc/idl_errors.h): every row crosses the wall and comes
// back through the same functions the servers and clients use, and the codes on the wire
// are the ones clients were promised (the golden lists below are the mappings the servers
// and clients wrote by hand before the tables).
#include <gtest/gtest.h>

#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <utility>

#include "common/rpc/idl_errors.h"

namespace qj::rpc {
namespace {

namespace th = qjournal::thrift;

// The StatusCode a client reads for `wire`: the first row naming it.
template <typename Code>
StatusCode FirstStatusOf(const ErrorTable<Code>& t, Code wire) {
  for (const auto& r : t.rows()) {
    if (r.wire == wire) return r.status;
  }
  return t.unknown_wire_status();
}

// ---- journal.thrift ----

// Throws `s` as the journalnode does and reads it back as JournalChannel does.
Status JournalRoundTrip(const Status& s, JournalErrorSet allowed, JournalErrorDetail detail,
                        int64_t* expected_txid, std::string* thrown_type) {
  try {
    ThrowJournalError(s, allowed, "jn1 ns1: " + s.message(), detail);
  } catch (const apache::thrift::TException& e) {
    *thrown_type = typeid(e).name();
    std::optional<Status> back = JournalStatusFrom(e, "127.0.0.1:1 journal", expected_txid);
    if (!back) return Status::IOError("not a journal exception");
    return *back;
  }
  return Status::OK();
}

TEST(JournalErrors, EveryRowRoundTrips) {
  const auto& table = JournalErrors();
  ASSERT_FALSE(table.rows().empty());
  for (const auto& row : table.rows()) {
    SCOPED_TRACE(StatusCodeName(row.status));
    const Status s = row.status == StatusCode::kStaleEpoch ? Status::StaleEpoch(7, "promised 7")
                                                           : Status(row.status, "what and where");
    int64_t expected = -2;
    std::string type;
    JournalErrorDetail detail;
    detail.expected_txid = 42;
    const Status back = JournalRoundTrip(s, JournalErrorSet::All(), detail, &expected, &type);
    EXPECT_EQ(table.ToWire(row.status), row.wire) << "a StatusCode with two rows";
    EXPECT_EQ(back.code(), FirstStatusOf(table, row.wire)) << back;
    EXPECT_EQ(back.message(), "127.0.0.1:1 journal: jn1 ns1: " + s.message());
    if (row.status == StatusCode::kStaleEpoch) {
      EXPECT_EQ(back.promised_epoch(), 7);
    }
    EXPECT_EQ(expected, row.status == StatusCode::kOutOfSync ? 42 : -2);
  }
}

// What each Status became on the wire before the table, and what clients read back.
TEST(JournalErrors, WireCodesAreThoseClientsWerePromised) {
  struct Case {
    StatusCode in;
    const char* exception;  // substring of the mangled type name
    StatusCode back;
  };
  const Case cases[] = {
      {StatusCode::kStaleEpoch, "StaleEpochException", StatusCode::kStaleEpoch},
      {StatusCode::kOutOfSync, "OutOfSyncException", StatusCode::kOutOfSync},
      {StatusCode::kNotFormatted, "NotFormattedException", StatusCode::kNotFormatted},
      {StatusCode::kUnavailable, "JournalUnavailableException", StatusCode::kUnavailable},
      {StatusCode::kCorruption, "JournalUnavailableException", StatusCode::kUnavailable},
      {StatusCode::kIOError, "JournalIOException", StatusCode::kIOError},
      {StatusCode::kInvalidArgument, "InvalidRequestException", StatusCode::kInvalidArgument},
      {StatusCode::kAlreadyExists, "InvalidRequestException", StatusCode::kInvalidArgument},
      {StatusCode::kNotFound, "InvalidRequestException", StatusCode::kInvalidArgument},
      {StatusCode::kResourceExhausted, "InvalidRequestException", StatusCode::kInvalidArgument},
      {StatusCode::kTimedOut, "JournalIOException", StatusCode::kIOError},
      {StatusCode::kIllegalState, "JournalIOException", StatusCode::kIOError},
      {StatusCode::kNetworkError, "JournalIOException", StatusCode::kIOError},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(StatusCodeName(c.in));
    std::string type;
    const Status back =
        JournalRoundTrip(Status(c.in, "m"), JournalErrorSet::All(), {}, nullptr, &type);
    EXPECT_NE(type.find(c.exception), std::string::npos) << type;
    EXPECT_EQ(back.code(), c.back) << back;
  }
}

// A code the method does not declare becomes the first declared of IO, invalid,
// unavailable, not formatted.
TEST(JournalErrors, UndeclaredCodesFallBackInOrder) {
  using E = JournalError;
  const auto& t = JournalErrors();
  EXPECT_EQ(t.ToWire(StatusCode::kStaleEpoch, {E::kIO, E::kInvalid}), E::kIO);
  EXPECT_EQ(t.ToWire(StatusCode::kOutOfSync, {E::kInvalid, E::kUnavailable}), E::kInvalid);
  EXPECT_EQ(t.ToWire(StatusCode::kIOError, {E::kUnavailable, E::kNotFormatted}), E::kUnavailable);
  EXPECT_EQ(t.ToWire(StatusCode::kInvalidArgument, {E::kNotFormatted}), E::kNotFormatted);
  EXPECT_EQ(t.ToWire(StatusCode::kStaleEpoch, {E::kStaleEpoch, E::kIO}), E::kStaleEpoch);
}

TEST(JournalErrors, InvalidRequestCodes) {
  auto code_of = [](const Status& s, bool bad_id) {
    JournalErrorDetail d;
    d.bad_journal_id = bad_id;
    try {
      ThrowJournalError(s, JournalErrorSet::All(), "m", d);
    } catch (const th::InvalidRequestException& e) {
      EXPECT_TRUE(e.__isset.code);
      return static_cast<int>(e.code);
    } catch (...) {
    }
    return -1;
  };
  EXPECT_EQ(code_of(Status::InvalidArgument("x"), false), th::InvalidRequestCode::INVALID_ARGUMENT);
  EXPECT_EQ(code_of(Status::ResourceExhausted("x"), false),
            th::InvalidRequestCode::TOO_MANY_JOURNALS);
  EXPECT_EQ(code_of(Status::InvalidArgument("x"), true),
            th::InvalidRequestCode::INVALID_JOURNAL_ID);
}

TEST(JournalErrors, OtherExceptionsAreNotJournalErrors) {
  EXPECT_FALSE(JournalStatusFrom(th::FsException(), "x").has_value());
  EXPECT_FALSE(JournalStatusFrom(std::runtime_error("x"), "x").has_value());
}

// ---- single-exception IDLs ----

template <typename ExceptionT, typename Code>
void ExpectEveryRowRoundTrips(const ErrorTable<Code>& table) {
  ASSERT_FALSE(table.rows().empty());
  for (const auto& row : table.rows()) {
    SCOPED_TRACE(std::string(StatusCodeName(row.status)) + " / wire " +
                 std::to_string(static_cast<int>(row.wire)));
    const Status s(row.status, "what and where");
    ExceptionT e = ToException<ExceptionT>(s, table, s.ToString());
    EXPECT_EQ(e.code, table.ToWire(row.status));
    const Status back = StatusFrom(e, table, "nn1 call");
    EXPECT_EQ(back.code(), FirstStatusOf(table, e.code)) << back;
    EXPECT_EQ(back.message(), "nn1 call: " + s.ToString());
    // The wire code a client reads, thrown again, is read the same way.
    const Status again = StatusFrom(ToException<ExceptionT>(back, table, "m"), table, "");
    EXPECT_EQ(again.code(), back.code());
    // And the row itself, read from the wire, gives the StatusCode its first row names.
    ExceptionT w;
    w.__set_code(row.wire);
    EXPECT_EQ(StatusFrom(w, table, "").code(), FirstStatusOf(table, row.wire));
  }
  // An exception without its optional code (an older server) is the unknown status.
  ExceptionT bare;
  bare.message = "m";
  EXPECT_EQ(StatusFrom(bare, table, "").code(), table.unknown_wire_status());
  EXPECT_EQ(StatusFrom(bare, table, "").message(), "m");
}

TEST(FsErrors, EveryRowRoundTrips) { ExpectEveryRowRoundTrips<th::FsException>(FsErrors()); }
TEST(HaErrors, EveryRowRoundTrips) {
  ExpectEveryRowRoundTrips<th::ServiceFailedException>(HaErrors());
}
TEST(FailoverErrors, EveryRowRoundTrips) {
  ExpectEveryRowRoundTrips<th::FailoverException>(FailoverErrors());
}

TEST(AdminErrors, EveryRowRoundTrips) { ExpectEveryRowRoundTrips<th::FsException>(AdminErrors()); }

// saveNamespace / rollEdits: a role that may not run the call is NOT_ACTIVE (clients retry
// elsewhere), a call this state refuses is INVALID_ARGUMENT (it stays IllegalState in the
// namenode), anything else IO_ERROR; a client reads back only those three meanings.
TEST(AdminErrors, StateRefusalsAreInvalidArgument) {
  using C = th::FsErrorCode;
  const auto& t = AdminErrors();
  EXPECT_EQ(t.ToWire(StatusCode::kNotActive), C::NOT_ACTIVE);
  EXPECT_EQ(t.ToWire(StatusCode::kIllegalState), C::INVALID_ARGUMENT);
  EXPECT_EQ(t.ToWire(StatusCode::kInvalidArgument), C::INVALID_ARGUMENT);
  EXPECT_EQ(t.ToWire(StatusCode::kIOError), C::IO_ERROR);
  EXPECT_EQ(t.ToWire(StatusCode::kNotFound), C::IO_ERROR);
  EXPECT_EQ(t.ToWire(StatusCode::kStaleEpoch), C::IO_ERROR);
  EXPECT_EQ(t.ToStatus(C::NOT_ACTIVE), StatusCode::kNotActive);
  EXPECT_EQ(t.ToStatus(C::INVALID_ARGUMENT), StatusCode::kInvalidArgument);
  EXPECT_EQ(t.ToStatus(C::IO_ERROR), StatusCode::kIOError);
  EXPECT_EQ(t.ToStatus(C::FILE_NOT_FOUND), StatusCode::kIOError);
}

// The namenode's server failures: what a client may act on (NOT_ACTIVE: retry elsewhere)
// and nothing else; fetchImage adds FILE_NOT_FOUND and nothing else.
TEST(FsErrors, ServerFailureCodes) {
  using C = th::FsErrorCode;
  const FsCodeSet server{C::NOT_ACTIVE, C::INVALID_ARGUMENT, C::IO_ERROR};
  const FsCodeSet image{C::FILE_NOT_FOUND, C::IO_ERROR};
  const auto& t = FsErrors();
  EXPECT_EQ(t.ToWire(StatusCode::kNotActive, server), C::NOT_ACTIVE);
  EXPECT_EQ(t.ToWire(StatusCode::kInvalidArgument, server), C::INVALID_ARGUMENT);
  EXPECT_EQ(t.ToWire(StatusCode::kNotFound, server), C::IO_ERROR);
  EXPECT_EQ(t.ToWire(StatusCode::kIllegalState, server), C::IO_ERROR);
  EXPECT_EQ(t.ToWire(StatusCode::kStaleEpoch, server), C::IO_ERROR);
  EXPECT_EQ(t.ToWire(StatusCode::kNotFound, image), C::FILE_NOT_FOUND);
  EXPECT_EQ(t.ToWire(StatusCode::kInvalidArgument, image), C::IO_ERROR);
  EXPECT_EQ(t.ToWire(StatusCode::kNotActive, image), C::IO_ERROR);
}

// What FailoverProxy reported for each code before the table.
TEST(FsErrors, ClientStatusesAreThoseClientsWerePromised) {
  using C = th::FsErrorCode;
  // Wire values as the i32s a peer sends: 99 is in no enum (a newer or hostile server), and
  // must read as the unknown code without being loaded as the enum type.
  const std::pair<int32_t, StatusCode> cases[] = {
      {C::FILE_NOT_FOUND, StatusCode::kNotFound},
      {C::FILE_ALREADY_EXISTS, StatusCode::kAlreadyExists},
      {C::PERMISSION_DENIED, StatusCode::kPermissionDenied},
      {C::NOT_ACTIVE, StatusCode::kNotActive},
      {C::IO_ERROR, StatusCode::kIOError},
      {C::INVALID_PATH, StatusCode::kInvalidArgument},
      {C::INVALID_ARGUMENT, StatusCode::kInvalidArgument},
      {C::NOT_A_DIRECTORY, StatusCode::kIllegalState},
      {C::IS_A_DIRECTORY, StatusCode::kIllegalState},
      {C::DIRECTORY_NOT_EMPTY, StatusCode::kIllegalState},
      {99, StatusCode::kIOError},
  };
  for (const auto& [wire, status] : cases) {
    th::FsException e;
    std::memcpy(&e.code, &wire, sizeof wire);  // as Thrift's reader stores it
    e.__isset.code = true;
    e.message = "m";
    EXPECT_EQ(StatusFrom(e, FsErrors(), "").code(), status) << wire;
  }
}

TEST(HaAndFailoverErrors, EveryFailureIsTheGenericCode) {
  EXPECT_EQ(HaErrors().ToWire(StatusCode::kIOError), th::HAErrorCode::TRANSITION_FAILED);
  EXPECT_EQ(HaErrors().ToWire(StatusCode::kIllegalState), th::HAErrorCode::TRANSITION_FAILED);
  EXPECT_EQ(FailoverErrors().ToWire(StatusCode::kNetworkError), th::FailoverErrorCode::FAILED);
  EXPECT_EQ(FailoverErrors().ToWire(StatusCode::kIllegalState), th::FailoverErrorCode::FAILED);
}

}  // namespace
}  // namespace qj::rpc
