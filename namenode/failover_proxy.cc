#include "namenode/failover_proxy.h"

#include <poll.h>
#include <sys/socket.h>
#include <thrift/TOutput.h>
#include <thrift/transport/TTransportException.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <mutex>
#include <thread>

#include "common/rpc/rpc.h"

namespace qj {

namespace th = qjournal::thrift;
using apache::thrift::TException;
using apache::thrift::transport::TTransportException;

struct FailoverProxy::Conn {
  std::unique_ptr<rpc::Connection> conn;
  std::unique_ptr<Client> client;
};

namespace {

// True if the peer closed an idle connection (EOF or error pending). A request sent on
// such a connection would fail after the fact and leave its outcome unknown, so the proxy
// reconnects first.
bool PeerClosed(int fd) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  if (p.revents & (POLLERR | POLLHUP | POLLRDHUP)) return true;
  char c;
  ssize_t n = ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

FailoverProxyOptions FailoverProxyOptionsFromConfig(const ClusterConfig& conf) {
  FailoverProxyOptions o;
  o.namenodes = conf.namenodes;
  return o;
}

Status StatusFromFsException(const th::FsException& e) {
  switch (e.code) {
    case th::FsErrorCode::FILE_NOT_FOUND:
      return Status::NotFound(e.message);
    case th::FsErrorCode::FILE_ALREADY_EXISTS:
      return Status::AlreadyExists(e.message);
    case th::FsErrorCode::PERMISSION_DENIED:
      return Status::PermissionDenied(e.message);
    case th::FsErrorCode::NOT_ACTIVE:
      return Status::NotActive(e.message);
    case th::FsErrorCode::IO_ERROR:
      return Status::IOError(e.message);
    case th::FsErrorCode::INVALID_PATH:
    case th::FsErrorCode::INVALID_ARGUMENT:
      return Status::InvalidArgument(e.message);
    case th::FsErrorCode::NOT_A_DIRECTORY:
    case th::FsErrorCode::IS_A_DIRECTORY:
    case th::FsErrorCode::DIRECTORY_NOT_EMPTY:
      return Status::IllegalState(e.message);
  }
  return Status::IOError("unknown FsErrorCode " + std::to_string(e.code) + ": " + e.message);
}

FailoverProxy::FailoverProxy(FailoverProxyOptions opts) : opts_(std::move(opts)) {
  // Thrift prints every failed connect to stderr; the proxy reports failures itself.
  static std::once_flag once;
  std::call_once(once, [] {
    apache::thrift::GlobalOutput.setOutputFunction(
        [](const char* msg) { VLOG(1) << "thrift: " << msg; });
  });
  conns_.resize(opts_.namenodes.size());
}

FailoverProxy::~FailoverProxy() {
  for (size_t i = 0; i < conns_.size(); ++i) Drop(i);
}

std::string FailoverProxy::active_id() const { return active_id_; }

Status FailoverProxy::Connect(size_t i) {
  if (conns_[i] != nullptr && PeerClosed(conns_[i]->conn->fd())) Drop(i);
  if (conns_[i] != nullptr) return Status::OK();
  const NamenodeInfo& nn = opts_.namenodes[i];
  rpc::ClientOptions o;
  o.connect_timeout_ms = opts_.connect_timeout_ms;
  o.send_timeout_ms = opts_.rpc_timeout_ms;
  o.recv_timeout_ms = opts_.rpc_timeout_ms;
  auto conn = rpc::Connect(nn.rpc(), o);
  if (!conn.ok()) return Status::NetworkError(nn.id + " (" + conn.status().message() + ")");
  auto c = std::make_unique<Conn>();
  c->conn = std::move(*conn);
  c->client = std::make_unique<Client>(c->conn->in(), c->conn->out());
  conns_[i] = std::move(c);
  return Status::OK();
}

void FailoverProxy::Drop(size_t i) {
  if (conns_[i] == nullptr) return;
  conns_[i]->conn->Close();
  conns_[i].reset();
}

Status FailoverProxy::Call(const char* what, bool idempotent,
                           const std::function<void(Client&)>& fn) {
  last_fs_error_ = 0;
  if (opts_.namenodes.empty()) return Status::InvalidArgument("no namenodes configured");
  const int64_t deadline = NowMs() + opts_.total_budget_ms;
  int64_t backoff = opts_.initial_backoff_ms;
  std::vector<std::string> why(opts_.namenodes.size(), "not tried");
  size_t tried_this_round = 0;
  while (true) {
    const size_t i = current_;
    const NamenodeInfo& nn = opts_.namenodes[i];
    Status st = Connect(i);
    if (st.ok()) {
      try {
        fn(*conns_[i]->client);
        active_id_ = nn.id;
        return Status::OK();
      } catch (const th::FsException& e) {
        if (e.code != th::FsErrorCode::NOT_ACTIVE) {
          last_fs_error_ = e.code;
          active_id_ = nn.id;
          return StatusFromFsException(e);
        }
        why[i] = e.message.empty() ? "not active" : e.message;
        VLOG(1) << opts_.name << ": " << what << " on " << nn.id << ": not active: " << e.message;
        if (e.__isset.activeNamenodeId) {
          for (size_t j = 0; j < opts_.namenodes.size(); ++j) {
            if (opts_.namenodes[j].id == e.activeNamenodeId && j != i) {
              current_ = j;
              break;
            }
          }
        }
      } catch (const TTransportException& e) {
        Drop(i);
        if (!idempotent) {
          return Status::NetworkError(std::string(what) + " on " + nn.id +
                                      ": outcome unknown (the request was sent): " + e.what());
        }
        why[i] = std::string("unreachable (") + e.what() + ")";
      } catch (const TException& e) {
        // Refused by authorization, or a protocol error (bad frame, unknown method):
        // nothing sensible to retry.
        Drop(i);
        return rpc::FromThrift(e, std::string(what) + " on " + nn.id);
      }
    } else {
      why[i] = "unreachable (" + st.message() + ")";
      VLOG(1) << opts_.name << ": " << what << ": " << st;
    }
    if (current_ == i) current_ = (i + 1) % opts_.namenodes.size();
    if (++tried_this_round >= opts_.namenodes.size()) {
      tried_this_round = 0;
      int64_t left = deadline - NowMs();
      if (left <= 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(backoff, left)));
      backoff = std::min(backoff * 2, opts_.max_backoff_ms);
    }
    if (NowMs() >= deadline) break;
  }
  // "Nothing answered" (a network or configuration problem) and "all answered, none active"
  // (a failover problem) send the operator to different places.
  bool any_answered = false;
  std::string detail;
  for (size_t j = 0; j < opts_.namenodes.size(); ++j) {
    if (j > 0) detail += ", ";
    detail += opts_.namenodes[j].id + ": " + why[j];
    any_answered |= why[j].rfind("unreachable", 0) != 0 && why[j] != "not tried";
  }
  if (!any_answered) return Status::NetworkError("no namenode reachable (" + detail + ")");
  return Status::NotActive("no namenode is active (" + detail + ")");
}

Status FailoverProxy::Mkdirs(const th::UserInfo& ugi, const std::string& path, int16_t permission,
                             bool create_parent, bool* created) {
  return Call("mkdirs", false,
              [&](Client& c) { *created = c.mkdirs(ugi, path, permission, create_parent); });
}

Status FailoverProxy::Create(const th::UserInfo& ugi, const std::string& path, int16_t permission,
                             bool overwrite, int16_t replication, int64_t block_size,
                             th::FileStatus* out) {
  return Call("create", false, [&](Client& c) {
    c.create(*out, ugi, path, permission, overwrite, replication, block_size);
  });
}

Status FailoverProxy::Complete(const th::UserInfo& ugi, const std::string& path,
                               int64_t last_block_length, bool* done) {
  return Call("complete", false,
              [&](Client& c) { *done = c.complete(ugi, path, last_block_length); });
}

Status FailoverProxy::Delete(const th::UserInfo& ugi, const std::string& path, bool recursive,
                             bool* deleted) {
  return Call("delete", false, [&](Client& c) { *deleted = c.deletePath(ugi, path, recursive); });
}

Status FailoverProxy::Rename(const th::UserInfo& ugi, const std::string& src,
                             const std::string& dst, bool* renamed) {
  return Call("rename", false, [&](Client& c) { *renamed = c.rename(ugi, src, dst); });
}

Status FailoverProxy::SetPermission(const th::UserInfo& ugi, const std::string& path,
                                    int16_t permission) {
  // Setting the same bits twice gives the same result: safe to retry.
  return Call("setPermission", true, [&](Client& c) { c.setPermission(ugi, path, permission); });
}

Status FailoverProxy::SetOwner(const th::UserInfo& ugi, const std::string& path,
                               const std::string& owner, const std::string& group) {
  return Call("setOwner", true, [&](Client& c) { c.setOwner(ugi, path, owner, group); });
}

Status FailoverProxy::SetTimes(const th::UserInfo& ugi, const std::string& path, int64_t mtime,
                               int64_t atime) {
  return Call("setTimes", true, [&](Client& c) { c.setTimes(ugi, path, mtime, atime); });
}

Status FailoverProxy::SetReplication(const th::UserInfo& ugi, const std::string& path,
                                     int16_t replication, bool* changed) {
  return Call("setReplication", true,
              [&](Client& c) { *changed = c.setReplication(ugi, path, replication); });
}

Status FailoverProxy::GetFileInfo(const th::UserInfo& ugi, const std::string& path,
                                  th::FileStatus* out) {
  return Call("getFileInfo", true, [&](Client& c) { c.getFileInfo(*out, ugi, path); });
}

Status FailoverProxy::ListAll(const th::UserInfo& ugi, const std::string& path,
                              std::vector<th::FileStatus>* out) {
  out->clear();
  std::string start_after;
  while (true) {
    th::DirectoryListing page;
    QJ_RETURN_IF_ERROR(Call("listStatus", true,
                            [&](Client& c) { c.listStatus(page, ugi, path, start_after, 1000); }));
    for (auto& e : page.entries) out->push_back(std::move(e));
    if (page.remainingEntries <= 0 || page.entries.empty()) return Status::OK();
    const std::string& last = out->back().path;
    start_after = last.substr(last.rfind('/') + 1);
  }
}

Status FailoverProxy::GetContentSummary(const th::UserInfo& ugi, const std::string& path,
                                        th::ContentSummary* out) {
  return Call("getContentSummary", true, [&](Client& c) { c.getContentSummary(*out, ugi, path); });
}

}  // namespace qj
