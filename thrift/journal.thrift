// The journalnode protocol. Names follow HDFS's QJournalProtocol so that people who know
// HDFS find their way. See docs/ARCHITECTURE.md and DESIGN.md §3-4, §6.
//
// Txids are dense and start at 1. "-1" means "none" wherever a txid or epoch is optional.
// Edits cross the wire as encoded records (common/edit_record.h): the same bytes that are
// written to the segment files, each with its own CRC32C, so a journalnode verifies and
// appends them without re-encoding.

include "rpc.thrift"

namespace cpp qjournal.thrift

// Carried by every call from a writer.
struct RequestInfo {
  1: required string journalId,
  2: required i64 epoch,
  // Strictly increasing within an epoch (rejects reordered or replayed calls).
  3: required i64 ipcSerialNumber,
  // The highest txid the writer knows is committed on a majority (-1 if none yet).
  4: required i64 committedTxId,
}

struct NamespaceInfo {
  1: required i64 namespaceId,
  2: required string clusterId,
  3: required i32 layoutVersion,
}

// --- Typed failures. Every message says what and where (journal, file, offset, txid). ---

// The call's epoch is below the epoch this journalnode promised.
exception StaleEpochException {
  1: string message,
  2: i64 promisedEpoch,
}

// The call does not fit the journal's state (wrong writer epoch, txid gap, serial reused,
// no segment open, ...).
exception OutOfSyncException {
  1: string message,
  // The next txid this journalnode expects in the open segment, or -1.
  2: i64 expectedTxId,
}

exception NotFormattedException {
  1: string message,
}

// The journal is stopped: corruption found, a failed fsync, or a lock held elsewhere.
exception JournalUnavailableException {
  1: string message,
}

// An I/O error that did not stop the journal (e.g. a read failed).
exception JournalIOException {
  1: string message,
}

enum InvalidRequestCode {
  INVALID_ARGUMENT = 1,    // bad arguments, a record that fails its CRC, sizes out of range
  INVALID_JOURNAL_ID = 2,  // not 1..64 characters of [A-Za-z0-9._-], or "." / ".."
  TOO_MANY_JOURNALS = 3,   // format of a new journal on a node at --journalnode_max_journals
}

// Malformed or refused request; nothing was done.
exception InvalidRequestException {
  1: string message,
  // Absent from servers older than the code.
  2: optional InvalidRequestCode code,
}

// --- State and answers. ---

struct SegmentInfo {
  1: required i64 startTxId,
  // Last txid in the segment; for an in-progress segment, the last durable txid
  // (startTxId - 1 when empty).
  2: required i64 endTxId,
  3: required bool isInProgress,
}

struct JournalState {
  1: required bool formatted,
  2: required i64 lastPromisedEpoch,
  3: required i64 lastWriterEpoch,
  4: required i64 committedTxId,
  // Highest txid durable on this journalnode (-1 when none).
  5: required i64 lastWrittenTxId,
  // Start txid of the open in-progress segment, -1 when none.
  6: required i64 currentSegmentStartTxId,
  7: required list<SegmentInfo> segments,
  8: optional NamespaceInfo nsInfo,
  // Why the journal is not serving, if it is stopped; empty otherwise.
  9: optional string unavailableReason,
}

struct NewEpochResponse {
  // Start txid of the newest segment on this journalnode, -1 when it has none.
  1: required i64 lastSegmentTxId,
}

struct PrepareRecoveryResponse {
  // This journalnode's copy of the segment being recovered, if it has one.
  1: optional SegmentInfo segmentState,
  // Epoch in which this journalnode last accepted a recovery proposal for the segment.
  2: optional i64 acceptedInEpoch,
  3: required i64 lastWriterEpoch,
  // The committed txid this journalnode has heard of (-1 if none).
  4: required i64 lastCommittedTxId,
  // Origin of segmentState: the epoch of the writer whose records the copy holds (from
  // paxos/<start> if this node accepted a proposal, else the writer epoch for the newest
  // in-progress segment). Absent or 0 = unknown. Two copies with the same known origin
  // agree on their common prefix, byte for byte.
  5: optional i64 segmentWriterEpoch,
}

struct EditLogManifest {
  1: required list<SegmentInfo> segments,
  // The committed txid this journalnode has heard of.
  2: required i64 committedTxId,
}

// Committed edits for readers: only txids <= committedTxId of this journalnode are served.
struct JournaledEdits {
  1: required i64 firstTxId,
  2: required i32 numTxns,
  // Encoded records, back to back.
  3: required binary records,
  4: required i64 committedTxId,
}

// One chunk of a segment file, for copying a segment between journalnodes.
struct SegmentChunk {
  1: required i64 startTxId,
  2: required i64 endTxId,
  // Byte offset of this chunk in the segment's record stream.
  3: required i64 offset,
  // Whole records only.
  4: required binary data,
  5: required bool eof,
}

struct LeaseResponse {
  1: required bool granted,
  // The unexpired holder when not granted (empty if the journalnode is in its restart
  // grace period).
  2: required string holder,
  // Milliseconds until the current grant expires on this journalnode's clock.
  3: required i64 remainingMs,
}

service JournalProtocol {
  // Administrative.
  void format(1: string journalId, 2: NamespaceInfo nsInfo, 3: bool force)
      throws (1: JournalUnavailableException unavailable, 2: JournalIOException io,
              3: InvalidRequestException invalid, 99: rpc.AccessDeniedException denied),
  bool isFormatted(1: string journalId)
      throws (1: JournalUnavailableException unavailable, 99: rpc.AccessDeniedException denied),
  JournalState getJournalState(1: string journalId)
      throws (1: NotFormattedException notFormatted,
              2: JournalUnavailableException unavailable, 99: rpc.AccessDeniedException denied),

  // Writer fencing and lifecycle (DESIGN §3).
  NewEpochResponse newEpoch(1: string journalId, 2: NamespaceInfo nsInfo, 3: i64 epoch)
      throws (1: StaleEpochException stale, 2: NotFormattedException notFormatted,
              3: JournalUnavailableException unavailable, 4: JournalIOException io,
              5: InvalidRequestException invalid, 99: rpc.AccessDeniedException denied),
  void heartbeat(1: RequestInfo reqInfo)
      throws (1: StaleEpochException stale, 2: NotFormattedException notFormatted,
              3: JournalUnavailableException unavailable, 4: JournalIOException io,
              5: OutOfSyncException outOfSync, 99: rpc.AccessDeniedException denied),
  void startLogSegment(1: RequestInfo reqInfo, 2: i64 txid, 3: i32 layoutVersion)
      throws (1: StaleEpochException stale, 2: NotFormattedException notFormatted,
              3: JournalUnavailableException unavailable, 4: JournalIOException io,
              5: OutOfSyncException outOfSync, 99: rpc.AccessDeniedException denied),
  // Appends numTxns records starting at firstTxId to the open segment segmentTxId;
  // returns after they are fdatasync'ed.
  void journal(1: RequestInfo reqInfo, 2: i64 segmentTxId, 3: i64 firstTxId,
               4: i32 numTxns, 5: binary records)
      throws (1: StaleEpochException stale, 2: NotFormattedException notFormatted,
              3: JournalUnavailableException unavailable, 4: JournalIOException io,
              5: OutOfSyncException outOfSync, 6: InvalidRequestException invalid, 99: rpc.AccessDeniedException denied),
  void finalizeLogSegment(1: RequestInfo reqInfo, 2: i64 startTxId, 3: i64 endTxId)
      throws (1: StaleEpochException stale, 2: NotFormattedException notFormatted,
              3: JournalUnavailableException unavailable, 4: JournalIOException io,
              5: OutOfSyncException outOfSync, 99: rpc.AccessDeniedException denied),
  // Deletes finalized segments that end below minTxIdToKeep.
  void purgeLogs(1: RequestInfo reqInfo, 2: i64 minTxIdToKeep)
      throws (1: StaleEpochException stale, 2: NotFormattedException notFormatted,
              3: JournalUnavailableException unavailable, 4: JournalIOException io, 99: rpc.AccessDeniedException denied),

  // Readers.
  EditLogManifest getEditLogManifest(1: string journalId, 2: i64 sinceTxId,
                                     3: bool inProgressOk)
      throws (1: NotFormattedException notFormatted,
              2: JournalUnavailableException unavailable, 3: JournalIOException io, 99: rpc.AccessDeniedException denied),
  JournaledEdits getJournaledEdits(1: string journalId, 2: i64 sinceTxId, 3: i32 maxTxns)
      throws (1: NotFormattedException notFormatted,
              2: JournalUnavailableException unavailable, 3: JournalIOException io,
              4: InvalidRequestException invalid, 99: rpc.AccessDeniedException denied),

  // Recovery (DESIGN §4).
  PrepareRecoveryResponse prepareRecovery(1: RequestInfo reqInfo, 2: i64 segmentTxId)
      throws (1: StaleEpochException stale, 2: NotFormattedException notFormatted,
              3: JournalUnavailableException unavailable, 4: JournalIOException io, 99: rpc.AccessDeniedException denied),
  // Accept the proposal: make this journalnode's copy of the segment equal to
  // stateToAccept, copying it from fromPeer ("host:port") when needed. fromWriterEpoch is
  // the origin (segmentWriterEpoch) fromPeer reported for its copy, 0 if unknown: a copy
  // here of the same known origin is completed by fetching only the records it lacks.
  void acceptRecovery(1: RequestInfo reqInfo, 2: SegmentInfo stateToAccept,
                      3: string fromPeer, 4: i64 fromWriterEpoch = 0)
      throws (1: StaleEpochException stale, 2: NotFormattedException notFormatted,
              3: JournalUnavailableException unavailable, 4: JournalIOException io,
              5: OutOfSyncException outOfSync, 6: InvalidRequestException invalid, 99: rpc.AccessDeniedException denied),

  // Segment transfer between journalnodes (recovery and background catch-up). Serves
  // a finalized segment, or the durable prefix [startTxId, endTxId] of an in-progress one.
  SegmentChunk getSegmentChunk(1: string journalId, 2: i64 startTxId, 3: i64 endTxId,
                               4: i64 offset, 5: i32 maxBytes)
      throws (1: NotFormattedException notFormatted,
              2: JournalUnavailableException unavailable, 3: JournalIOException io,
              4: InvalidRequestException invalid, 99: rpc.AccessDeniedException denied),

  // Leases (DESIGN §6), measured on this journalnode's monotonic clock.
  LeaseResponse acquireLease(1: string journalId, 2: string holderId, 3: i64 durationMs)
      throws (1: InvalidRequestException invalid, 99: rpc.AccessDeniedException denied),
  void releaseLease(1: string journalId, 2: string holderId)
      throws (1: InvalidRequestException invalid, 99: rpc.AccessDeniedException denied),
}
