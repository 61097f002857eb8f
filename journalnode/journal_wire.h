// The one conversion between the journal protocol's values (protocol_types.h) and their
// Thrift structs (thrift/journal.thrift), in both directions. The journalnode's handler
// (journal_service.cc), the client's channel (client/journal_channel.cc) and the
// journalnode's peer client (peer_client.cc) all convert here, so the two ends cannot
// drift apart.
//
// Every conversion is total: FromThrift(ToThrift(v)) == v for every value, except that
// PrepareResult::origin_epoch travels only with a segment and only when positive (0 means
// unknown), and an empty JournalState::unavailable_reason is not sent. The wire bytes are
// those journal.thrift has always carried (journal_wire_test pins them).
//
// Thread-safe: pure functions.
#pragma once

#include "journal_types.h"  // generated from thrift/journal.thrift
#include "journalnode/protocol_types.h"

namespace qj::jn {

qjournal::thrift::SegmentInfo ToThrift(const SegmentState& s);
SegmentState FromThrift(const qjournal::thrift::SegmentInfo& s);

qjournal::thrift::NamespaceInfo ToThrift(const NamespaceInfo& ns);
NamespaceInfo FromThrift(const qjournal::thrift::NamespaceInfo& ns);

qjournal::thrift::RequestInfo ToThrift(const RequestHeader& h);
RequestHeader FromThrift(const qjournal::thrift::RequestInfo& h);

qjournal::thrift::JournalState ToThrift(const JournalState& s);
JournalState FromThrift(const qjournal::thrift::JournalState& s);

qjournal::thrift::PrepareRecoveryResponse ToThrift(const PrepareResult& r);
PrepareResult FromThrift(const qjournal::thrift::PrepareRecoveryResponse& r);

// The records are moved, not copied: a batch can be megabytes.
qjournal::thrift::JournaledEdits ToThrift(JournaledEdits e);
JournaledEdits FromThrift(qjournal::thrift::JournaledEdits e);

qjournal::thrift::EditLogManifest ToThrift(const Manifest& m);
Manifest FromThrift(const qjournal::thrift::EditLogManifest& m);

qjournal::thrift::SegmentChunk ToThrift(SegmentChunkData c);
SegmentChunkData FromThrift(qjournal::thrift::SegmentChunk c);

qjournal::thrift::LeaseResponse ToThrift(const LeaseAnswer& a);
LeaseAnswer FromThrift(const qjournal::thrift::LeaseResponse& a);

}  // namespace qj::jn
