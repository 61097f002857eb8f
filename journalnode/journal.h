// Journal: one journal (one namespace) on one journalnode — its durable state, the epoch
// rules of DESIGN §3, the write path, the reads, recovery (prepare / accept) and the
// background catch-up from peers. No Thrift types: journal_service.cc maps these calls
// and their Status codes to the RPC surface in one place.
//
// Durable layout and persistence order: journalnode/FORMAT.md.
//
// Thread-safety: all public methods are thread-safe. Mutexes, in lock order
// io_mu_ -> persist_mu_ -> mu_:
//   io_mu_  serializes every change of durable state (one writer drives a journal). It is
//           held across disk I/O by design, never across an RPC, and never taken by
//           readers (GetJournaledEdits, GetEditLogManifest, GetSegmentChunk, GetState),
//           so reads never wait behind an fdatasync.
//   persist_mu_ serializes writes of committed-txid (by the background flush, finalize
//           and format), so that the hint's fsyncs never stall the write path.
//   mu_     guards the in-memory state below; held only for short, I/O-free sections.
//
// Failure behaviour: calls return StaleEpoch (naming the promised epoch), OutOfSync,
// NotFormatted, InvalidArgument (bad request / records), AlreadyExists (format without
// force), IOError (a read failed; the journal goes on) or Unavailable. Corruption found
// at start-up or while reading, or any failed write / fsync of journal state, stops the
// journal for good (Unavailable with the reason, naming file and offset) until it is
// reformatted; the process keeps serving its other journals.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/file_ops.h"
#include "common/metrics.h"
#include "common/mutex.h"
#include "common/status.h"
#include "journalnode/edits_cache.h"
#include "journalnode/protocol_types.h"
#include "journalnode/segment.h"

namespace qj::jn {

// How a journal reaches its peers (recovery copies, catch-up). The daemon's
// implementation speaks Thrift (peer_client.h); tests may wire journals in-process.
class PeerClient {
 public:
  virtual ~PeerClient() = default;
  virtual Result<SegmentChunkData> GetSegmentChunk(const std::string& peer,
                                                   const std::string& journal_id,
                                                   int64_t start_txid, int64_t end_txid,
                                                   int64_t offset, int32_t max_bytes) = 0;
  virtual Result<Manifest> GetManifest(const std::string& peer, const std::string& journal_id) = 0;
};

struct JournalOptions {
  std::string node_name = "jn";  // for log lines and error messages
  std::string journal_id;
  std::string dir;  // <edits_dir>/<journal id>
  FileOps* file_ops = FileOps::Posix();
  Clock* clock = RealClock::Get();
  PeerClient* peers = nullptr;  // null: no recovery copies or catch-up
  // This node's "host:port" as peers name it (acceptRecovery from self copies nothing).
  std::string self_address;
  size_t cache_bytes = 32u << 20;
  int64_t committed_persist_interval_ms = 1000;
  uint64_t preallocate_bytes = 1u << 20;
  // Upper bound on the records returned by one read call.
  size_t max_read_bytes = 4u << 20;
  int32_t max_read_txns = 10000;
  int32_t transfer_chunk_bytes = 1 << 20;
  // A batch whose write + fdatasync takes longer is counted and logged (WARNING).
  int64_t slow_sync_warn_ms = 1000;
  // Largest journal() batch accepted (the RPC frame bound). It also bounds the unsynced
  // bytes a power loss can leave after the last synced batch (the hole rule, FORMAT.md).
  uint64_t max_batch_bytes = 16u << 20;
};

// What the write and read paths count, for the journalnode's /metrics and status page
// (journal_web.cc). Updated without a lock; read at any time.
struct JournalCounters {
  metrics::Counter batches, edits, bytes;     // journal() calls written and fdatasync'ed
  metrics::Counter cache_hits, cache_misses;  // committed reads served from / past the cache
  metrics::Counter slow_syncs;                // batches slower than slow_sync_warn_ms
  // Time to write one batch (to the page cache) and fdatasync it: the fdatasync dominates.
  metrics::Histogram sync_seconds{metrics::ExponentialBuckets(0.0001, 2, 16)};
  // The highest committed txid the current writer reported, before this node clamps it to
  // what it holds: its distance to last_written_txid is how far this node lags.
  std::atomic<int64_t> writer_committed_txid{-1};
};

class Journal {
 public:
  // Loads the journal (a missing directory is an unformatted journal). Never fails: a
  // load error (corruption, unreadable files) leaves the journal Unavailable with it.
  static std::unique_ptr<Journal> Open(const JournalOptions& opts);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // --- Administrative. ---
  // Unavailable (with the reason) if the journal is stopped.
  Result<bool> IsFormatted() const;
  // AlreadyExists if formatted and !force; Unavailable if the journal is stopped (a
  // corrupt VERSION must not look unformatted) unless force, which also clears it.
  Status Format(const NamespaceInfo& info, bool force);
  Result<JournalState> GetState() const;

  // --- Writer fencing and lifecycle. ---
  // Returns the start txid of the newest segment, -1 when none.
  Result<int64_t> NewEpoch(const NamespaceInfo& info, int64_t epoch);
  Status Heartbeat(const RequestHeader& h);
  Status StartLogSegment(const RequestHeader& h, int64_t txid, int32_t layout_version);
  // Returns after the records are fdatasync'ed.
  Status JournalEdits(const RequestHeader& h, int64_t segment_txid, int64_t first_txid,
                      int32_t num_txns, std::string_view records);
  Status FinalizeLogSegment(const RequestHeader& h, int64_t start_txid, int64_t end_txid);
  Status PurgeLogs(const RequestHeader& h, int64_t min_txid_to_keep);

  // --- Readers. ---
  Result<Manifest> GetEditLogManifest(int64_t since_txid, bool in_progress_ok) const;
  // Committed edits only (txid <= the committed txid this node heard of).
  Result<JournaledEdits> GetJournaledEdits(int64_t since_txid, int32_t max_txns);
  Result<SegmentChunkData> GetSegmentChunk(int64_t start_txid, int64_t end_txid, int64_t offset,
                                           int32_t max_bytes);

  // --- Recovery (DESIGN §4). ---
  Result<PrepareResult> PrepareRecovery(const RequestHeader& h, int64_t segment_txid);
  // Makes this node's copy equal to `state`, copying from `from_peer` what it lacks.
  // origin_epoch: the origin epoch from_peer reported for its copy (0 = unknown). When
  // this node's in-progress copy has the same known origin and ends at or before
  // state.end_txid, only the missing records are fetched. The download holds no lock and
  // stops early once a higher epoch is promised or the journal is reformatted.
  Status AcceptRecovery(const RequestHeader& h, const SegmentState& state,
                        const std::string& from_peer, int64_t origin_epoch = 0);

  // --- Background. ---
  // Downloads finalized segments this node lacks from `peer` (those ending at or below
  // the committed txid), verified before install. Returns how many were installed.
  Result<int> CatchUpFrom(const std::string& peer);
  // Persists the committed txid if it changed (called periodically and at shutdown).
  Status FlushCommittedTxId();

  // The next txid journal() expects, -1 when no segment is open (for OutOfSync answers).
  int64_t NextExpectedTxId() const;
  // "jn1 ns1" — the prefix of every message about this journal.
  const std::string& who() const { return who_; }
  const JournalCounters& counters() const { return counters_; }

 private:
  struct SegmentEntry {
    SegmentState state;
    uint64_t data_length = 0;  // in-progress only: bytes of verified records
    bool verified = false;     // every record's CRC checked since start-up
  };

  explicit Journal(const JournalOptions& opts);
  std::string CurrentDir() const { return opts_.dir + "/current"; }
  std::string PaxosDir() const { return opts_.dir + "/current/paxos"; }
  std::string SegPath(const SegmentState& s) const { return CurrentDir() + "/" + SegmentName(s); }

  // Load and metadata (journal.cc).
  // Load runs with io_mu_ held and no other thread using the journal.
  Status Load() REQUIRES(io_mu_) EXCLUDES(mu_);
  Status LoadSegments() REQUIRES(io_mu_) EXCLUDES(mu_);
  Status CompleteInterruptedRecovery(const std::vector<std::string>& names) REQUIRES(io_mu_)
      EXCLUDES(mu_);
  Status ReadInt(const std::string& name, int64_t dflt, int64_t* out);
  Status WriteInt(const std::string& name, int64_t v);

  // Checks shared by the calls.
  Status CheckServing() const REQUIRES(mu_);
  Status CheckFormattedServing() const REQUIRES(mu_);
  // Epoch and serial checks for writer calls; persists a higher epoch first.
  Status CheckRequest(const RequestHeader& h) REQUIRES(io_mu_) EXCLUDES(mu_);
  Status PersistPromise(int64_t epoch) REQUIRES(io_mu_) EXCLUDES(mu_);
  // Records the header's committed txid: only from the current writer's epoch, and never
  // beyond this node's own last durable txid.
  void NoteCommitted(const RequestHeader& h) REQUIRES(mu_);
  // Counts one written batch; logs it if slower than slow_sync_warn_ms.
  void NoteSync(int64_t nanos, int64_t first_txid, int64_t count, size_t bytes);
  // Persists the committed txid when due.
  Status MaybePersistCommitted(bool force) EXCLUDES(persist_mu_, mu_);
  // Stops the journal for good; returns the Unavailable status to answer with.
  Status Fail(const Status& cause) EXCLUDES(mu_);
  // The reason a stopped journal gives: "<who><what>: [Corruption: ]<cause>".
  Status StoppedStatus(const Status& cause, const std::string& what) const;
  Status ErrorLocked(Status s) const { return s.Prepend(who_); }
  // Closes the writer's open segment, if any.
  void AbortOpenSegment(const char* why) REQUIRES(io_mu_) EXCLUDES(mu_);
  // Opens (reopens) the newest in-progress segment for appends in the writer epoch.
  Status ReopenForAppend(int64_t segment_txid) REQUIRES(io_mu_) EXCLUDES(mu_);
  int64_t LastWrittenTxIdLocked() const REQUIRES(mu_);

  // Reads (journal_read.cc).
  Result<JournaledEdits> ReadCommitted(int64_t since_txid, int32_t max_txns) EXCLUDES(mu_);
  // Reads records [since, up_to] from one segment file, verifying them; appends to *out.
  Result<int64_t> ReadFromSegment(const SegmentEntry& seg, int64_t since, int64_t up_to,
                                  size_t max_bytes, std::string* out) EXCLUDES(mu_);
  Status NoteReadCorruption(const Status& s) EXCLUDES(mu_);

  // Recovery and transfer (journal_recovery.cc).
  // What a download may start from: this node's own copy of the same origin.
  struct LocalPrefix {
    std::string path;
    uint64_t data_length = 0;
    int64_t end_txid = 0;  // last txid in [0, data_length)
  };
  // Called between chunks; a non-OK status stops the download (superseded accept).
  using StillWanted = std::function<Status()>;
  Status DownloadSegment(const std::string& peer, const SegmentState& want,
                         const std::string& tmp_path, const LocalPrefix* prefix = nullptr,
                         const StillWanted& still_wanted = nullptr) EXCLUDES(io_mu_, mu_);
  // Copies [0, prefix.data_length) of the local copy into tmp and fetches the rest from
  // peer at the same offset. NotFound/InvalidArgument/Corruption: the copies do not line
  // up (the caller falls back to a full download).
  Status ResumeFromPrefix(SegmentFile* tmp, const std::string& peer, const SegmentState& want,
                          const LocalPrefix& prefix, int64_t* offset, bool* eof)
      EXCLUDES(io_mu_, mu_);
  // Renames a verified copy into place and drops any other copy of the same segment.
  Status InstallCopy(const std::string& tmp_path, const SegmentState& state) REQUIRES(io_mu_)
      EXCLUDES(mu_);
  // writer_epoch (optional): the origin epoch recorded with the proposal, 0 if the file
  // predates the field.
  Status ReadAccepted(int64_t segment_txid, std::optional<SegmentState>* state,
                      int64_t* accepted_epoch, int64_t* writer_epoch = nullptr);

  const JournalOptions opts_;
  const std::string who_;
  FileOps* const ops_;

  Mutex io_mu_ ACQUIRED_BEFORE(persist_mu_);
  std::unique_ptr<SegmentWriter> writer_ GUARDED_BY(io_mu_);

  Mutex persist_mu_ ACQUIRED_BEFORE(mu_);
  int64_t persisted_committed_ GUARDED_BY(persist_mu_) = -1;
  int64_t last_committed_persist_nanos_ GUARDED_BY(persist_mu_) = 0;

  mutable Mutex mu_;
  bool formatted_ GUARDED_BY(mu_) = false;
  NamespaceInfo storage_ GUARDED_BY(mu_);
  int64_t promised_epoch_ GUARDED_BY(mu_) = 0;
  int64_t writer_epoch_ GUARDED_BY(mu_) = 0;
  int64_t committed_txid_ GUARDED_BY(mu_) = -1;
  // The epoch of the call that last raised committed_txid_.
  int64_t committed_epoch_ GUARDED_BY(mu_) = -1;
  int64_t serial_epoch_ GUARDED_BY(mu_) = -1;
  int64_t last_serial_ GUARDED_BY(mu_) = -1;
  // Start of the writer's open segment, -1 when none.
  int64_t open_segment_ GUARDED_BY(mu_) = -1;
  // Bumped by Format: an acceptRecovery that started before a format never installs.
  int64_t format_generation_ GUARDED_BY(mu_) = 0;
  std::map<int64_t, SegmentEntry> segments_ GUARDED_BY(mu_);
  EditsCache cache_ GUARDED_BY(mu_);
  // Thread-safe counters (common/metrics.h); read through counters() without a lock.
  JournalCounters counters_;
  Status unavailable_ GUARDED_BY(mu_);
  // Where the last file read stopped (segment start, next txid, byte offset), so a
  // tailer reading a segment front to back does not rescan it each call.
  int64_t hint_segment_ GUARDED_BY(mu_) = -1;
  int64_t hint_txid_ GUARDED_BY(mu_) = -1;
  uint64_t hint_offset_ GUARDED_BY(mu_) = 0;

#ifdef QJ_SIM_PLANTS
  // Planted bugs of the simulator (common/sim_plant.h); see journal.cc.
  // old_writer_epoch: writer_epoch_ as StartLogSegment read it under mu_.
  bool PlantEpochFirst(const RequestHeader& h, int64_t old_writer_epoch) REQUIRES(io_mu_);
  bool PlantTrustCommitted(const RequestHeader& h) REQUIRES(mu_);
  int64_t PlantServable() const REQUIRES(mu_);
#endif
};

}  // namespace qj::jn
