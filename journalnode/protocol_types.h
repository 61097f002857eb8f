// The values of the journal protocol (DESIGN §3-4), free of Thrift: what a writer sends
// with its calls and what a journalnode answers. The journalnode's Journal (journal.h)
// returns them; the client's WriterCore, ReaderCore and recovery choice consume them. Each
// has one conversion to and from its wire struct in thrift/journal.thrift, journal_wire.h,
// used by the journalnode's handler and the client's channel alike.
//
// Plain structs: copyable, no invariants beyond the comments, no locking.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qj::jn {

// A segment: txids [start_txid, end_txid], and whether its writer may still append. For an
// in-progress segment end_txid is the last durable txid (start_txid - 1 when empty). Its
// file name on a journalnode is segment.h's SegmentName.
struct SegmentState {
  int64_t start_txid = -1;
  int64_t end_txid = -1;
  bool in_progress = false;

  int64_t num_txns() const { return end_txid - start_txid + 1; }
  // An in-progress segment that holds no edit yet (recovery treats it as no segment).
  bool empty() const { return end_txid < start_txid; }
  bool operator==(const SegmentState& o) const {
    return start_txid == o.start_txid && end_txid == o.end_txid && in_progress == o.in_progress;
  }
  bool operator!=(const SegmentState& o) const { return !(*this == o); }
  // "finalized segment [1, 10]", for messages.
  std::string ToString() const;
};

// The namespace a journal belongs to: what format stores in VERSION, and what every
// newEpoch must name (a writer of another namespace is refused).
struct NamespaceInfo {
  int64_t namespace_id = 0;
  std::string cluster_id;
  int32_t layout_version = 1;
};

// The header of every call of a writer's epoch. The journalnode refuses an epoch below
// its promise and a serial that does not increase within an epoch; committed_txid is the
// writer's commit point, which the journalnode learns from it.
struct RequestHeader {
  std::string journal_id;
  int64_t epoch = 0;
  int64_t serial = 0;
  int64_t committed_txid = -1;
};

// The part of RequestHeader the writer decides; its channel to each journalnode adds the
// journal id and that connection's next serial.
struct WriterHeader {
  int64_t epoch = 0;
  int64_t committed_txid = -1;
};

// The answer of getJournalState: a journalnode's view of one journal.
struct JournalState {
  bool formatted = false;
  int64_t promised_epoch = 0;
  int64_t writer_epoch = 0;
  int64_t committed_txid = -1;
  int64_t last_written_txid = -1;      // highest durable txid, -1 when none
  int64_t open_segment_start = -1;     // the writer's open segment, -1 when none
  std::vector<SegmentState> segments;  // by start txid
  std::optional<NamespaceInfo> ns;     // set once formatted
  std::string unavailable_reason;      // empty while serving
};

// The answer of prepareRecovery for one segment.
struct PrepareResult {
  // This node's copy of the segment (an accepted proposal wins over the file); none when it
  // has no copy or only an empty in-progress one.
  std::optional<SegmentState> segment;
  // Set when `segment` is a proposal an earlier recovery made this node accept.
  std::optional<int64_t> accepted_in_epoch;
  // Origin of `segment`: the epoch of the writer whose records it holds, 0 if unknown
  // (FORMAT.md "Origin epoch"). Passed back in acceptRecovery so that copies of the same
  // origin fetch only what they lack. Meaningless (and not sent) without a segment.
  int64_t origin_epoch = 0;
  int64_t last_writer_epoch = 0;
  // The committed txid this node has heard of.
  int64_t committed_txid = -1;
};

// The answer of getJournaledEdits: committed edits only. num_txns == 0 when nothing at or
// after the asked txid is committed here (records is then empty).
struct JournaledEdits {
  int64_t first_txid = -1;
  int32_t num_txns = 0;
  std::string records;  // encoded records (common/edit_record.h), txids dense from first_txid
  int64_t committed_txid = -1;
};

// The answer of getEditLogManifest: the segments a journalnode holds, for catch-up.
struct Manifest {
  std::vector<SegmentState> segments;  // by start txid
  int64_t committed_txid = -1;
};

// The answer of getSegmentChunk: bytes of segment [start_txid, end_txid] from `offset`,
// for a peer copying it (recovery, catch-up).
struct SegmentChunkData {
  int64_t start_txid = -1;
  int64_t end_txid = -1;
  int64_t offset = 0;
  std::string data;  // whole records
  bool eof = false;  // the chunk ends at end_txid
};

// The answer of acquireLease (DESIGN §6): granted, or not and who holds the journal's
// lease. The journalnode's LeaseTable decides it; the client's lease channel reads it.
struct LeaseAnswer {
  bool granted = false;
  // The holder: the asker when granted, else the unexpired holder ("" during the
  // journalnode's restart grace period, when nobody is granted anything).
  std::string holder;
  // How long the grant (or, not granted, the other holder's grant or the grace period) has
  // left, in ms on the answering journalnode's lease clock.
  int64_t remaining_ms = 0;
};

}  // namespace qj::jn
