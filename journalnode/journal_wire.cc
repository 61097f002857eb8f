#include "journalnode/journal_wire.h"

#include <tuple>
#include <utility>

#include "common/rpc/field_map.h"

namespace qj::jn {

namespace th = qjournal::thrift;
using rpc::Field;

namespace {

// Each type's plain fields, once (common/rpc/field_map.h); optional and nested fields
// are converted by hand below.
constexpr auto kSegmentFields =
    std::make_tuple(Field(&SegmentState::start_txid, &th::SegmentInfo::startTxId),
                    Field(&SegmentState::end_txid, &th::SegmentInfo::endTxId),
                    Field(&SegmentState::in_progress, &th::SegmentInfo::isInProgress));

constexpr auto kNamespaceFields =
    std::make_tuple(Field(&NamespaceInfo::namespace_id, &th::NamespaceInfo::namespaceId),
                    Field(&NamespaceInfo::cluster_id, &th::NamespaceInfo::clusterId),
                    Field(&NamespaceInfo::layout_version, &th::NamespaceInfo::layoutVersion));

constexpr auto kRequestFields =
    std::make_tuple(Field(&RequestHeader::journal_id, &th::RequestInfo::journalId),
                    Field(&RequestHeader::epoch, &th::RequestInfo::epoch),
                    Field(&RequestHeader::serial, &th::RequestInfo::ipcSerialNumber),
                    Field(&RequestHeader::committed_txid, &th::RequestInfo::committedTxId));

constexpr auto kJournalStateFields = std::make_tuple(
    Field(&JournalState::formatted, &th::JournalState::formatted),
    Field(&JournalState::promised_epoch, &th::JournalState::lastPromisedEpoch),
    Field(&JournalState::writer_epoch, &th::JournalState::lastWriterEpoch),
    Field(&JournalState::committed_txid, &th::JournalState::committedTxId),
    Field(&JournalState::last_written_txid, &th::JournalState::lastWrittenTxId),
    Field(&JournalState::open_segment_start, &th::JournalState::currentSegmentStartTxId));

constexpr auto kPrepareFields = std::make_tuple(
    Field(&PrepareResult::last_writer_epoch, &th::PrepareRecoveryResponse::lastWriterEpoch),
    Field(&PrepareResult::committed_txid, &th::PrepareRecoveryResponse::lastCommittedTxId));

constexpr auto kEditsFields =
    std::make_tuple(Field(&JournaledEdits::first_txid, &th::JournaledEdits::firstTxId),
                    Field(&JournaledEdits::num_txns, &th::JournaledEdits::numTxns),
                    Field(&JournaledEdits::records, &th::JournaledEdits::records),
                    Field(&JournaledEdits::committed_txid, &th::JournaledEdits::committedTxId));

constexpr auto kManifestFields =
    std::make_tuple(Field(&Manifest::committed_txid, &th::EditLogManifest::committedTxId));

constexpr auto kChunkFields =
    std::make_tuple(Field(&SegmentChunkData::start_txid, &th::SegmentChunk::startTxId),
                    Field(&SegmentChunkData::end_txid, &th::SegmentChunk::endTxId),
                    Field(&SegmentChunkData::offset, &th::SegmentChunk::offset),
                    Field(&SegmentChunkData::data, &th::SegmentChunk::data),
                    Field(&SegmentChunkData::eof, &th::SegmentChunk::eof));

constexpr auto kLeaseFields =
    std::make_tuple(Field(&LeaseAnswer::granted, &th::LeaseResponse::granted),
                    Field(&LeaseAnswer::holder, &th::LeaseResponse::holder),
                    Field(&LeaseAnswer::remaining_ms, &th::LeaseResponse::remainingMs));

std::vector<th::SegmentInfo> SegmentsToThrift(const std::vector<SegmentState>& segments) {
  std::vector<th::SegmentInfo> out;
  out.reserve(segments.size());
  for (const SegmentState& seg : segments) out.push_back(ToThrift(seg));
  return out;
}

std::vector<SegmentState> SegmentsFromThrift(const std::vector<th::SegmentInfo>& segments) {
  std::vector<SegmentState> out;
  out.reserve(segments.size());
  for (const th::SegmentInfo& seg : segments) out.push_back(FromThrift(seg));
  return out;
}

}  // namespace

th::SegmentInfo ToThrift(const SegmentState& s) {
  return rpc::ToWire<th::SegmentInfo>(kSegmentFields, s);
}

SegmentState FromThrift(const th::SegmentInfo& s) {
  return rpc::FromWire<SegmentState>(kSegmentFields, s);
}

th::NamespaceInfo ToThrift(const NamespaceInfo& ns) {
  return rpc::ToWire<th::NamespaceInfo>(kNamespaceFields, ns);
}

NamespaceInfo FromThrift(const th::NamespaceInfo& ns) {
  return rpc::FromWire<NamespaceInfo>(kNamespaceFields, ns);
}

th::RequestInfo ToThrift(const RequestHeader& h) {
  return rpc::ToWire<th::RequestInfo>(kRequestFields, h);
}

RequestHeader FromThrift(const th::RequestInfo& h) {
  return rpc::FromWire<RequestHeader>(kRequestFields, h);
}

th::JournalState ToThrift(const JournalState& s) {
  th::JournalState out = rpc::ToWire<th::JournalState>(kJournalStateFields, s);
  out.segments = SegmentsToThrift(s.segments);
  if (s.ns) out.__set_nsInfo(ToThrift(*s.ns));
  if (!s.unavailable_reason.empty()) out.__set_unavailableReason(s.unavailable_reason);
  return out;
}

JournalState FromThrift(const th::JournalState& s) {
  JournalState out = rpc::FromWire<JournalState>(kJournalStateFields, s);
  out.segments = SegmentsFromThrift(s.segments);
  if (s.__isset.nsInfo) out.ns = FromThrift(s.nsInfo);
  if (s.__isset.unavailableReason) out.unavailable_reason = s.unavailableReason;
  return out;
}

th::PrepareRecoveryResponse ToThrift(const PrepareResult& r) {
  th::PrepareRecoveryResponse out = rpc::ToWire<th::PrepareRecoveryResponse>(kPrepareFields, r);
  if (r.segment) out.__set_segmentState(ToThrift(*r.segment));
  if (r.accepted_in_epoch) out.__set_acceptedInEpoch(*r.accepted_in_epoch);
  if (r.segment && r.origin_epoch > 0) out.__set_segmentWriterEpoch(r.origin_epoch);
  return out;
}

PrepareResult FromThrift(const th::PrepareRecoveryResponse& r) {
  PrepareResult out = rpc::FromWire<PrepareResult>(kPrepareFields, r);
  if (r.__isset.segmentState) out.segment = FromThrift(r.segmentState);
  if (r.__isset.acceptedInEpoch) out.accepted_in_epoch = r.acceptedInEpoch;
  if (r.__isset.segmentWriterEpoch) out.origin_epoch = r.segmentWriterEpoch;
  return out;
}

th::JournaledEdits ToThrift(JournaledEdits e) {
  return rpc::ToWire<th::JournaledEdits>(kEditsFields, std::move(e));
}

JournaledEdits FromThrift(th::JournaledEdits e) {
  return rpc::FromWire<JournaledEdits>(kEditsFields, std::move(e));
}

th::EditLogManifest ToThrift(const Manifest& m) {
  th::EditLogManifest out = rpc::ToWire<th::EditLogManifest>(kManifestFields, m);
  out.segments = SegmentsToThrift(m.segments);
  return out;
}

Manifest FromThrift(const th::EditLogManifest& m) {
  Manifest out = rpc::FromWire<Manifest>(kManifestFields, m);
  out.segments = SegmentsFromThrift(m.segments);
  return out;
}

th::SegmentChunk ToThrift(SegmentChunkData c) {
  return rpc::ToWire<th::SegmentChunk>(kChunkFields, std::move(c));
}

SegmentChunkData FromThrift(th::SegmentChunk c) {
  return rpc::FromWire<SegmentChunkData>(kChunkFields, std::move(c));
}

th::LeaseResponse ToThrift(const LeaseAnswer& a) {
  return rpc::ToWire<th::LeaseResponse>(kLeaseFields, a);
}

LeaseAnswer FromThrift(const th::LeaseResponse& a) {
  return rpc::FromWire<LeaseAnswer>(kLeaseFields, a);
}

}  // namespace qj::jn
