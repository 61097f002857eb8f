// journal_wire.h: every protocol value survives ToThrift -> FromThrift, and the bytes each
// conversion puts on the wire are the ones journal.thrift has always carried. The expected
// bytes below were produced by the converters this file replaced (the journalnode's
// handler and the client's channel each had their own), so a change here is a change of
// the wire format that old peers would see.
#include "journalnode/journal_wire.h"

#include <gtest/gtest.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>

#include <memory>
#include <sstream>
#include <string>

namespace qj::jn {
namespace {

namespace th = qjournal::thrift;

// The struct as TBinaryProtocol writes it, in hex.
template <typename T>
std::string WireHex(const T& v) {
  auto buf = std::make_shared<apache::thrift::transport::TMemoryBuffer>();
  apache::thrift::protocol::TBinaryProtocol proto(buf);
  v.write(&proto);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : buf->getBufferAsString()) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

// Every field, so that a failed comparison shows what differs.
std::string Show(const SegmentState& s) { return s.ToString(); }
std::string Show(const NamespaceInfo& n) {
  return std::to_string(n.namespace_id) + "/" + n.cluster_id + "/v" +
         std::to_string(n.layout_version);
}
std::string Show(const RequestHeader& h) {
  return h.journal_id + " epoch " + std::to_string(h.epoch) + " serial " +
         std::to_string(h.serial) + " committed " + std::to_string(h.committed_txid);
}
std::string Show(const JournalState& s) {
  std::ostringstream o;
  o << "formatted " << s.formatted << " promised " << s.promised_epoch << " writer "
    << s.writer_epoch << " committed " << s.committed_txid << " written " << s.last_written_txid
    << " open " << s.open_segment_start << " ns " << (s.ns ? Show(*s.ns) : "-") << " reason '"
    << s.unavailable_reason << "' segments";
  for (const SegmentState& seg : s.segments) o << " " << Show(seg);
  return o.str();
}
std::string Show(const PrepareResult& r) {
  std::ostringstream o;
  o << "segment " << (r.segment ? Show(*r.segment) : "-") << " accepted "
    << (r.accepted_in_epoch ? std::to_string(*r.accepted_in_epoch) : "-") << " origin "
    << r.origin_epoch << " writer " << r.last_writer_epoch << " committed " << r.committed_txid;
  return o.str();
}
std::string Show(const JournaledEdits& e) {
  return std::to_string(e.first_txid) + " x" + std::to_string(e.num_txns) + " '" + e.records +
         "' committed " + std::to_string(e.committed_txid);
}
std::string Show(const Manifest& m) {
  std::string out = "committed " + std::to_string(m.committed_txid);
  for (const SegmentState& seg : m.segments) out += " " + Show(seg);
  return out;
}
std::string Show(const SegmentChunkData& c) {
  return std::to_string(c.start_txid) + ".." + std::to_string(c.end_txid) + " @" +
         std::to_string(c.offset) + " '" + c.data + "' eof " + std::to_string(c.eof);
}
std::string Show(const LeaseAnswer& a) {
  return std::string(a.granted ? "granted" : "refused") + " holder '" + a.holder + "' " +
         std::to_string(a.remaining_ms) + " ms";
}

// FromThrift(ToThrift(v)) == v, and ToThrift(v) is `hex` on the wire.
template <typename T>
void ExpectWire(const T& v, const std::string& hex) {
  const auto wire = ToThrift(v);
  EXPECT_EQ(WireHex(wire), hex) << Show(v);
  EXPECT_EQ(Show(FromThrift(wire)), Show(v));
}

JournalState Serving() {
  JournalState s;
  s.formatted = true;
  s.promised_epoch = 4;
  s.writer_epoch = 3;
  s.committed_txid = 99;
  s.last_written_txid = 101;
  s.open_segment_start = 100;
  s.segments = {SegmentState{1, 99, false}, SegmentState{100, 101, true}};
  s.ns = NamespaceInfo{42, "cluster-a", 1};
  return s;
}

TEST(JournalWireTest, SegmentNamespaceHeader) {
  ExpectWire(SegmentState{1, 10, false}, "0a000100000000000000010a0002000000000000000a0200030000");
  ExpectWire(SegmentState{11, 10, true},  // an empty in-progress segment
             "0a0001000000000000000b0a0002000000000000000a0200030100");
  ExpectWire(NamespaceInfo{42, "cluster-a", 1},
             "0a0001000000000000002a0b000200000009636c75737465722d610800030000000100");
  ExpectWire(RequestHeader{"ns1", 3, 17, 99},
             "0b0001000000036e73310a000200000000000000030a000300000000000000110a000400"
             "0000000000006300");
}

TEST(JournalWireTest, JournalState) {
  ExpectWire(Serving(),
             "020001010a000200000000000000040a000300000000000000030a000400000000000000"
             "630a000500000000000000650a000600000000000000640f00070c000000020a00010000"
             "0000000000010a0002000000000000006302000300000a000100000000000000640a0002"
             "000000000000006502000301000c00080a0001000000000000002a0b000200000009636c"
             "75737465722d61080003000000010000");
}

TEST(JournalWireTest, PrepareResult) {
  PrepareResult none;
  none.last_writer_epoch = 2;
  none.committed_txid = -1;
  ExpectWire(none, "0a000300000000000000020a0004ffffffffffffffff00");

  PrepareResult accepted;
  accepted.segment = SegmentState{1, 30, true};
  accepted.accepted_in_epoch = 5;
  accepted.origin_epoch = 4;
  accepted.last_writer_epoch = 4;
  accepted.committed_txid = 25;
  ExpectWire(accepted,
             "0c00010a000100000000000000010a0002000000000000001e02000301000a0002000000"
             "00000000050a000300000000000000040a000400000000000000190a0005000000000000"
             "000400");

  // The origin of an old or finalized copy is unknown (0) and is not sent.
  PrepareResult unknown_origin = accepted;
  unknown_origin.accepted_in_epoch.reset();
  unknown_origin.origin_epoch = 0;
  ExpectWire(unknown_origin,
             "0c00010a000100000000000000010a0002000000000000001e02000301000a0003000000"
             "00000000040a0004000000000000001900");
}

TEST(JournalWireTest, PrepareResultOriginTravelsOnlyWithASegment) {
  PrepareResult r;
  r.origin_epoch = 7;  // without a segment it means nothing: not sent
  r.last_writer_epoch = 7;
  EXPECT_EQ(FromThrift(ToThrift(r)).origin_epoch, 0);
  r.segment = SegmentState{1, 3, true};
  EXPECT_EQ(FromThrift(ToThrift(r)).origin_epoch, 7);
}

TEST(JournalWireTest, ReadsAndTransfers) {
  ExpectWire(JournaledEdits{5, 2, std::string("ab\0c", 4), 9},
             "0a00010000000000000005080002000000020b000300000004616200630a000400000000"
             "0000000900");
  // Nothing committed past 9.
  ExpectWire(JournaledEdits{10, 0, "", 9},
             "0a0001000000000000000a080002000000000b0003000000000a00040000000000000009"
             "00");
  Manifest m;
  m.segments = {SegmentState{1, 10, false}, SegmentState{11, 20, false}};
  m.committed_txid = 20;
  ExpectWire(m,
             "0f00010c000000020a000100000000000000010a0002000000000000000a02000300000a"
             "0001000000000000000b0a0002000000000000001402000300000a000200000000000000"
             "1400");
  ExpectWire(SegmentChunkData{1, 10, 4096, "records", true},
             "0a000100000000000000010a0002000000000000000a0a000300000000000010000b0004"
             "000000077265636f7264730200050100");
}

TEST(JournalWireTest, LeaseAnswer) {
  ExpectWire(LeaseAnswer{true, "nn1", 3000},
             "020001010b0002000000036e6e310a00030000000000000bb800");
  ExpectWire(LeaseAnswer{false, "nn2", 1}, "020001000b0002000000036e6e320a0003000000000000000100");
  // Refused during the journalnode's restart grace period: no holder.
  ExpectWire(LeaseAnswer{false, "", 9999}, "020001000b0002000000000a0003000000000000270f00");
}

TEST(JournalWireTest, StoppedJournalStateCarriesItsReason) {
  JournalState s = Serving();
  s.unavailable_reason = "jn1 ns1: fdatasync failed";
  ExpectWire(s,
             "020001010a000200000000000000040a000300000000000000030a000400000000000000"
             "630a000500000000000000650a000600000000000000640f00070c000000020a00010000"
             "0000000000010a0002000000000000006302000300000a000100000000000000640a0002"
             "000000000000006502000301000c00080a0001000000000000002a0b000200000009636c"
             "75737465722d6108000300000001000b0009000000196a6e31206e73313a206664617461"
             "73796e63206661696c656400");
  // Unformatted: no namespace on the wire.
  JournalState blank;
  ExpectWire(blank,
             "020001000a000200000000000000000a000300000000000000000a0004ffffffffffffff"
             "ff0a0005ffffffffffffffff0a0006ffffffffffffffff0f00070c0000000000");
}

}  // namespace
}  // namespace qj::jn
