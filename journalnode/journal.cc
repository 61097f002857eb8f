#include "journalnode/journal.h"

#include <algorithm>
#include <cinttypes>

namespace qj::jn {
namespace {

constexpr char kVersionFile[] = "VERSION";
constexpr char kPromisedFile[] = "last-promised-epoch";
constexpr char kWriterFile[] = "last-writer-epoch";
constexpr char kCommittedFile[] = "committed-txid";
constexpr char kRecoveryTmpPrefix[] = "edits_recovery_";
constexpr char kCatchupTmpPrefix[] = "edits_catchup_";

bool ParseInt64(const std::string& s, int64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || end != s.c_str() + s.size()) return false;
  *out = v;
  return true;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Parses "key=value" lines into a map. False if a line has no '=' or a key repeats: a
// file we wrote never does (values never hold control characters, see ValidateId).
bool ParseKeyValues(const std::string& text, std::map<std::string, std::string>* kv) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    size_t eq = line.find('=');
    if (eq == std::string::npos || !kv->emplace(line.substr(0, eq), line.substr(eq + 1)).second) {
      return false;
    }
  }
  return true;
}

// Ids stored in VERSION: printable ASCII only, so that what is read is what was written.
Status ValidateClusterId(const std::string& id) {
  if (id.empty() || id.size() > 256) {
    return Status::InvalidArgument("cluster id must be 1..256 characters");
  }
  for (unsigned char c : id) {
    if (c < 0x21 || c > 0x7e) {
      return Status::InvalidArgument("cluster id may hold only printable ASCII without spaces");
    }
  }
  return Status::OK();
}

}  // namespace

Journal::Journal(const JournalOptions& opts)
    : opts_(opts),
      who_(opts.node_name + " " + opts.journal_id),
      ops_(opts.file_ops),
      cache_(opts.cache_bytes) {}

Journal::~Journal() {
  Status s = FlushCommittedTxId();
  if (!s.ok()) LOG(WARNING) << who_ << ": persisting committed txid on close: " << s;
  MutexLock io(&io_mu_);
  writer_.reset();
}

std::unique_ptr<Journal> Journal::Open(const JournalOptions& opts) {
  std::unique_ptr<Journal> j(new Journal(opts));
  MutexLock io(&j->io_mu_);
  Status s = j->Load();
  MutexLock l(&j->mu_);
  if (!s.ok()) {
    j->unavailable_ = j->StoppedStatus(s, "");
    LOG(ERROR) << j->who_ << ": journal stopped at start-up: " << s;
  } else if (j->formatted_) {
    LOG(INFO) << j->who_ << ": loaded: promised epoch " << j->promised_epoch_ << ", writer epoch "
              << j->writer_epoch_ << ", committed txid " << j->committed_txid_ << ", "
              << j->segments_.size() << " segments, last txid " << j->LastWrittenTxIdLocked();
  }
  return j;
}

// ---------------------------------------------------------------------------------------
// Load and metadata. Load runs with io_mu_ held and no other thread using the journal.

Status Journal::ReadInt(const std::string& name, int64_t dflt, int64_t* out) {
  const std::string path = CurrentDir() + "/" + name;
  std::string text;
  Status s = ops_->ReadFile(path, &text);
  if (s.IsNotFound()) {
    *out = dflt;
    return Status::OK();
  }
  QJ_RETURN_IF_ERROR(s);
  if (!ParseInt64(Trim(text), out)) {
    return Status::Corruption(path + ": not a decimal integer: '" + text.substr(0, 40) + "'");
  }
  return Status::OK();
}

Status Journal::WriteInt(const std::string& name, int64_t v) {
  return ops_->AtomicWrite(CurrentDir() + "/" + name, std::to_string(v) + "\n");
}

Status Journal::Load() {
  const std::string version_path = CurrentDir() + "/" + kVersionFile;
  std::string text;
  Status s = ops_->ReadFile(version_path, &text);
  if (s.IsNotFound()) return Status::OK();  // not formatted
  QJ_RETURN_IF_ERROR(s);
  std::map<std::string, std::string> kv;
  int64_t ns_id = 0, layout = 0;
  if (!ParseKeyValues(text, &kv) || kv.size() != 3 || kv.count("clusterId") == 0 ||
      !ValidateClusterId(kv["clusterId"]).ok() || !ParseInt64(kv["namespaceId"], &ns_id) ||
      !ParseInt64(kv["layoutVersion"], &layout)) {
    return Status::Corruption(version_path +
                              ": missing or malformed namespaceId, clusterId or "
                              "layoutVersion");
  }
  NamespaceInfo info{ns_id, kv["clusterId"], static_cast<int32_t>(layout)};
  int64_t promised = 0, writer = 0, committed = -1;
  QJ_RETURN_IF_ERROR(ReadInt(kPromisedFile, 0, &promised));
  QJ_RETURN_IF_ERROR(ReadInt(kWriterFile, 0, &writer));
  QJ_RETURN_IF_ERROR(ReadInt(kCommittedFile, -1, &committed));
  QJ_RETURN_IF_ERROR(ops_->CreateDirs(PaxosDir()));
  {
    MutexLock l(&mu_);
    formatted_ = true;
    storage_ = info;
    promised_epoch_ = promised;
    writer_epoch_ = writer;
    committed_txid_ = committed;
  }
  {
    MutexLock p(&persist_mu_);
    persisted_committed_ = committed;
  }
  QJ_RETURN_IF_ERROR(LoadSegments());
  // A committed txid above this node's own durable edits was never justified (an older
  // version trusted any caller's hint): clamp it, so it can neither make this node serve
  // what it does not hold nor wedge a recovery.
  MutexLock l(&mu_);
  const int64_t last = LastWrittenTxIdLocked();
  if (committed_txid_ > last && !QJ_PLANTED(kTrustCommitted)) {
    LOG(WARNING) << who_ << ": committed txid " << committed_txid_
                 << " is above the last durable txid " << last << "; lowering it";
    committed_txid_ = last;
  }
  return Status::OK();
}

Status Journal::LoadSegments() {
  QJ_ASSIGN_OR_RETURN(std::vector<std::string> names, ops_->ListDir(CurrentDir()));
  std::sort(names.begin(), names.end());
  QJ_RETURN_IF_ERROR(CompleteInterruptedRecovery(names));
  QJ_ASSIGN_OR_RETURN(names, ops_->ListDir(CurrentDir()));
  std::sort(names.begin(), names.end());
  std::map<int64_t, SegmentEntry> segs;
  std::vector<SegmentState> in_progress;
  for (const std::string& name : names) {
    auto st = ParseSegmentName(name);
    if (!st) continue;
    if (st->in_progress) {
      in_progress.push_back(*st);
      continue;
    }
    // Finalized: trust the name at start-up; records are verified when first read.
    if (!segs.empty()) {
      const SegmentState& prev = segs.rbegin()->second.state;
      if (st->start_txid <= prev.end_txid) {
        return Status::Corruption(CurrentDir() + ": finalized segments " + SegmentName(prev) +
                                  " and " + name + " overlap");
      }
    }
    segs[st->start_txid] = SegmentEntry{*st, 0, false};
  }
  for (SegmentState st : in_progress) {
    const std::string path = SegPath(st);
    if (segs.count(st.start_txid) != 0) {
      // A copy was installed as finalized but the old in-progress file outlived a crash.
      LOG(WARNING) << who_ << ": removing " << path << ", superseded by "
                   << SegmentName(segs[st.start_txid].state);
      QJ_RETURN_IF_ERROR(ops_->Unlink(path));
      continue;
    }
    QJ_ASSIGN_OR_RETURN(ScanResult scan, ScanSegment(ops_, path, st.start_txid, std::nullopt, true,
                                                     opts_.max_batch_bytes));
    if (scan.torn_tail) {
      LOG(WARNING) << who_ << ": " << path << ": torn tail at offset " << scan.data_length << " ("
                   << scan.torn_detail << "): truncating " << scan.file_size << " -> "
                   << scan.data_length << " bytes; last txid " << scan.end_txid;
      QJ_ASSIGN_OR_RETURN(auto f, ops_->Open(path, FileOps::Mode::kWrite));
      QJ_RETURN_IF_ERROR(f->Truncate(scan.data_length));
      QJ_RETURN_IF_ERROR(f->FullSync());
    }
    st.end_txid = scan.end_txid;
    segs[st.start_txid] = SegmentEntry{st, scan.data_length, true};
  }
  // An accepted proposal whose segment has no copy here: startLogSegment set the copy
  // aside and crashed before dropping the proposal. It describes nothing; drop it.
  QJ_ASSIGN_OR_RETURN(std::vector<std::string> proposals, ops_->ListDir(PaxosDir()));
  bool dropped = false;
  for (const std::string& name : proposals) {
    int64_t start = 0;
    if (!ParseInt64(name, &start) || segs.count(start) != 0) continue;
    LOG(WARNING) << who_ << ": dropping " << PaxosDir() << "/" << name
                 << ": no copy of that segment is left (set aside by a new writer)";
    QJ_RETURN_IF_ERROR(ops_->Unlink(PaxosDir() + "/" + name));
    dropped = true;
  }
  if (dropped) QJ_RETURN_IF_ERROR(ops_->SyncDir(PaxosDir()));
  MutexLock l(&mu_);
  segments_ = std::move(segs);
  return Status::OK();
}

// acceptRecovery order (FORMAT.md): download to edits_recovery_<start>-<end>.epoch<E>.tmp and
// verify, persist paxos/<start>, rename the copy into place. A crash after the proposal
// was persisted leaves a verified temp copy that this completes; any other temp copy is
// an unaccepted download and is deleted.
Status Journal::CompleteInterruptedRecovery(const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    const std::string path = CurrentDir() + "/" + name;
    if (name.rfind(kCatchupTmpPrefix, 0) == 0 || name.rfind("VERSION.tmp", 0) == 0 ||
        (name.size() > 4 && name.compare(name.size() - 4, 4, ".tmp") == 0 &&
         name.rfind(kRecoveryTmpPrefix, 0) != 0)) {
      QJ_RETURN_IF_ERROR(ops_->Unlink(path));
      continue;
    }
    if (name.rfind(kRecoveryTmpPrefix, 0) != 0) continue;
    // edits_recovery_<start>-<end>.epoch<E>.tmp (or, written before the epoch was part of
    // the name, edits_recovery_<start>-<end>.tmp).
    std::string range = name.substr(std::strlen(kRecoveryTmpPrefix),
                                    name.size() - 4 - std::strlen(kRecoveryTmpPrefix));
    int64_t tmp_epoch = -1;
    const size_t dot = range.find(".epoch");
    if (dot != std::string::npos) {
      if (!ParseInt64(range.substr(dot + 6), &tmp_epoch)) tmp_epoch = -2;  // unparsable
      range.resize(dot);
    }
    auto st = ParseSegmentName("edits_" + range);
    std::optional<SegmentState> accepted;
    int64_t accepted_epoch = -1;
    if (st) QJ_RETURN_IF_ERROR(ReadAccepted(st->start_txid, &accepted, &accepted_epoch));
    // Only the download of the accept whose proposal was persisted is completed; a
    // concurrent accept's download (another epoch) is discarded.
    if (!st || tmp_epoch == -2 || !accepted || accepted->start_txid != st->start_txid ||
        accepted->end_txid != st->end_txid || (tmp_epoch >= 0 && tmp_epoch != accepted_epoch)) {
      LOG(WARNING) << who_ << ": deleting " << path
                   << ": a recovery download whose proposal was never persisted";
      QJ_RETURN_IF_ERROR(ops_->Unlink(path));
      continue;
    }
    const std::string target = SegPath(*accepted);
    bool installed = false;
    if (ops_->Exists(target)) {
      auto scan = ScanSegment(ops_, target, accepted->start_txid, accepted->end_txid,
                              accepted->in_progress);
      installed = scan.ok() && scan->end_txid == accepted->end_txid;
    }
    if (installed) {
      QJ_RETURN_IF_ERROR(ops_->Unlink(path));
      continue;
    }
    LOG(WARNING) << who_ << ": completing an acceptRecovery interrupted after its proposal "
                 << accepted->ToString() << " (epoch " << accepted_epoch << ") was persisted";
    QJ_RETURN_IF_ERROR(ScanSegment(ops_, path, st->start_txid, st->end_txid, false).status());
    QJ_RETURN_IF_ERROR(InstallCopy(path, *accepted));
  }
  return Status::OK();
}

Status Journal::ReadAccepted(int64_t segment_txid, std::optional<SegmentState>* state,
                             int64_t* accepted_epoch, int64_t* writer_epoch) {
  if (writer_epoch != nullptr) *writer_epoch = 0;
  const std::string path = PaxosDir() + "/" + std::to_string(segment_txid);
  std::string text;
  Status s = ops_->ReadFile(path, &text);
  state->reset();
  if (s.IsNotFound()) return Status::OK();
  QJ_RETURN_IF_ERROR(s);
  std::map<std::string, std::string> kv;
  SegmentState st;
  int64_t in_progress = 0;
  if (!ParseKeyValues(text, &kv) || !ParseInt64(kv["startTxId"], &st.start_txid) ||
      !ParseInt64(kv["endTxId"], &st.end_txid) || !ParseInt64(kv["inProgress"], &in_progress) ||
      !ParseInt64(kv["acceptedInEpoch"], accepted_epoch) || st.start_txid != segment_txid) {
    return Status::Corruption(path + ": malformed accepted recovery proposal");
  }
  st.in_progress = in_progress != 0;
  // writerEpoch= (the copy's origin epoch) is optional: older files lack it (unknown, 0).
  int64_t origin = 0;
  if (kv.count("writerEpoch") != 0 && !ParseInt64(kv["writerEpoch"], &origin)) {
    return Status::Corruption(path + ": malformed writerEpoch in accepted recovery proposal");
  }
  if (writer_epoch != nullptr) *writer_epoch = origin;
  *state = st;
  return Status::OK();
}

// ---------------------------------------------------------------------------------------
// Checks.

Status Journal::CheckServing() const {
  if (!unavailable_.ok()) {
    return Status::Unavailable(unavailable_.message());
  }
  return Status::OK();
}

Status Journal::CheckFormattedServing() const {
  QJ_RETURN_IF_ERROR(CheckServing());
  if (!formatted_) return ErrorLocked(Status::NotFormatted("journal is not formatted"));
  return Status::OK();
}

Status Journal::StoppedStatus(const Status& cause, const std::string& what) const {
  // FORMAT.md: "Corruption: <path> offset <N>: <what>" reaches the caller as such.
  const Status c =
      cause.IsCorruption() ? Status::Corruption("Corruption: " + cause.message()) : cause;
  return c.Prepend(who_ + what);
}

Status Journal::Fail(const Status& cause) {
  MutexLock l(&mu_);
  if (unavailable_.ok()) {
    unavailable_ = StoppedStatus(cause, ": journal stopped");
    LOG(ERROR) << who_ << ": stopping the journal for good: " << cause;
  }
  return Status::Unavailable(unavailable_.message());
}

Status Journal::PersistPromise(int64_t epoch) {
  Status s = WriteInt(kPromisedFile, epoch);
  if (!s.ok()) return Fail(s);
  MutexLock l(&mu_);
  LOG(INFO) << who_ << ": promised epoch " << promised_epoch_ << " -> " << epoch;
  promised_epoch_ = epoch;
  // Cached edits came from an older writer: a newer one may not agree with their tail.
  cache_.Clear();
  return Status::OK();
}

Status Journal::CheckRequest(const RequestHeader& h) {
  int64_t promised;
  {
    MutexLock l(&mu_);
    QJ_RETURN_IF_ERROR(CheckFormattedServing());
    promised = promised_epoch_;
    if (h.epoch < promised) {
      return Status::StaleEpoch(promised, who_ + ": epoch " + std::to_string(h.epoch) +
                                              " is below the promised epoch " +
                                              std::to_string(promised));
    }
  }
  // Rule 3: a higher epoch on any call is a promise, durable before we go on.
  if (h.epoch > promised) QJ_RETURN_IF_ERROR(PersistPromise(h.epoch));
  MutexLock l(&mu_);
  if (serial_epoch_ == h.epoch && h.serial <= last_serial_) {
    return ErrorLocked(Status::OutOfSync(
        "IPC serial " + std::to_string(h.serial) + " is not above the last serial " +
        std::to_string(last_serial_) + " of epoch " + std::to_string(h.epoch)));
  }
  serial_epoch_ = h.epoch;
  last_serial_ = h.serial;
  NoteCommitted(h);
  return Status::OK();
}

void Journal::NoteSync(int64_t nanos, int64_t first_txid, int64_t count, size_t bytes) {
  counters_.batches.Increment();
  counters_.edits.Increment(static_cast<double>(count));
  counters_.bytes.Increment(static_cast<double>(bytes));
  counters_.sync_seconds.Observe(static_cast<double>(nanos) / 1e9);
  if (nanos > opts_.slow_sync_warn_ms * kNanosPerMilli) {
    counters_.slow_syncs.Increment();
    LOG(WARNING) << who_ << ": slow sync: " << nanos / kNanosPerMilli
                 << " ms to write and fdatasync " << bytes << " bytes (txids " << first_txid << ".."
                 << first_txid + count - 1
                 << "), above --journalnode_slow_sync_warn_ms=" << opts_.slow_sync_warn_ms;
  }
}

void Journal::NoteCommitted(const RequestHeader& h) {
  // Only the writer that started this node's newest segment can vouch for what of it is
  // committed; a recovering writer's or anyone else's hint is ignored. And a node never
  // believes more than it holds: the hint is clamped to its own last durable txid.
  if (QJ_PLANT_DO(PlantTrustCommitted(h)) h.committed_txid < 0 || h.epoch != writer_epoch_) return;
  if (h.committed_txid > counters_.writer_committed_txid.load(std::memory_order_relaxed)) {
    counters_.writer_committed_txid.store(h.committed_txid, std::memory_order_relaxed);
  }
  const int64_t c = std::min(h.committed_txid, LastWrittenTxIdLocked());
  if (c > committed_txid_) committed_txid_ = c;
  committed_epoch_ = h.epoch;
}

Status Journal::MaybePersistCommitted(bool force) {
  MutexLock p(&persist_mu_);
  int64_t value;
  {
    MutexLock l(&mu_);
    value = committed_txid_;
  }
  if (value == persisted_committed_) return Status::OK();
  const int64_t now = opts_.clock->MonotonicNanos();
  if (!force &&
      now - last_committed_persist_nanos_ < opts_.committed_persist_interval_ms * kNanosPerMilli) {
    return Status::OK();
  }
  Status s = WriteInt(kCommittedFile, value);
  if (!s.ok()) return Fail(s);
  persisted_committed_ = value;
  last_committed_persist_nanos_ = now;
  return Status::OK();
}

Status Journal::FlushCommittedTxId() {
  {
    MutexLock l(&mu_);
    if (!formatted_ || !unavailable_.ok()) return Status::OK();
  }
  return MaybePersistCommitted(true);
}

int64_t Journal::LastWrittenTxIdLocked() const {
  // Finalized segments and the newest segment; an older in-progress segment is a stale
  // leftover of an earlier writer and does not count. Segments do not overlap, so the
  // answer is the newest segment's end if it holds edits, else the newest finalized
  // segment's: found from the back in a step or two (this runs on every writer call).
  for (auto it = segments_.rbegin(); it != segments_.rend(); ++it) {
    const SegmentState& s = it->second.state;
    const bool newest = it == segments_.rbegin();
    if ((newest || !s.in_progress) && s.end_txid >= s.start_txid) return s.end_txid;
  }
  return -1;
}

int64_t Journal::NextExpectedTxId() const {
  MutexLock l(&mu_);
  if (open_segment_ < 0) return -1;
  auto it = segments_.find(open_segment_);
  return it == segments_.end() ? -1 : it->second.state.end_txid + 1;
}

void Journal::AbortOpenSegment(const char* why) {
  if (writer_) {
    VLOG(1) << who_ << ": closing open segment " << writer_->start_txid() << ": " << why;
  }
  writer_.reset();
  MutexLock l(&mu_);
  open_segment_ = -1;
}

// ---------------------------------------------------------------------------------------
// Administrative calls.

Result<bool> Journal::IsFormatted() const {
  MutexLock l(&mu_);
  QJ_RETURN_IF_ERROR(CheckServing());
  return formatted_;
}

Status Journal::Format(const NamespaceInfo& info, bool force) {
  QJ_RETURN_IF_ERROR(ValidateClusterId(info.cluster_id).Prepend(who_ + ": format"));
  MutexLock io(&io_mu_);
  MutexLock p(&persist_mu_);
  {
    MutexLock l(&mu_);
    if (!unavailable_.ok() && !force) {
      return Status::Unavailable(unavailable_.message() + " (format with force to wipe it)");
    }
    if (formatted_ && !force) {
      return ErrorLocked(Status::AlreadyExists("journal is already formatted (namespace " +
                                               std::to_string(storage_.namespace_id) +
                                               "); use force to reformat"));
    }
  }
  writer_.reset();
  // Wipe current/ (segments, paxos/, metadata), then write the new metadata.
  Status s = ops_->CreateDirs(PaxosDir());
  if (s.ok()) {
    auto names = ops_->ListDir(PaxosDir());
    if (!names.ok()) return names.status().Prepend(who_);
    for (const auto& n : *names) QJ_RETURN_IF_ERROR(ops_->Unlink(PaxosDir() + "/" + n));
    auto cur = ops_->ListDir(CurrentDir());
    if (!cur.ok()) return cur.status().Prepend(who_);
    for (const auto& n : *cur) {
      if (n != "paxos") QJ_RETURN_IF_ERROR(ops_->Unlink(CurrentDir() + "/" + n));
    }
    s = ops_->AtomicWrite(CurrentDir() + "/" + kVersionFile,
                          "namespaceId=" + std::to_string(info.namespace_id) +
                              "\nclusterId=" + info.cluster_id +
                              "\nlayoutVersion=" + std::to_string(info.layout_version) + "\n");
  }
  if (s.ok()) s = WriteInt(kPromisedFile, 0);
  if (s.ok()) s = WriteInt(kWriterFile, 0);
  if (s.ok()) s = WriteInt(kCommittedFile, -1);
  if (!s.ok()) return s.Prepend(who_ + ": format");
  MutexLock l(&mu_);
  formatted_ = true;
  storage_ = info;
  promised_epoch_ = writer_epoch_ = 0;
  committed_txid_ = committed_epoch_ = -1;
  counters_.writer_committed_txid.store(-1, std::memory_order_relaxed);  // txids restart
  serial_epoch_ = last_serial_ = -1;
  open_segment_ = -1;
  segments_.clear();
  cache_.Clear();
  hint_segment_ = -1;
  unavailable_ = Status::OK();
  ++format_generation_;  // in-flight accepts of the old journal must not install
  persisted_committed_ = -1;
  LOG(INFO) << who_ << ": formatted (namespace " << info.namespace_id << ", cluster "
            << info.cluster_id << ")";
  return Status::OK();
}

Result<JournalState> Journal::GetState() const {
  MutexLock l(&mu_);
  JournalState snap;
  snap.unavailable_reason = unavailable_.ok() ? "" : unavailable_.message();
  snap.formatted = formatted_;
  if (!formatted_ && unavailable_.ok()) {
    return ErrorLocked(Status::NotFormatted("journal is not formatted"));
  }
  if (formatted_) snap.ns = storage_;
  snap.promised_epoch = promised_epoch_;
  snap.writer_epoch = writer_epoch_;
  snap.committed_txid = committed_txid_;
  snap.last_written_txid = LastWrittenTxIdLocked();
  snap.open_segment_start = open_segment_;
  for (const auto& [start, e] : segments_) snap.segments.push_back(e.state);
  return snap;
}

// ---------------------------------------------------------------------------------------
// Writer calls.

Result<int64_t> Journal::NewEpoch(const NamespaceInfo& info, int64_t epoch) {
  MutexLock io(&io_mu_);
  int64_t promised;
  {
    MutexLock l(&mu_);
    QJ_RETURN_IF_ERROR(CheckFormattedServing());
    if (info.namespace_id != storage_.namespace_id || info.cluster_id != storage_.cluster_id) {
      return ErrorLocked(Status::InvalidArgument(
          "newEpoch for namespace " + std::to_string(info.namespace_id) + "/" + info.cluster_id +
          " but the journal is formatted for " + std::to_string(storage_.namespace_id) + "/" +
          storage_.cluster_id));
    }
    promised = promised_epoch_;
  }
  // Rule 1: only a strictly higher epoch, and durable before the reply.
  if (epoch <= promised) {
    return Status::StaleEpoch(promised, who_ + ": newEpoch " + std::to_string(epoch) +
                                            " is not above the promised epoch " +
                                            std::to_string(promised));
  }
  QJ_RETURN_IF_ERROR(PersistPromise(epoch));
  AbortOpenSegment("new epoch");
  MutexLock l(&mu_);
  return segments_.empty() ? int64_t{-1} : segments_.rbegin()->first;
}

Status Journal::Heartbeat(const RequestHeader& h) {
  MutexLock io(&io_mu_);
  QJ_RETURN_IF_ERROR(CheckRequest(h));
  return Status::OK();  // committed-txid is persisted by the background flush
}

Status Journal::StartLogSegment(const RequestHeader& h, int64_t txid, int32_t layout_version) {
  MutexLock io(&io_mu_);
  QJ_RETURN_IF_ERROR(CheckRequest(h));
  if (txid < 1) return ErrorLocked(Status::InvalidArgument("segment txid must be >= 1"));
  (void)layout_version;
  if (writer_) {
    if (writer_->start_txid() != txid) {
      LOG(WARNING) << who_ << ": starting segment " << txid << " while segment "
                   << writer_->start_txid() << " is open; closing it";
    }
    AbortOpenSegment("a new segment starts");
  }
  std::optional<SegmentState> stale;
  int64_t old_writer_epoch;
  {
    MutexLock l(&mu_);
    old_writer_epoch = writer_epoch_;
    for (const auto& [start, e] : segments_) {
      const SegmentState& s = e.state;
      if (start == txid && s.in_progress) {
        if (s.end_txid < s.start_txid) continue;  // empty: recreated below
        // Edits this writer already sent (and may have counted as acknowledged), or
        // edits known committed, are never thrown away. An older writer's edits past
        // the committed txid were not chosen by recovery: they were never committed.
        if (s.start_txid <= committed_txid_ || writer_epoch_ == h.epoch) {
          return ErrorLocked(Status::OutOfSync(
              "cannot start segment " + std::to_string(txid) + ": " + SegmentName(s) +
              " already holds txids up to " + std::to_string(s.end_txid) + " (writer epoch " +
              std::to_string(writer_epoch_) + ", committed txid " +
              std::to_string(committed_txid_) + ")"));
        }
        stale = s;
      } else if (start >= txid || (!s.in_progress && s.end_txid >= txid)) {
        return ErrorLocked(Status::OutOfSync("cannot start segment " + std::to_string(txid) + ": " +
                                             s.ToString() + " overlaps it"));
      }
    }
  }
  // Persistence order (FORMAT.md "startLogSegment persistence order"); a crash between
  // any two steps leaves a state in which nothing is misattributed:
  // 1. Uncommitted edits of an earlier writer that recovery did not choose: set aside.
  if (QJ_PLANT_DO(PlantEpochFirst(h, old_writer_epoch)) stale) {
    const std::string path = SegPath(*stale);
    LOG(WARNING) << who_ << ": moving aside " << path << " (txids " << stale->start_txid << ".."
                 << stale->end_txid << ", never committed) to start segment " << txid;
    Status s = ops_->Rename(path, path + ".discarded");
    if (s.ok()) s = ops_->SyncDir(CurrentDir());
    if (!s.ok()) return Fail(s);
  }
  // 2. An accepted proposal for this start described the copy just set aside: drop it, or
  //    a later prepareRecovery would vouch for the new writer's edits under the old
  //    proposal's epoch. (Dropped after the copy, never before: a copy left without its
  //    proposal would be reported under the wrong origin. A proposal left without a copy
  //    by a crash here is removed at start-up.)
  const std::string paxos = PaxosDir() + "/" + std::to_string(txid);
  if (ops_->Exists(paxos) && !QJ_PLANTED(kKeepPaxos)) {
    LOG(INFO) << who_ << ": dropping the accepted recovery proposal for segment " << txid
              << ", which a new writer restarts";
    Status s = ops_->Unlink(paxos);
    if (s.ok() || s.IsNotFound()) s = ops_->SyncDir(PaxosDir());
    if (!s.ok()) return Fail(s);
  }
  // 3. The new, empty segment file, durable (file and directory entry)...
  auto w = SegmentWriter::Create(ops_, CurrentDir(), txid, opts_.preallocate_bytes);
  if (!w.ok()) return Fail(w.status());
  // 4. ...and only then the writer epoch that claims it: "the newest in-progress segment
  //    belongs to last-writer-epoch" is never true of a file that does not exist yet. A
  //    crash before this leaves an empty segment under the old writer epoch: it serves
  //    nothing, and the new writer's journal() is refused (OutOfSync) until it restarts it.
  if (h.epoch != old_writer_epoch) {
    Status s = WriteInt(kWriterFile, h.epoch);
    if (!s.ok()) return Fail(s);
  }
  writer_ = std::move(w).value();
  {
    MutexLock l(&mu_);
    writer_epoch_ = h.epoch;
    open_segment_ = txid;
    segments_[txid] = SegmentEntry{SegmentState{txid, txid - 1, true}, 0, true};
    if (hint_segment_ == txid) hint_segment_ = -1;  // a new file under that start
    if (cache_.last_txid() + 1 != txid) cache_.Clear();
    LOG(INFO) << who_ << " epoch=" << h.epoch << ": started segment " << txid;
  }
  return Status::OK();  // committed-txid is persisted by the background flush
}

Status Journal::ReopenForAppend(int64_t segment_txid) {
  SegmentEntry e;
  {
    MutexLock l(&mu_);
    if (segments_.empty() || segments_.rbegin()->first != segment_txid ||
        !segments_.rbegin()->second.state.in_progress) {
      return ErrorLocked(Status::OutOfSync("no open segment " + std::to_string(segment_txid)));
    }
    e = segments_.rbegin()->second;
  }
  auto w = SegmentWriter::Reopen(ops_, CurrentDir(), segment_txid, e.state.end_txid, e.data_length,
                                 opts_.preallocate_bytes);
  if (!w.ok()) return Fail(w.status());
  writer_ = std::move(w).value();
  MutexLock l(&mu_);
  open_segment_ = segment_txid;
  LOG(INFO) << who_ << " epoch=" << writer_epoch_ << ": reopened segment " << segment_txid
            << " at txid " << e.state.end_txid + 1;
  return Status::OK();
}

Status Journal::JournalEdits(const RequestHeader& h, int64_t segment_txid, int64_t first_txid,
                             int32_t num_txns, std::string_view records) {
  MutexLock io(&io_mu_);
  // 1. Epoch, promise and serial (rules 2, 3, 5).
  QJ_RETURN_IF_ERROR(CheckRequest(h));
  // 2. Rule 4: the writer that opened the segment, the next txid.
  int64_t writer_epoch;
  {
    MutexLock l(&mu_);
    writer_epoch = writer_epoch_;
  }
  if (h.epoch != writer_epoch) {
    return ErrorLocked(
        Status::OutOfSync("epoch " + std::to_string(h.epoch) + " is not the writer epoch " +
                          std::to_string(writer_epoch) + " (no startLogSegment in this epoch)"));
  }
  // A journalnode restarted mid-segment rejoins the same writer's segment.
  if (!writer_) QJ_RETURN_IF_ERROR(ReopenForAppend(segment_txid));
  if (writer_->start_txid() != segment_txid) {
    return ErrorLocked(Status::OutOfSync("journal to segment " + std::to_string(segment_txid) +
                                         " but the open segment is " +
                                         std::to_string(writer_->start_txid())));
  }
  const int64_t expected = writer_->end_txid() + 1;
  if (first_txid != expected) {
    return ErrorLocked(Status::OutOfSync("batch starts at txid " + std::to_string(first_txid) +
                                         ", expected " + std::to_string(expected)));
  }
  // 3. The records must be what they claim (they are stored as received).
  if (num_txns <= 0) return ErrorLocked(Status::InvalidArgument("numTxns must be >= 1"));
  if (records.size() > opts_.max_batch_bytes) {
    return ErrorLocked(Status::InvalidArgument("batch of " + std::to_string(records.size()) +
                                               " bytes is above the limit of " +
                                               std::to_string(opts_.max_batch_bytes)));
  }
  Status v = ValidateRecords(records, first_txid, num_txns);
  if (!v.ok()) return ErrorLocked(Status::InvalidArgument("bad records: " + v.message()));
  // 4. Write and fdatasync; an error here stops the journal for good.
  const int64_t sync_start = opts_.clock->MonotonicNanos();
  Status s = writer_->Append(records, first_txid, num_txns);
  if (!s.ok()) return Fail(s);
  NoteSync(opts_.clock->MonotonicNanos() - sync_start, first_txid, num_txns, records.size());
  {
    MutexLock l(&mu_);
    SegmentEntry& e = segments_[segment_txid];
    e.state.end_txid = writer_->end_txid();
    e.data_length = writer_->data_length();
    cache_.Append(first_txid, num_txns, records);
  }
  VLOG(2) << who_ << " epoch=" << h.epoch << ": journaled " << first_txid << ".."
          << first_txid + num_txns - 1;
  return Status::OK();  // committed-txid is persisted by the background flush
}

Status Journal::FinalizeLogSegment(const RequestHeader& h, int64_t start_txid, int64_t end_txid) {
  MutexLock io(&io_mu_);
  QJ_RETURN_IF_ERROR(CheckRequest(h));
  // A segment holds at least one edit. Refused here, as the caller's mistake: reaching the
  // segment writer, it would stop this journal.
  if (end_txid < start_txid) {
    return Status::InvalidArgument(who_ + ": finalize [" + std::to_string(start_txid) + ", " +
                                   std::to_string(end_txid) +
                                   "]: a segment holds at least one edit");
  }
  SegmentEntry e;
  std::optional<SegmentState> accepted;
  int64_t accepted_epoch = -1;
  bool open = false;
  {
    MutexLock l(&mu_);
    auto it = segments_.find(start_txid);
    if (it == segments_.end()) {
      return ErrorLocked(
          Status::OutOfSync("finalize: no segment starts at txid " + std::to_string(start_txid)));
    }
    e = it->second;
    // The newest in-progress segment in the writer's own epoch was written by that
    // writer (even if this node restarted since and did not reopen it).
    open = writer_epoch_ == h.epoch &&
           (open_segment_ == start_txid || segments_.rbegin()->first == start_txid);
  }
  if (!e.state.in_progress) {
    if (e.state.end_txid == end_txid) {  // already finalized (accepted so, or caught up)
      MutexLock l(&mu_);
      committed_txid_ = std::max(committed_txid_, end_txid);
      return Status::OK();
    }
    return ErrorLocked(Status::OutOfSync("finalize [" + std::to_string(start_txid) + ", " +
                                         std::to_string(end_txid) + "] but " +
                                         SegmentName(e.state) + " is already finalized"));
  }
  if (e.state.end_txid != end_txid) {
    return ErrorLocked(Status::OutOfSync("finalize [" + std::to_string(start_txid) + ", " +
                                         std::to_string(end_txid) + "] but segment " +
                                         std::to_string(start_txid) + " ends at txid " +
                                         std::to_string(e.state.end_txid)));
  }
  // Only finalize a copy this epoch vouches for: written by this writer, or accepted in
  // this epoch's recovery. Another same-length copy may hold an older writer's edits.
  Status rs = ReadAccepted(start_txid, &accepted, &accepted_epoch);
  if (!rs.ok()) return Fail(rs);
  const bool vouched =
      open || (accepted && accepted_epoch == h.epoch && accepted->end_txid == end_txid);
  if (!vouched) {
    return ErrorLocked(Status::OutOfSync("finalize: segment " + std::to_string(start_txid) +
                                         " was neither written nor accepted "
                                         "in epoch " +
                                         std::to_string(h.epoch) +
                                         "; it will be copied from a peer"));
  }
  if (!writer_ || writer_->start_txid() != start_txid) {
    auto w = SegmentWriter::Reopen(ops_, CurrentDir(), start_txid, e.state.end_txid, e.data_length,
                                   opts_.preallocate_bytes);
    if (!w.ok()) return Fail(w.status());
    writer_ = std::move(w).value();
  }
  Status s = writer_->Finalize();
  writer_.reset();
  if (!s.ok()) return Fail(s);
  // The accepted proposal is moot once the segment is finalized.
  Status u = ops_->Unlink(PaxosDir() + "/" + std::to_string(start_txid));
  if (!u.ok() && !u.IsNotFound()) return Fail(u);
  {
    MutexLock l(&mu_);
    // A writer finalizes only what is committed (its own segment after the commit point
    // passed its end, or a recovered one that a majority accepted in this epoch).
    committed_txid_ = std::max(committed_txid_, end_txid);
    if (open_segment_ == start_txid) open_segment_ = -1;
    segments_[start_txid] = SegmentEntry{SegmentState{start_txid, end_txid, false}, 0, true};
    LOG(INFO) << who_ << " epoch=" << h.epoch << ": finalized segment [" << start_txid << ", "
              << end_txid << "]";
  }
  return MaybePersistCommitted(true);
}

Status Journal::PurgeLogs(const RequestHeader& h, int64_t min_txid_to_keep) {
  MutexLock io(&io_mu_);
  QJ_RETURN_IF_ERROR(CheckRequest(h));
  std::vector<SegmentState> doomed;
  {
    MutexLock l(&mu_);
    for (const auto& [start, e] : segments_) {
      if (start == open_segment_) continue;
      if (e.state.end_txid < min_txid_to_keep) doomed.push_back(e.state);
    }
  }
  for (const SegmentState& s : doomed) {
    Status st = ops_->Unlink(SegPath(s));
    if (!st.ok() && !st.IsNotFound()) return st.Prepend(who_ + ": purge");
    (void)ops_->Unlink(PaxosDir() + "/" + std::to_string(s.start_txid));
    MutexLock l(&mu_);
    segments_.erase(s.start_txid);
  }
  if (!doomed.empty()) {
    QJ_RETURN_IF_ERROR(ops_->SyncDir(CurrentDir()).Prepend(who_));
    LOG(INFO) << who_ << ": purged " << doomed.size() << " segments ending below "
              << min_txid_to_keep;
  }
  return Status::OK();  // committed-txid is persisted by the background flush
}

#ifdef QJ_SIM_PLANTS
// Planted bugs (common/sim_plant.h), compiled only into journal_sim_planted's library.
bool Journal::PlantEpochFirst(const RequestHeader& h, int64_t old_writer_epoch) {
  // (b): the writer epoch durable before the new segment file exists.
  if (QJ_PLANTED(kEpochFirst) && h.epoch != old_writer_epoch) (void)WriteInt(kWriterFile, h.epoch);
  return true;
}

bool Journal::PlantTrustCommitted(const RequestHeader& h) {
  // (d): any caller's committed txid, from any epoch, believed as is.
  if (QJ_PLANTED(kTrustCommitted) && h.committed_txid > committed_txid_) {
    committed_txid_ = h.committed_txid;
    committed_epoch_ = h.epoch;
  }
  return true;
}

int64_t Journal::PlantServable() const {
  // (g): everything this node holds is served, committed or not.
  return QJ_PLANTED(kServeUncommitted) ? LastWrittenTxIdLocked() : committed_txid_;
}
#endif

}  // namespace qj::jn
