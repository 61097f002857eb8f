// One table of field pairs per converted type: (our struct's member, the Thrift struct's
// member). A converter reads the table in one direction or the other, so the two
// directions of a type cannot name different fields, and each field is listed once.
//
//   constexpr auto kSegmentFields = std::make_tuple(
//       rpc::Field(&SegmentState::start_txid, &th::SegmentInfo::startTxId), ...);
//   th::SegmentInfo ToThrift(const SegmentState& s) {
//     return rpc::ToWire<th::SegmentInfo>(kSegmentFields, s);
//   }
//   SegmentState FromThrift(const th::SegmentInfo& s) {
//     return rpc::FromWire<SegmentState>(kSegmentFields, s);
//   }
//
// Only plain fields belong in a table: Thrift's `optional` fields (which need __set_ and
// __isset) and nested structs are converted by hand after the table's copy. A value is
// converted with static_cast (e.g. uint16_t <-> i16); from an rvalue, members are moved
// (a batch's records are megabytes).
//
// Thread-safe: pure functions.
#pragma once

#include <tuple>
#include <type_traits>
#include <utility>

namespace qj::rpc {

template <typename Ours, typename OursT, typename Wire, typename WireT>
struct FieldPair {
  OursT Ours::*ours;
  WireT Wire::*wire;
};

template <typename Ours, typename OursT, typename Wire, typename WireT>
constexpr FieldPair<Ours, OursT, Wire, WireT> Field(OursT Ours::*ours, WireT Wire::*wire) {
  return {ours, wire};
}

template <typename T, typename V>
void Assign(T& to, V&& value) {
  to = static_cast<T>(std::forward<V>(value));
}

// Copies (or, from an rvalue, moves) every field of `table` from `in` into *out: from our
// members to the Thrift ones when kToWire, the other way otherwise.
template <bool kToWire, typename Table, typename From, typename To>
void CopyFields(const Table& table, From&& in, To* out) {
  std::apply(
      [&](const auto&... f) {
        if constexpr (kToWire) {
          (Assign(out->*(f.wire), std::forward<From>(in).*(f.ours)), ...);
        } else {
          (Assign(out->*(f.ours), std::forward<From>(in).*(f.wire)), ...);
        }
      },
      table);
}

template <typename Wire, typename Table, typename Ours>
Wire ToWire(const Table& table, Ours&& in) {
  Wire out;
  CopyFields<true>(table, std::forward<Ours>(in), &out);
  return out;
}

template <typename Ours, typename Table, typename Wire>
Ours FromWire(const Table& table, Wire&& in) {
  Ours out{};
  CopyFields<false>(table, std::forward<Wire>(in), &out);
  return out;
}

}  // namespace qj::rpc
