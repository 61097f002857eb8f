#include "journalnode/journal_wire.h"

#include <utility>

namespace qj::jn {

namespace th = qjournal::thrift;

th::SegmentInfo ToThrift(const SegmentState& s) {
  th::SegmentInfo out;
  out.startTxId = s.start_txid;
  out.endTxId = s.end_txid;
  out.isInProgress = s.in_progress;
  return out;
}

SegmentState FromThrift(const th::SegmentInfo& s) {
  return SegmentState{s.startTxId, s.endTxId, s.isInProgress};
}

th::NamespaceInfo ToThrift(const NamespaceInfo& ns) {
  th::NamespaceInfo out;
  out.namespaceId = ns.namespace_id;
  out.clusterId = ns.cluster_id;
  out.layoutVersion = ns.layout_version;
  return out;
}

NamespaceInfo FromThrift(const th::NamespaceInfo& ns) {
  return NamespaceInfo{ns.namespaceId, ns.clusterId, ns.layoutVersion};
}

th::RequestInfo ToThrift(const RequestHeader& h) {
  th::RequestInfo out;
  out.journalId = h.journal_id;
  out.epoch = h.epoch;
  out.ipcSerialNumber = h.serial;
  out.committedTxId = h.committed_txid;
  return out;
}

RequestHeader FromThrift(const th::RequestInfo& h) {
  return RequestHeader{h.journalId, h.epoch, h.ipcSerialNumber, h.committedTxId};
}

th::JournalState ToThrift(const JournalState& s) {
  th::JournalState out;
  out.formatted = s.formatted;
  out.lastPromisedEpoch = s.promised_epoch;
  out.lastWriterEpoch = s.writer_epoch;
  out.committedTxId = s.committed_txid;
  out.lastWrittenTxId = s.last_written_txid;
  out.currentSegmentStartTxId = s.open_segment_start;
  out.segments.reserve(s.segments.size());
  for (const SegmentState& seg : s.segments) out.segments.push_back(ToThrift(seg));
  if (s.ns) out.__set_nsInfo(ToThrift(*s.ns));
  if (!s.unavailable_reason.empty()) out.__set_unavailableReason(s.unavailable_reason);
  return out;
}

JournalState FromThrift(const th::JournalState& s) {
  JournalState out;
  out.formatted = s.formatted;
  out.promised_epoch = s.lastPromisedEpoch;
  out.writer_epoch = s.lastWriterEpoch;
  out.committed_txid = s.committedTxId;
  out.last_written_txid = s.lastWrittenTxId;
  out.open_segment_start = s.currentSegmentStartTxId;
  out.segments.reserve(s.segments.size());
  for (const th::SegmentInfo& seg : s.segments) out.segments.push_back(FromThrift(seg));
  if (s.__isset.nsInfo) out.ns = FromThrift(s.nsInfo);
  if (s.__isset.unavailableReason) out.unavailable_reason = s.unavailableReason;
  return out;
}

th::PrepareRecoveryResponse ToThrift(const PrepareResult& r) {
  th::PrepareRecoveryResponse out;
  if (r.segment) out.__set_segmentState(ToThrift(*r.segment));
  if (r.accepted_in_epoch) out.__set_acceptedInEpoch(*r.accepted_in_epoch);
  out.lastWriterEpoch = r.last_writer_epoch;
  out.lastCommittedTxId = r.committed_txid;
  if (r.segment && r.origin_epoch > 0) out.__set_segmentWriterEpoch(r.origin_epoch);
  return out;
}

PrepareResult FromThrift(const th::PrepareRecoveryResponse& r) {
  PrepareResult out;
  if (r.__isset.segmentState) out.segment = FromThrift(r.segmentState);
  if (r.__isset.acceptedInEpoch) out.accepted_in_epoch = r.acceptedInEpoch;
  out.last_writer_epoch = r.lastWriterEpoch;
  out.committed_txid = r.lastCommittedTxId;
  if (r.__isset.segmentWriterEpoch) out.origin_epoch = r.segmentWriterEpoch;
  return out;
}

th::JournaledEdits ToThrift(JournaledEdits e) {
  th::JournaledEdits out;
  out.firstTxId = e.first_txid;
  out.numTxns = e.num_txns;
  out.records = std::move(e.records);
  out.committedTxId = e.committed_txid;
  return out;
}

JournaledEdits FromThrift(th::JournaledEdits e) {
  JournaledEdits out;
  out.first_txid = e.firstTxId;
  out.num_txns = e.numTxns;
  out.records = std::move(e.records);
  out.committed_txid = e.committedTxId;
  return out;
}

th::EditLogManifest ToThrift(const Manifest& m) {
  th::EditLogManifest out;
  out.segments.reserve(m.segments.size());
  for (const SegmentState& seg : m.segments) out.segments.push_back(ToThrift(seg));
  out.committedTxId = m.committed_txid;
  return out;
}

Manifest FromThrift(const th::EditLogManifest& m) {
  Manifest out;
  out.segments.reserve(m.segments.size());
  for (const th::SegmentInfo& seg : m.segments) out.segments.push_back(FromThrift(seg));
  out.committed_txid = m.committedTxId;
  return out;
}

th::SegmentChunk ToThrift(SegmentChunkData c) {
  th::SegmentChunk out;
  out.startTxId = c.start_txid;
  out.endTxId = c.end_txid;
  out.offset = c.offset;
  out.data = std::move(c.data);
  out.eof = c.eof;
  return out;
}

SegmentChunkData FromThrift(th::SegmentChunk c) {
  SegmentChunkData out;
  out.start_txid = c.startTxId;
  out.end_txid = c.endTxId;
  out.offset = c.offset;
  out.data = std::move(c.data);
  out.eof = c.eof;
  return out;
}

th::LeaseResponse ToThrift(const LeaseAnswer& a) {
  th::LeaseResponse out;
  out.granted = a.granted;
  out.holder = a.holder;
  out.remainingMs = a.remaining_ms;
  return out;
}

LeaseAnswer FromThrift(const th::LeaseResponse& a) {
  LeaseAnswer out;
  out.granted = a.granted;
  out.holder = a.holder;
  out.remaining_ms = a.remainingMs;
  return out;
}

}  // namespace qj::jn
