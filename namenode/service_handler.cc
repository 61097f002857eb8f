#include "namenode/service_handler.h"

#include <glog/logging.h>
#include <pthread.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/server/TServer.h>
#include <thrift/server/TThreadedServer.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TServerSocket.h>
#include <unistd.h>

#include <algorithm>
#include <future>

#include "ClientProtocol.h"
#include "common/thrift_transport.h"

namespace qj {

namespace th = qjournal::thrift;

namespace {

constexpr int32_t kMaxListingPage = 5000;

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

th::FsException ToFsException(const CallStatus& cs, const std::string& active_hint) {
  th::FsException e;
  if (!cs.fs.ok()) {
    e.code = ToFsErrorCode(cs.fs.code());
    e.message = cs.fs.message();
    return e;
  }
  // NOT_ACTIVE only for calls that did not run (clients retry those on another
  // namenode); every other server failure is IO_ERROR.
  if (cs.server.code() == StatusCode::kNotActive) {
    e.code = th::FsErrorCode::NOT_ACTIVE;
    if (!active_hint.empty()) e.__set_activeNamenodeId(active_hint);
  } else if (cs.server.code() == StatusCode::kInvalidArgument) {
    e.code = th::FsErrorCode::INVALID_ARGUMENT;
  } else {
    e.code = th::FsErrorCode::IO_ERROR;
  }
  e.message = cs.server.ToString();
  return e;
}

th::Block ToThrift(const BlockInfo& b) {
  th::Block t;
  t.blockId = b.id;
  t.numBytes = b.num_bytes;
  t.generationStamp = b.gen_stamp;
  return t;
}

th::FileStatus ToThrift(const FileInfo& f) {
  th::FileStatus t;
  t.path = f.path;
  t.isDir = f.is_dir;
  t.length = f.length;
  t.replication = f.replication;
  t.blockSize = f.block_size;
  t.modificationTime = f.mtime_ms;
  t.accessTime = f.atime_ms;
  t.permission = static_cast<int16_t>(f.permission);
  t.owner = f.owner;
  t.group = f.group;
  t.childrenNum = f.children_num;
  t.fileId = f.file_id;
  if (!f.is_dir) {
    std::vector<th::Block> blocks;
    for (const BlockInfo& b : f.blocks) blocks.push_back(ToThrift(b));
    t.__set_blocks(std::move(blocks));
    t.__set_underConstruction(f.under_construction);
  }
  return t;
}

Caller ToCaller(const th::UserInfo& u) { return Caller{u.user, u.groups}; }

// Permission bits arrive as i16; anything outside 0..07777 is refused by Prepare.
uint16_t Bits(int16_t p) { return p < 0 ? 0xffff : static_cast<uint16_t>(p); }

class Handler : public th::ClientProtocolIf {
 public:
  explicit Handler(NamenodeServer* server) : s_(server) {}

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

  void transitionToActive(const th::HAStateChangeRequest& req) override {
    int64_t deadline = req.__isset.leaseDeadlineMonoNs ? req.leaseDeadlineMonoNs : 0;
    ThrowIfFailed(s_->TransitionToActive(deadline));
  }

  void transitionToStandby(const th::HAStateChangeRequest& /*req*/) override {
    ThrowIfFailed(s_->TransitionToStandby());
  }

  void renewLease(const int64_t deadline) override { ThrowIfFailed(s_->RenewLease(deadline)); }

  // ---- ClientProtocol: mutations ----
  bool mkdirs(const th::UserInfo& ugi, const std::string& path, const int16_t permission,
              const bool create_parent) override {
    Check(s_->Mutate(
        "mkdirs",
        [&](const FsNamespace& ns, int64_t now) {
          return ns.PrepareMkdirs(ToCaller(ugi), path, Bits(permission), create_parent, now);
        },
        nullptr));
    return true;
  }

  void create(th::FileStatus& r, const th::UserInfo& ugi, const std::string& path,
              const int16_t permission, const bool overwrite, const int16_t replication,
              const int64_t block_size) override {
    Check(s_->Mutate(
        "create",
        [&](const FsNamespace& ns, int64_t now) {
          return ns.PrepareCreate(ToCaller(ugi), path, Bits(permission), overwrite, replication,
                                  block_size, now);
        },
        [&](const FsNamespace& ns) { return StatInto(ns, path, &r); }));
  }

  void addBlock(th::Block& r, const th::UserInfo& ugi, const std::string& path,
                const int64_t previous_block_length) override {
    Check(s_->Mutate(
        "addBlock",
        [&](const FsNamespace& ns, int64_t) {
          return ns.PrepareAddBlock(ToCaller(ugi), path, previous_block_length);
        },
        [&](const FsNamespace& ns) {
          auto info = ns.StatPath(path);
          if (!info.ok()) return info.status();
          if (info->blocks.empty()) {
            return FsStatus(FsError::kInvalidArgument, path + ": no block after addBlock");
          }
          r = ToThrift(info->blocks.back());
          return FsStatus::OK();
        }));
  }

  bool complete(const th::UserInfo& ugi, const std::string& path,
                const int64_t last_block_length) override {
    Check(s_->Mutate(
        "complete",
        [&](const FsNamespace& ns, int64_t now) {
          return ns.PrepareComplete(ToCaller(ugi), path, last_block_length, now);
        },
        nullptr));
    return true;
  }

  bool deletePath(const th::UserInfo& ugi, const std::string& path, const bool recursive) override {
    CallStatus cs = s_->Mutate(
        "delete",
        [&](const FsNamespace& ns, int64_t now) {
          return ns.PrepareDelete(ToCaller(ugi), path, recursive, now);
        },
        nullptr);
    // As HDFS: deleting a missing path answers false, not an error.
    if (!cs.fs.ok() && cs.fs.code() == FsError::kNotFound) return false;
    Check(cs);
    return true;
  }

  bool rename(const th::UserInfo& ugi, const std::string& src, const std::string& dst) override {
    Check(s_->Mutate(
        "rename",
        [&](const FsNamespace& ns, int64_t now) {
          return ns.PrepareRename(ToCaller(ugi), src, dst, now);
        },
        nullptr));
    return true;
  }

  void setPermission(const th::UserInfo& ugi, const std::string& path,
                     const int16_t permission) override {
    Check(s_->Mutate(
        "setPermission",
        [&](const FsNamespace& ns, int64_t) {
          return ns.PrepareSetPermission(ToCaller(ugi), path, Bits(permission));
        },
        nullptr));
  }

  void setOwner(const th::UserInfo& ugi, const std::string& path, const std::string& owner,
                const std::string& group) override {
    Check(s_->Mutate(
        "setOwner",
        [&](const FsNamespace& ns, int64_t) {
          return ns.PrepareSetOwner(ToCaller(ugi), path, owner, group);
        },
        nullptr));
  }

  void setTimes(const th::UserInfo& ugi, const std::string& path, const int64_t mtime,
                const int64_t atime) override {
    Check(s_->Mutate(
        "setTimes",
        [&](const FsNamespace& ns, int64_t) {
          return ns.PrepareSetTimes(ToCaller(ugi), path, mtime, atime);
        },
        nullptr));
  }

  bool setReplication(const th::UserInfo& ugi, const std::string& path,
                      const int16_t replication) override {
    Check(s_->Mutate(
        "setReplication",
        [&](const FsNamespace& ns, int64_t) {
          return ns.PrepareSetReplication(ToCaller(ugi), path, replication);
        },
        nullptr));
    return true;
  }

  // ---- ClientProtocol: reads ----
  void getFileInfo(th::FileStatus& r, const th::UserInfo& ugi, const std::string& path) override {
    Check(s_->Read("getFileInfo", [&](const FsNamespace& ns) {
      auto info = ns.GetFileInfo(ToCaller(ugi), path);
      if (!info.ok()) return info.status();
      r = ToThrift(*info);
      return FsStatus::OK();
    }));
  }

  void listStatus(th::DirectoryListing& r, const th::UserInfo& ugi, const std::string& path,
                  const std::string& start_after, const int32_t limit) override {
    Check(s_->Read("listStatus", [&](const FsNamespace& ns) {
      // Pages stay small whatever the client asks: a reply must fit one frame.
      auto listing = ns.ListStatus(ToCaller(ugi), path, start_after,
                                   std::min<int32_t>(limit, kMaxListingPage));
      if (!listing.ok()) return listing.status();
      r.entries.clear();
      r.entries.reserve(listing->entries.size());
      for (const FileInfo& f : listing->entries) r.entries.push_back(ToThrift(f));
      r.remainingEntries = listing->remaining_entries;
      return FsStatus::OK();
    }));
  }

  void getContentSummary(th::ContentSummary& r, const th::UserInfo& ugi,
                         const std::string& path) override {
    Check(s_->Read("getContentSummary", [&](const FsNamespace& ns) {
      auto cs = ns.GetContentSummary(ToCaller(ugi), path);
      if (!cs.ok()) return cs.status();
      r.length = cs->length;
      r.fileCount = cs->file_count;
      r.directoryCount = cs->directory_count;
      r.spaceConsumed = cs->space_consumed;
      return FsStatus::OK();
    }));
  }

  // ---- Images ----
  void fetchImage(std::string& r, const int64_t txid, const int64_t offset,
                  const int32_t max_bytes) override {
    Status st = s_->ReadImageChunk(txid, offset, max_bytes, &r);
    if (!st.ok()) {
      th::FsException e;
      e.code = st.IsNotFound() ? th::FsErrorCode::FILE_NOT_FOUND : th::FsErrorCode::IO_ERROR;
      e.message = st.ToString();
      throw e;
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
  static FsStatus StatInto(const FsNamespace& ns, const std::string& path, th::FileStatus* r) {
    auto info = ns.StatPath(path);
    if (!info.ok()) return info.status();
    *r = ToThrift(*info);
    return FsStatus::OK();
  }

  void Check(const CallStatus& cs) {
    if (cs.ok()) return;
    throw ToFsException(cs, s_->GetStatus().active_hint);
  }

  // An admin call's value, or its failure as an FsException that keeps the code:
  // NOT_ACTIVE (with the believed active) for a role that may not run it, IO_ERROR else.
  int64_t AdminValue(const Result<int64_t>& r) {
    if (r.ok()) return *r;
    th::FsException e;
    const StatusCode c = r.status().code();
    if (c == StatusCode::kNotActive) {
      e.code = th::FsErrorCode::NOT_ACTIVE;
      const std::string hint = s_->GetStatus().active_hint;
      if (!hint.empty()) e.__set_activeNamenodeId(hint);
    } else if (c == StatusCode::kIllegalState || c == StatusCode::kInvalidArgument) {
      e.code = th::FsErrorCode::INVALID_ARGUMENT;
    } else {
      e.code = th::FsErrorCode::IO_ERROR;
    }
    e.message = r.status().ToString();
    throw e;
  }

  static void ThrowIfFailed(const Status& st) {
    if (st.ok()) return;
    th::ServiceFailedException e;
    e.message = st.ToString();
    throw e;
  }

  NamenodeServer* const s_;
};

}  // namespace

NamenodeRpcServer::NamenodeRpcServer(NamenodeServer* server, RpcServerOptions opts)
    : server_(server), opts_(std::move(opts)) {}

NamenodeRpcServer::~NamenodeRpcServer() { Stop(); }

Status NamenodeRpcServer::Start() {
  using namespace apache::thrift;  // NOLINT(build/namespaces)
  auto handler = std::make_shared<Handler>(server_);
  auto processor = std::make_shared<th::ClientProtocolProcessor>(handler);
  // TServerSocket sets TCP_NODELAY on the sockets it accepts.
  auto socket = std::make_shared<transport::TServerSocket>(opts_.bind_host, opts_.port);
  auto protocol = std::make_shared<protocol::TBinaryProtocolFactory>(
      opts_.max_string_bytes, opts_.max_container_elements, true, true);
  tserver_ = std::make_shared<server::TThreadedServer>(
      processor, socket, NewFramedTransportFactory(opts_.max_frame_bytes), protocol);
  // preServe() runs once the socket listens: Start() returns only then, or with the
  // error that ended serve().
  auto listening = std::make_shared<std::promise<Status>>();
  struct Events : server::TServerEventHandler {
    explicit Events(std::shared_ptr<std::promise<Status>> p) : p_(std::move(p)) {}
    void preServe() override { p_->set_value(Status::OK()); }
    std::shared_ptr<std::promise<Status>> p_;
  };
  tserver_->setServerEventHandler(std::make_shared<Events>(listening));
  std::future<Status> ready = listening->get_future();
  const std::string where = opts_.bind_host + ":" + std::to_string(opts_.port);
  thread_ = std::thread([this, listening, where] {
    pthread_setname_np(pthread_self(), "nn-rpc-accept");
    try {
      tserver_->serve();
    } catch (const TException& e) {
      LOG(ERROR) << "namenode rpc " << where << ": server loop ended: " << e.what();
      try {
        listening->set_value(
            Status::IOError("namenode rpc: cannot serve on " + where + ": " + e.what()));
      } catch (const std::future_error&) {
        // Already listening: the failure came later and is logged above.
      }
    }
  });
  Status st = ready.get();
  if (!st.ok()) {
    thread_.join();
    tserver_.reset();
  }
  return st;
}

void NamenodeRpcServer::Stop() {
  if (tserver_ != nullptr) tserver_->stop();
  if (thread_.joinable()) thread_.join();
  tserver_.reset();
}

}  // namespace qj
