// Plain types the journal client works with, free of Thrift: the channel converts the
// wire structs into these in one place (journal_channel.cc), so that the quorum writer,
// recovery and the reader are written against our own types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qj::jn {

// An empty answer (for calls that return nothing but success or a failure).
struct Void {};

// A segment as a journalnode reports it.
struct SegmentDesc {
  int64_t start_txid = -1;
  // Last txid; for an in-progress segment the last durable txid (start - 1 when empty).
  int64_t end_txid = -1;
  bool in_progress = false;

  bool empty() const { return end_txid < start_txid; }
  std::string ToString() const;
  bool operator==(const SegmentDesc& o) const {
    return start_txid == o.start_txid && end_txid == o.end_txid && in_progress == o.in_progress;
  }
};

// The answer of getJournalState.
struct JournalStateInfo {
  bool formatted = false;
  int64_t promised_epoch = 0;
  int64_t writer_epoch = 0;
  int64_t committed_txid = -1;
  int64_t last_written_txid = -1;
  int64_t current_segment_start = -1;
  std::vector<SegmentDesc> segments;
  int64_t namespace_id = 0;
  std::string cluster_id;
  std::string unavailable_reason;
};

// The answer of prepareRecovery.
struct PrepareAnswer {
  std::optional<SegmentDesc> segment;
  std::optional<int64_t> accepted_in_epoch;
  int64_t last_writer_epoch = 0;
  int64_t last_committed_txid = -1;
  // Epoch of the writer whose records `segment` holds, 0 if unknown (journal.thrift
  // segmentWriterEpoch). Passed back in acceptRecovery so that copies of the same origin
  // fetch only what they lack.
  int64_t origin_epoch = 0;
};

// Committed edits served to a reader.
struct JournaledEditsInfo {
  int64_t first_txid = -1;
  int32_t num_txns = 0;
  std::string records;
  int64_t committed_txid = -1;
};

// What a writer puts in every call's request header (the channel adds the journal id and
// the serial number).
struct WriterHeader {
  int64_t epoch = 0;
  int64_t committed_txid = -1;
};

}  // namespace qj::jn
