// How a Status crosses a Thrift wall and comes back: one table per IDL, read by its
// server (Status -> typed exception) and by its clients (typed exception -> Status).
//
// An ErrorTable pairs StatusCodes with one IDL's wire codes (a generated enum such as
// FsErrorCode, or, for journal.thrift, which of its exceptions is thrown). Both directions
// read the same rows, so a code added to the IDL is added once, and a client cannot
// disagree with the server about what a code means:
//
//   Status -> wire: the first row naming the StatusCode, else the table's default. A call
//     that may throw only some codes (what its IDL method declares, or what its callers
//     are promised) passes them as `allowed`; a code outside them becomes the first of
//     the table's fallbacks that is allowed.
//   wire -> Status: the first row naming the wire code, else the table's unknown status
//     (a code from a newer server, or an optional code the server left out).
//
// Rows are many-to-one in either direction (IllegalState is what a client sees for
// NOT_A_DIRECTORY and IS_A_DIRECTORY alike), so a StatusCode's round trip is exact only
// for its first row; rpc_errors_test checks every row of every table.
//
// ToException/ThrowAs/StatusFrom serve IDLs whose failures are one exception type with
// `message` and an optional `code` field (namenode.thrift's FsException and
// ServiceFailedException, failover.thrift's FailoverException); journal.thrift has one
// exception type per code, mapped in idl_errors.h with the same table type.
//
// Thread-safety: tables are immutable after construction; everything here is thread-safe.
#pragma once

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace qj::rpc {

// A set of wire codes (enum values 0..63).
template <typename Code>
class CodeSet {
 public:
  // Every code.
  static constexpr CodeSet All() { return CodeSet(~uint64_t{0}); }
  constexpr CodeSet(std::initializer_list<Code> codes) {
    for (Code c : codes) bits_ |= Bit(c);
  }
  constexpr bool Has(Code c) const { return (bits_ & Bit(c)) != 0; }
  constexpr CodeSet operator|(CodeSet o) const { return CodeSet(bits_ | o.bits_); }

 private:
  explicit constexpr CodeSet(uint64_t bits) : bits_(bits) {}
  static constexpr uint64_t Bit(Code c) {
    const auto v = static_cast<uint64_t>(c);
    return v < 64 ? uint64_t{1} << v : 0;
  }
  uint64_t bits_ = 0;
};

template <typename Code>
class ErrorTable {
 public:
  struct Row {
    StatusCode status;
    Code wire;
  };

  // `unmapped_status_wire`: the wire code of a StatusCode in no row. `fallbacks`: in
  // order, what a call throws instead of a code it may not. `unknown_wire_status`: the
  // StatusCode of a wire code in no row.
  ErrorTable(std::vector<Row> rows, Code unmapped_status_wire, std::vector<Code> fallbacks,
             StatusCode unknown_wire_status)
      : rows_(std::move(rows)),
        unmapped_status_wire_(unmapped_status_wire),
        fallbacks_(std::move(fallbacks)),
        unknown_wire_status_(unknown_wire_status) {}

  Code ToWire(StatusCode code, CodeSet<Code> allowed = CodeSet<Code>::All()) const {
    Code want = unmapped_status_wire_;
    for (const Row& r : rows_) {
      if (r.status == code) {
        want = r.wire;
        break;
      }
    }
    if (allowed.Has(want)) return want;
    for (Code f : fallbacks_) {
      if (allowed.Has(f)) return f;
    }
    // Nothing the call declares fits: the client sees an undeclared exception
    // (TApplicationException), which is still a failure.
    return want;
  }

  StatusCode ToStatus(Code wire) const { return ToStatusRaw(static_cast<int32_t>(wire)); }
  // The same for the wire value as received: a peer may send a number outside the enum,
  // which must not be loaded as the enum type (undefined behaviour).
  StatusCode ToStatusRaw(int32_t wire) const {
    for (const Row& r : rows_) {
      if (static_cast<int32_t>(r.wire) == wire) return r.status;
    }
    return unknown_wire_status_;
  }

  const std::vector<Row>& rows() const { return rows_; }
  StatusCode unknown_wire_status() const { return unknown_wire_status_; }

 private:
  const std::vector<Row> rows_;
  const Code unmapped_status_wire_;
  const std::vector<Code> fallbacks_;
  const StatusCode unknown_wire_status_;
};

// The exception for `s` (not OK): code from the table, `message` as given (callers
// choose how much of the Status it shows). Callers set any further fields themselves.
template <typename ExceptionT, typename Code>
ExceptionT ToException(const Status& s, const ErrorTable<Code>& table, std::string message,
                       CodeSet<Code> allowed = CodeSet<Code>::All()) {
  ExceptionT e;
  e.message = std::move(message);
  e.__set_code(table.ToWire(s.code(), allowed));
  return e;
}

template <typename ExceptionT, typename Code>
[[noreturn]] void ThrowAs(const Status& s, const ErrorTable<Code>& table, std::string message,
                          CodeSet<Code> allowed = CodeSet<Code>::All()) {
  throw ToException<ExceptionT>(s, table, std::move(message), allowed);
}

// The Status a client reports for `e`: "<context>: <message>", or the message alone when
// context is empty. `code` is read whether or not __isset says so (Thrift sets __isset for
// a field of default requiredness only when it reads one); an exception without its
// optional code holds 0, which no IDL enum uses, and reads as the unknown code.
template <typename ExceptionT, typename Code>
Status StatusFrom(const ExceptionT& e, const ErrorTable<Code>& table, const std::string& context) {
  // The code as the i32 it arrived as (see ToStatusRaw): copied, not loaded as the enum.
  static_assert(sizeof(e.code) == sizeof(int32_t), "Thrift enums are i32 on the wire");
  int32_t raw;
  std::memcpy(&raw, &e.code, sizeof raw);
  const StatusCode code = table.ToStatusRaw(raw);
  return Status(code, context.empty() ? e.message : context + ": " + e.message);
}

}  // namespace qj::rpc
