#include "namenode/service_handler.h"

#include <glog/logging.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <future>
#include <mutex>
#include <set>

#include "ClientProtocol.h"
#include "common/rpc/authz.h"
#include "common/rpc/field_map.h"
#include "common/rpc/idl_errors.h"
#include "common/thrift_transport.h"
#include "namenode/path_util.h"

namespace qj::nn {

namespace th = qjournal::thrift;

namespace {

constexpr int32_t kMaxListingPage = 5000;

// A request's source as the wire sent it. The generated reader stores whatever i32 came
// in the enum field, so a value outside RequestSource is possible, and loading it as the
// enum type is undefined behaviour (a compiler may assume an enum holds only its range:
// the "unknown request source" refusal could go). Its bytes are read as an int instead.
int32_t RawSource(const th::HAStateChangeRequest& req) {
  static_assert(sizeof(req.source) == sizeof(int32_t), "RequestSource is an i32 on the wire");
  int32_t source;
  std::memcpy(&source, &req.source, sizeof(source));
  return source;
}

// ---- The one place where failures become Thrift exceptions. ----

th::FsErrorCode::type ToFsErrorCode(FsError e) {
  switch (e) {
    case FsError::kNotFound:
      return th::FsErrorCode::FILE_NOT_FOUND;
    case FsError::kAlreadyExists:
      return th::FsErrorCode::FILE_ALREADY_EXISTS;
    case FsError::kNotADirectory:
      return th::FsErrorCode::NOT_A_DIRECTORY;
    case FsError::kDirectoryNotEmpty:
      return th::FsErrorCode::DIRECTORY_NOT_EMPTY;
    case FsError::kInvalidPath:
      return th::FsErrorCode::INVALID_PATH;
    case FsError::kPermissionDenied:
      return th::FsErrorCode::PERMISSION_DENIED;
    case FsError::kIsADirectory:
      return th::FsErrorCode::IS_A_DIRECTORY;
    case FsError::kInvalidArgument:
      return th::FsErrorCode::INVALID_ARGUMENT;
  }
  return th::FsErrorCode::INVALID_ARGUMENT;
}

// A server failure (not a namespace answer) as the codes clients act on: NOT_ACTIVE (with
// the believed active's id) only for calls that did not run, so that clients retry them
// on another namenode; INVALID_ARGUMENT; every other failure IO_ERROR. `table`:
// rpc::FsErrors() for the namespace calls, rpc::AdminErrors() for the administration ones.
th::FsException ServerFailure(const Status& s, const std::string& message,
                              const std::string& active_hint,
                              const rpc::ErrorTable<rpc::FsCode>& table = rpc::FsErrors()) {
  using C = th::FsErrorCode;
  th::FsException e = rpc::ToException<th::FsException>(
      s, table, message, {C::NOT_ACTIVE, C::INVALID_ARGUMENT, C::IO_ERROR});
  if (e.code == C::NOT_ACTIVE && !active_hint.empty()) e.__set_activeNamenodeId(active_hint);
  return e;
}

th::FsException ToFsException(const CallStatus& cs, const std::string& active_hint) {
  if (!cs.fs.ok()) {
    th::FsException e;
    e.code = ToFsErrorCode(cs.fs.code());
    e.message = cs.fs.message();
    return e;
  }
  return ServerFailure(cs.server, cs.server.ToString(), active_hint);
}

constexpr auto kBlockFields =
    std::make_tuple(rpc::Field(&BlockInfo::id, &th::Block::blockId),
                    rpc::Field(&BlockInfo::num_bytes, &th::Block::numBytes),
                    rpc::Field(&BlockInfo::gen_stamp, &th::Block::generationStamp));

constexpr auto kFileStatusFields =
    std::make_tuple(rpc::Field(&FileInfo::path, &th::FileStatus::path),
                    rpc::Field(&FileInfo::is_dir, &th::FileStatus::isDir),
                    rpc::Field(&FileInfo::length, &th::FileStatus::length),
                    rpc::Field(&FileInfo::replication, &th::FileStatus::replication),
                    rpc::Field(&FileInfo::block_size, &th::FileStatus::blockSize),
                    rpc::Field(&FileInfo::mtime_ms, &th::FileStatus::modificationTime),
                    rpc::Field(&FileInfo::atime_ms, &th::FileStatus::accessTime),
                    rpc::Field(&FileInfo::permission, &th::FileStatus::permission),
                    rpc::Field(&FileInfo::owner, &th::FileStatus::owner),
                    rpc::Field(&FileInfo::group, &th::FileStatus::group),
                    rpc::Field(&FileInfo::children_num, &th::FileStatus::childrenNum),
                    rpc::Field(&FileInfo::file_id, &th::FileStatus::fileId));

th::Block ToThrift(const BlockInfo& b) { return rpc::ToWire<th::Block>(kBlockFields, b); }

// What a client sees of a file (ClientProtocol's FileStatus; its blocks only for a file).
th::FileStatus ToThrift(const FileInfo& f) {
  th::FileStatus t = rpc::ToWire<th::FileStatus>(kFileStatusFields, f);
  if (!f.is_dir) {
    std::vector<th::Block> blocks;
    blocks.reserve(f.blocks.size());
    for (const BlockInfo& b : f.blocks) blocks.push_back(ToThrift(b));
    t.__set_blocks(std::move(blocks));
    t.__set_underConstruction(f.under_construction);
  }
  return t;
}

// Permission bits arrive as i16; anything outside 0..07777 is refused by Prepare.
uint16_t Bits(int16_t p) { return p < 0 ? 0xffff : static_cast<uint16_t>(p); }

class Handler : public th::ClientProtocolIf {
 public:
  explicit Handler(NamenodeServer* server)
      : s_(server),
        superusers_(server->options().cluster.security.superusers.begin(),
                    server->options().cluster.security.superusers.end()) {}

  // ---- HAServiceProtocol ----
  void getServiceStatus(th::HAServiceStatus& r) override {
    NamenodeStatus st = s_->GetStatus();
    switch (st.role) {
      case HaRole::kInitializing:
        r.state = th::HAServiceState::INITIALIZING;
        break;
      case HaRole::kStandby:
        r.state = th::HAServiceState::STANDBY;
        break;
      case HaRole::kActive:
        r.state = th::HAServiceState::ACTIVE;
        break;
      case HaRole::kStopping:
        r.state = th::HAServiceState::STOPPING;
        break;
    }
    r.namenodeId = st.namenode_id;
    r.readyToBecomeActive = st.ready_to_become_active;
    if (!st.not_ready_reason.empty()) r.__set_notReadyReason(st.not_ready_reason);
    r.lastAppliedTxId = st.last_applied_txid;
    r.epoch = st.epoch;
    r.pid = static_cast<int32_t>(getpid());
    if (!st.active_hint.empty()) r.__set_activeNamenodeId(st.active_hint);
    if (st.lease_deadline_mono_ns != 0) r.__set_leaseDeadlineMonoNs(st.lease_deadline_mono_ns);
  }

  void monitorHealth() override {
    Status st = s_->CheckHealth();
    if (!st.ok()) {
      th::HealthCheckFailedException e;
      e.message = st.ToString();
      throw e;
    }
  }

  // transitionToActive/Standby and renewLease are checked before they act, by HDFS's rules
  // (FSNamesystem.checkHaStateChange): with automatic failover on, a user request is
  // refused unless forced ("Refusing to manually manage HA state"); with it off, a
  // failoverd request is refused. A failoverd request must name this namenode as the lease
  // holder (its failoverd's holder id), and a lease deadline must lie in
  // (now, now + lease.duration_ms]: no grant the journalnodes give lasts longer, and a
  // deadline far ahead (or INT64_MAX) would let a namenode whose failoverd died serve on
  // after its lease was granted to the other side.
  void transitionToActive(const th::HAStateChangeRequest& req) override {
    const int64_t deadline = req.__isset.leaseDeadlineMonoNs ? req.leaseDeadlineMonoNs : 0;
    CheckSource("transitionToActive", req);
    if (RawSource(req) == th::RequestSource::REQUEST_BY_FAILOVERD || deadline != 0) {
      // A failoverd always activates under its lease; a user may name a lease too (0 = none,
      // serve until told otherwise, as HDFS's manual mode).
      CheckDeadline("transitionToActive", deadline);
    }
    ThrowIfFailed(s_->TransitionToActive(deadline));
  }

  void transitionToStandby(const th::HAStateChangeRequest& req) override {
    CheckSource("transitionToStandby", req);
    ThrowIfFailed(s_->TransitionToStandby());
  }

  void renewLease(const int64_t deadline, const std::string& holder_id) override {
    const std::string& id = s_->options().namenode_id;
    if (!s_->options().cluster.automatic_failover) {
      Refuse(th::HAErrorCode::AUTOMATIC_FAILOVER_OFF,
             id + ": renewLease refused: automatic failover is off (there is no lease)");
    }
    CheckHolder("renewLease", holder_id);
    CheckDeadline("renewLease", deadline);
    const HaRole role = s_->GetStatus().role;
    Status st = s_->RenewLease(deadline);
    if (!st.ok()) {
      // HaState refuses a renewal unless active or activating, unfenced and in time.
      Refuse(role == HaRole::kActive ? th::HAErrorCode::TRANSITION_FAILED
                                     : th::HAErrorCode::NOT_ACTIVE,
             st.ToString());
    }
  }

  // ---- ClientProtocol: mutations ----
  // The non-idempotent ones carry RpcIds; their answers come from the RetryOutcome, which
  // is the same for the first call and for a retry answered from the cache.
  bool mkdirs(const th::UserInfo& ugi, const std::string& path, const int16_t permission,
              const bool create_parent, const th::RpcIds& ids) override {
    CheckPath(path);
    const RetryIds rids = ToRetryIds(ids);
    TestStall(path, opts().test_stall_before_marker);
    Check(s_->Mutate(
        "mkdirs", rids,
        [&](const FsNamespace& ns, int64_t now) {
          return ns.PrepareMkdirs(ToCaller(ugi), path, Bits(permission), create_parent, now);
        },
        nullptr));
    TestStall(path, opts().test_stall_after_marker);
    return true;
  }

  void create(th::FileStatus& r, const th::UserInfo& ugi, const std::string& path,
              const int16_t permission, const bool overwrite, const int16_t replication,
              const int64_t block_size, const th::RpcIds& ids) override {
    CheckPath(path);
    const RetryIds rids = ToRetryIds(ids);
    TestStall(path, opts().test_stall_before_marker);
    RetryOutcome out;
    Check(s_->Mutate(
        "create", rids,
        [&](const FsNamespace& ns, int64_t now) {
          return ns.PrepareCreate(ToCaller(ugi), path, Bits(permission), overwrite, replication,
                                  block_size, now);
        },
        &out));
    if (!out.file.has_value()) Internal("create", path, "no file after create");
    r = ToThrift(*out.file);
    TestStall(path, opts().test_stall_after_marker);
  }

  void addBlock(th::Block& r, const th::UserInfo& ugi, const std::string& path,
                const int64_t previous_block_length, const th::RpcIds& ids) override {
    CheckPath(path);
    const RetryIds rids = ToRetryIds(ids);
    RetryOutcome out;
    Check(s_->Mutate(
        "addBlock", rids,
        [&](const FsNamespace& ns, int64_t) {
          return ns.PrepareAddBlock(ToCaller(ugi), path, previous_block_length);
        },
        &out));
    if (!out.block.has_value()) Internal("addBlock", path, "no block after addBlock");
    r = ToThrift(*out.block);
  }

  bool complete(const th::UserInfo& ugi, const std::string& path, const int64_t last_block_length,
                const th::RpcIds& ids) override {
    CheckPath(path);
    Check(s_->Mutate(
        "complete", ToRetryIds(ids),
        [&](const FsNamespace& ns, int64_t now) {
          return ns.PrepareComplete(ToCaller(ugi), path, last_block_length, now);
        },
        nullptr));
    return true;
  }

  bool deletePath(const th::UserInfo& ugi, const std::string& path, const bool recursive,
                  const th::RpcIds& ids) override {
    CheckPath(path);
    const RetryIds rids = ToRetryIds(ids);
    TestStall(path, opts().test_stall_before_marker);
    CallStatus cs = s_->Mutate(
        "delete", rids,
        [&](const FsNamespace& ns, int64_t now) {
          return ns.PrepareDelete(ToCaller(ugi), path, recursive, now);
        },
        nullptr);
    // As HDFS: deleting a missing path answers false, not an error.
    if (!cs.fs.ok() && cs.fs.code() == FsError::kNotFound) return false;
    Check(cs);
    TestStall(path, opts().test_stall_after_marker);
    return true;
  }

  bool rename(const th::UserInfo& ugi, const std::string& src, const std::string& dst,
              const th::RpcIds& ids) override {
    CheckPath(src);
    CheckPath(dst);
    const RetryIds rids = ToRetryIds(ids);
    TestStall(src, opts().test_stall_before_marker);
    Check(s_->Mutate(
        "rename", rids,
        [&](const FsNamespace& ns, int64_t now) {
          return ns.PrepareRename(ToCaller(ugi), src, dst, now);
        },
        nullptr));
    TestStall(src, opts().test_stall_after_marker);
    return true;
  }

  void setPermission(const th::UserInfo& ugi, const std::string& path,
                     const int16_t permission) override {
    CheckPath(path);
    Check(s_->Mutate(
        "setPermission", RetryIds(),
        [&](const FsNamespace& ns, int64_t) {
          return ns.PrepareSetPermission(ToCaller(ugi), path, Bits(permission));
        },
        nullptr));
  }

  void setOwner(const th::UserInfo& ugi, const std::string& path, const std::string& owner,
                const std::string& group) override {
    CheckPath(path);
    Check(s_->Mutate(
        "setOwner", RetryIds(),
        [&](const FsNamespace& ns, int64_t) {
          return ns.PrepareSetOwner(ToCaller(ugi), path, owner, group);
        },
        nullptr));
  }

  void setTimes(const th::UserInfo& ugi, const std::string& path, const int64_t mtime,
                const int64_t atime) override {
    CheckPath(path);
    Check(s_->Mutate(
        "setTimes", RetryIds(),
        [&](const FsNamespace& ns, int64_t) {
          return ns.PrepareSetTimes(ToCaller(ugi), path, mtime, atime);
        },
        nullptr));
  }

  bool setReplication(const th::UserInfo& ugi, const std::string& path,
                      const int16_t replication) override {
    CheckPath(path);
    Check(s_->Mutate(
        "setReplication", RetryIds(),
        [&](const FsNamespace& ns, int64_t) {
          return ns.PrepareSetReplication(ToCaller(ugi), path, replication);
        },
        nullptr));
    return true;
  }

  // ---- ClientProtocol: reads ----
  // Each answer (or namespace failure) carries the txid it was read at (servedTxId).
  void getFileInfo(th::FileStatus& r, const th::UserInfo& ugi, const std::string& path,
                   const int64_t min_txid) override {
    CheckPath(path);
    int64_t served = 0;
    CheckRead(s_->Read(
                  "getFileInfo", min_txid,
                  [&](const FsNamespace& ns) {
                    auto info = ns.GetFileInfo(ToCaller(ugi), path);
                    if (!info.ok()) return info.status();
                    r = ToThrift(*info);
                    return FsStatus::OK();
                  },
                  &served),
              served);
    r.__set_servedTxId(served);
  }

  void listStatus(th::DirectoryListing& r, const th::UserInfo& ugi, const std::string& path,
                  const std::string& start_after, const int32_t limit,
                  const int64_t min_txid) override {
    CheckPath(path);
    int64_t served = 0;
    CheckRead(s_->Read(
                  "listStatus", min_txid,
                  [&](const FsNamespace& ns) {
                    // Pages stay small whatever the client asks: a reply must fit one frame.
                    auto listing = ns.ListStatus(ToCaller(ugi), path, start_after,
                                                 std::min<int32_t>(limit, kMaxListingPage));
                    if (!listing.ok()) return listing.status();
                    r.entries.clear();
                    r.entries.reserve(listing->entries.size());
                    for (const FileInfo& f : listing->entries) r.entries.push_back(ToThrift(f));
                    r.remainingEntries = listing->remaining_entries;
                    return FsStatus::OK();
                  },
                  &served),
              served);
    r.__set_servedTxId(served);
  }

  void getContentSummary(th::ContentSummary& r, const th::UserInfo& ugi, const std::string& path,
                         const int64_t min_txid) override {
    CheckPath(path);
    int64_t served = 0;
    CheckRead(s_->Read(
                  "getContentSummary", min_txid,
                  [&](const FsNamespace& ns) {
                    auto cs = ns.GetContentSummary(ToCaller(ugi), path);
                    if (!cs.ok()) return cs.status();
                    r.length = cs->length;
                    r.fileCount = cs->file_count;
                    r.directoryCount = cs->directory_count;
                    r.spaceConsumed = cs->space_consumed;
                    return FsStatus::OK();
                  },
                  &served),
              served);
    r.__set_servedTxId(served);
  }

  int64_t msync() override {
    auto txid = s_->Msync();
    if (txid.ok()) return *txid;
    throw ToFsException(CallStatus::Server(txid.status()), s_->GetStatus().active_hint);
  }

  // ---- Images ----
  void fetchImage(std::string& r, const int64_t txid, const int64_t offset,
                  const int32_t max_bytes) override {
    Status st = s_->ReadImageChunk(txid, offset, max_bytes, &r);
    if (!st.ok()) {
      rpc::ThrowAs<th::FsException>(st, rpc::FsErrors(), st.ToString(),
                                    {th::FsErrorCode::FILE_NOT_FOUND, th::FsErrorCode::IO_ERROR});
    }
  }

  int64_t latestImageTxId() override { return s_->LatestImageTxId(); }

  // ---- Administration (qjadmin) ----
  int64_t saveNamespace() override { return AdminValue(s_->SaveNamespace()); }

  int64_t rollEdits() override { return AdminValue(s_->RollEdits()); }

  void getNamenodeReport(th::NamenodeReport& r) override {
    NamenodeServer::AdminReport a = s_->GetAdminReport();
    th::HAServiceStatus hs;
    getServiceStatus(hs);
    r.state = hs.state;
    r.namenodeId = a.status.namenode_id;
    r.lastAppliedTxId = a.status.last_applied_txid;
    if (a.last_written_txid >= 0) r.__set_lastWrittenTxId(a.last_written_txid);
    if (a.committed_txid >= 0) r.__set_committedTxId(a.committed_txid);
    r.imageTxId = a.image_txid;
    if (a.image_age_ms >= 0) r.__set_imageAgeMs(a.image_age_ms);
    r.inodeCount = a.inode_count;
    r.epoch = a.status.epoch;
  }

 private:
  // Every client path is checked before the call reaches the namespace, whatever the
  // role: an invalid path is INVALID_PATH everywhere (clients retry only NOT_ACTIVE).
  static void CheckPath(const std::string& path) {
    FsStatus st = ValidateClientPath(path);
    if (st.ok()) return;
    th::FsException e;
    e.code = th::FsErrorCode::INVALID_PATH;
    e.message = st.message();
    throw e;
  }

  const NamenodeOptions& opts() const { return s_->options(); }

  // Empty clientId = a call without ids (a client that does not send them).
  static RetryIds ToRetryIds(const th::RpcIds& ids) {
    RetryIds r;
    if (ids.clientId.empty()) return r;
    if (ids.clientId.size() != RetryIds::kClientIdBytes || ids.callId < 0) {
      th::FsException e;
      e.code = th::FsErrorCode::INVALID_ARGUMENT;
      e.message = "RpcIds: clientId must be " + std::to_string(RetryIds::kClientIdBytes) +
                  " bytes (got " + std::to_string(ids.clientId.size()) + ") and callId >= 0 (got " +
                  std::to_string(ids.callId) + ")";
      throw e;
    }
    r.client_id = ids.clientId;
    r.call_id = ids.callId;
    return r;
  }

  [[noreturn]] static void Internal(const char* what, const std::string& path, const char* why) {
    th::FsException e;
    e.code = th::FsErrorCode::IO_ERROR;
    e.message = std::string(what) + " " + path + ": " + why;
    throw e;
  }

  // Test only (NamenodeOptions::test_stall_*_marker): the first call on a path that
  // contains `marker` sleeps test_stall_ms, so that the client's timeout cuts it before its
  // edit is journaled, or after it is committed but before the answer is sent.
  void TestStall(const std::string& path, const std::string& marker) {
    if (marker.empty() || path.find(marker) == std::string::npos) return;
    {
      std::lock_guard<std::mutex> l(stall_mu_);
      if (!stalled_.insert(marker + path).second) return;
    }
    LOG(WARNING) << opts().namenode_id << ": test only: stalling the call on " << path << " for "
                 << opts().test_stall_ms << " ms";
    std::this_thread::sleep_for(std::chrono::milliseconds(opts().test_stall_ms));
  }

  void Check(const CallStatus& cs) {
    if (cs.ok()) return;
    throw ToFsException(cs, s_->GetStatus().active_hint);
  }

  // A read's failure; a namespace failure says which txid it was read at.
  void CheckRead(const CallStatus& cs, int64_t served) {
    if (cs.ok()) return;
    th::FsException e = ToFsException(cs, s_->GetStatus().active_hint);
    if (!cs.fs.ok()) e.__set_servedTxId(served);
    throw e;
  }

  // An admin call's value, or its failure as the FsException rpc::AdminErrors() gives
  // (NOT_ACTIVE with the believed active).
  int64_t AdminValue(const Result<int64_t>& r) {
    if (r.ok()) return *r;
    throw ServerFailure(r.status(), r.status().ToString(), s_->GetStatus().active_hint,
                        rpc::AdminErrors());
  }

  static void ThrowIfFailed(const Status& st) {
    if (st.ok()) return;
    rpc::ThrowAs<th::ServiceFailedException>(st, rpc::HaErrors(), st.ToString());
  }

  [[noreturn]] static void Refuse(th::HAErrorCode::type code, const std::string& why) {
    th::ServiceFailedException e;
    e.message = why;
    e.__set_code(code);
    throw e;
  }

  // Who may ask for a transition now (see transitionToActive).
  void CheckSource(const char* what, const th::HAStateChangeRequest& req) const {
    const NamenodeOptions& o = s_->options();
    const bool automatic = o.cluster.automatic_failover;
    const int32_t source = RawSource(req);
    switch (source) {
      case th::RequestSource::REQUEST_BY_USER:
        if (automatic) {
          Refuse(th::HAErrorCode::MANUAL_WHILE_AUTOMATIC,
                 o.namenode_id + ": " + what +
                     " refused: automatic failover is enabled. Refusing to manually manage HA "
                     "state (the failoverds decide; use haadmin -failover, or --forcemanual)");
        }
        return;
      case th::RequestSource::REQUEST_BY_USER_FORCED:
        if (automatic) {
          LOG(WARNING) << o.namenode_id << ": " << what
                       << " forced by a user while automatic failover is on";
        }
        return;
      case th::RequestSource::REQUEST_BY_FAILOVERD:
        if (!automatic) {
          Refuse(
              th::HAErrorCode::AUTOMATIC_FAILOVER_OFF,
              o.namenode_id + ": " + what + " from a failoverd refused: automatic failover is off");
        }
        CheckHolder(what, req.__isset.holderId ? req.holderId : std::string());
        return;
    }
    Refuse(th::HAErrorCode::TRANSITION_FAILED,
           o.namenode_id + ": " + what + ": unknown request source " + std::to_string(source));
  }

  // A failoverd speaks for this namenode only if it holds the lease under this
  // namenode's id. Without authenticated RPC this is a claim, not a proof.
  void CheckHolder(const char* what, const std::string& holder_id) const {
    const std::string& id = s_->options().namenode_id;
    if (holder_id == id) return;
    Refuse(th::HAErrorCode::NOT_LEASE_HOLDER,
           id + ": " + what + " refused: holder '" + holder_id.substr(0, 64) +
               "' is not this namenode's failoverd (expected holder '" + id + "')");
  }

  void CheckDeadline(const char* what, int64_t deadline_ns) const {
    const int64_t now = s_->clock()->MonotonicNanos();
    const int64_t max_ahead_ns = s_->options().cluster.lease_duration_ms * 1000000;
    if (deadline_ns > now && deadline_ns - now <= max_ahead_ns) return;
    std::string where = deadline_ns <= now
                            ? "not after now (" + std::to_string(now) + ")"
                            : std::to_string((deadline_ns - now) / 1000000) +
                                  " ms ahead, more than lease.duration_ms=" +
                                  std::to_string(s_->options().cluster.lease_duration_ms);
    Refuse(th::HAErrorCode::INVALID_LEASE_DEADLINE,
           s_->options().namenode_id + ": " + what + " refused: lease deadline " +
               std::to_string(deadline_ns) + " ns is " + where);
  }

  // Who the caller is. With TLS the certificate's identity (the claimed UserInfo is
  // ignored), a member of the supergroup when listed in security.superusers; without
  // TLS the claimed user and groups (HDFS's simple authentication).
  Caller ToCaller(const th::UserInfo& u) const {
    const rpc::Peer* p = rpc::CurrentPeer();
    if (p == nullptr || !p->tls) return Caller{u.user, u.groups};
    Caller c{p->identity, {}};
    if (superusers_.count(p->identity) > 0) c.groups.push_back(s_->options().ns_options.supergroup);
    return c;
  }

  NamenodeServer* const s_;
  const std::set<std::string> superusers_;
  std::mutex stall_mu_;
  std::set<std::string> stalled_;  // guarded by stall_mu_
};

}  // namespace

rpc::ServerOptions NamenodeRpcServerOptions() {
  rpc::ServerOptions o;
  o.max_frame_bytes = 64 << 20;
  return o;
}

std::shared_ptr<apache::thrift::TProcessor> NewNamenodeProcessor(NamenodeServer* server) {
  return std::make_shared<th::ClientProtocolProcessor>(std::make_shared<Handler>(server));
}

NamenodeRpcServer::NamenodeRpcServer(NamenodeServer* server, rpc::ServerOptions opts)
    : rpc_(rpc::GuardedFactory<th::ClientProtocolProcessor, th::ClientProtocolIf>(
               std::make_shared<Handler>(server), opts.policy, server->options().namenode_id),
           opts) {}

NamenodeRpcServer::~NamenodeRpcServer() { Stop(); }

Status NamenodeRpcServer::Start() { return rpc_.Start(); }

void NamenodeRpcServer::Stop() { rpc_.Stop(); }

}  // namespace qj::nn
