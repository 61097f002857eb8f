#include "namenode/client/failover_proxy.h"

#include <poll.h>
#include <sys/socket.h>
#include <thrift/transport/TTransportException.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>

#include "common/clock.h"
#include "common/rpc/idl_errors.h"
#include "common/rpc/rpc.h"

namespace qj::nn {

namespace th = qjournal::thrift;
using apache::thrift::TException;
using apache::thrift::transport::TTransportException;

struct FailoverProxy::Conn {
  std::unique_ptr<rpc::Connection> conn;
  std::unique_ptr<Client> client;
  int64_t recv_timeout_ms = 0;  // the socket's receive timeout now
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

// 16 random bytes: distinct clients must never share an id (the namenode would answer one
// with the other's outcome), so they come from the kernel's generator.
std::string NewClientId() {
  std::random_device rd;
  std::string id(16, '\0');
  for (size_t i = 0; i < id.size(); i += 4) {
    const uint32_t v = rd();
    std::memcpy(&id[i], &v, 4);
  }
  return id;
}

int64_t NowMs() { return RealClock::Get()->MonotonicNanos() / kNanosPerMilli; }

}  // namespace

FailoverProxyOptions FailoverProxyOptionsFromConfig(const ClusterConfig& conf) {
  FailoverProxyOptions o;
  o.namenodes = conf.namenodes;
  return o;
}

Status StatusFromFsException(const th::FsException& e) {
  return rpc::StatusFrom(e, rpc::FsErrors(), "");
}

FailoverProxy::FailoverProxy(FailoverProxyOptions opts)
    : opts_(std::move(opts)), client_id_(NewClientId()) {
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
  c->recv_timeout_ms = o.recv_timeout_ms;
  conns_[i] = std::move(c);
  return Status::OK();
}

void FailoverProxy::SetTimeout(size_t i, int64_t ms) {
  Conn& c = *conns_[i];
  if (c.recv_timeout_ms == ms) return;
  c.conn->SetRecvTimeout(ms);
  c.recv_timeout_ms = ms;
}

void FailoverProxy::Drop(size_t i) {
  if (conns_[i] == nullptr) return;
  conns_[i]->conn->Close();
  conns_[i].reset();
}

Status FailoverProxy::Call(const char* what, bool idempotent,
                           const std::function<void(Client&)>& fn) {
  return CallImpl(what, idempotent, nullptr, fn);
}

Status FailoverProxy::ReadCall(const char* what,
                               const std::function<int64_t(Client&, int64_t)>& fn) {
  const int64_t min_txid = std::max<int64_t>(last_seen_txid_, 1);
  if (opts_.standby_reads && !read_from_active_ && opts_.namenodes.size() > 1) {
    // Any namenode but the one that served last (the active, as far as we know).
    for (size_t k = 1; k < opts_.namenodes.size(); ++k) {
      const size_t j = (current_ + k) % opts_.namenodes.size();
      if (!Connect(j).ok()) continue;
      SetTimeout(j, std::min(opts_.attempt_timeout_ms, opts_.rpc_timeout_ms));
      try {
        SawTxId(fn(*conns_[j]->client, min_txid));
        last_read_from_ = opts_.namenodes[j].id;
        return Status::OK();
      } catch (const th::FsException& e) {
        if (e.code != th::FsErrorCode::NOT_ACTIVE) {
          // A definite answer (FILE_NOT_FOUND, ...), read at or after min_txid.
          if (e.__isset.servedTxId) SawTxId(e.servedTxId);
          last_fs_error_ = e.code;
          last_read_from_ = opts_.namenodes[j].id;
          return StatusFromFsException(e);
        }
        VLOG(2) << opts_.name << ": " << what << " on standby " << opts_.namenodes[j].id << ": "
                << e.message;
      } catch (const TException& e) {
        Drop(j);
        VLOG(1) << opts_.name << ": " << what << " on standby " << opts_.namenodes[j].id << ": "
                << e.what();
      }
    }
  }
  // The active: its state holds every committed edit, so it is at or after anything seen.
  // minTxId 0, so that a namenode that became standby since it last served refuses the read
  // instead of answering from before this proxy's last write.
  int64_t served = 0;
  Status st = Call(what, true, [&](Client& c) { served = fn(c, 0); });
  if (st.ok()) {
    SawTxId(served);
    read_from_active_ = false;
    last_read_from_ = active_id_;
  }
  return st;
}

Status FailoverProxy::Msync() {
  int64_t txid = 0;
  QJ_RETURN_IF_ERROR(Call("msync", true, [&](Client& c) { txid = c.msync(); }));
  SawTxId(txid);
  read_from_active_ = false;
  return Status::OK();
}

Status FailoverProxy::CallMutation(const char* what,
                                   const std::function<void(Client&, const th::RpcIds&)>& fn) {
  // Whatever happens, the next read goes to the active, which has this write if it landed.
  read_from_active_ = true;
  th::RpcIds ids;
  if (!opts_.retry_mutations) return CallImpl(what, false, nullptr, [&](Client& c) { fn(c, ids); });
  ids.clientId = client_id_;
  ids.callId = next_call_id_++;
  return CallImpl(what, true, &ids, [&](Client& c) { fn(c, ids); });
}

Status FailoverProxy::CallImpl(const char* what, bool idempotent, const th::RpcIds* ids,
                               const std::function<void(Client&)>& fn) {
  last_fs_error_ = 0;
  // Set once an attempt may have run without our seeing its answer.
  std::string unknown;
  if (opts_.namenodes.empty()) return Status::InvalidArgument("no namenodes configured");
  const int64_t deadline = NowMs() + opts_.total_budget_ms;
  int64_t backoff = opts_.initial_backoff_ms;
  std::vector<std::string> why(opts_.namenodes.size(), "not tried");
  // Per namenode: until when this call skips it, because an attempt there timed out (a
  // paused or partitioned namenode); 0: not skipped.
  std::vector<int64_t> silent_until(opts_.namenodes.size(), 0);
  const int64_t attempt_timeout_ms =
      idempotent ? std::min(opts_.attempt_timeout_ms, opts_.rpc_timeout_ms) : opts_.rpc_timeout_ms;
  size_t tried_this_round = 0;
  while (true) {
    const size_t i = current_;
    const NamenodeInfo& nn = opts_.namenodes[i];
    bool stay = false;
    const int64_t now = NowMs();
    const bool skip =
        now < silent_until[i] && std::any_of(silent_until.begin(), silent_until.end(),
                                             [&](int64_t until) { return until <= now; });
    Status st = skip ? Status::TimedOut("skipped: timed out") : Connect(i);
    if (skip) {
      // Tried again once its silence has lasted attempt_timeout_ms (or every other
      // namenode is silent too).
    } else if (st.ok()) {
      SetTimeout(i, attempt_timeout_ms);
      try {
        fn(*conns_[i]->client);
        active_id_ = nn.id;
        return Status::OK();
      } catch (const th::FsException& e) {
        if (e.code == th::FsErrorCode::IO_ERROR && ids != nullptr) {
          // The namenode may hold the edit (uncommitted, or committed without an answer):
          // the same ids again get its outcome from whichever namenode serves next.
          unknown = nn.id + ": " + e.message;
          ++unknown_outcome_retries_;
          why[i] = "outcome unknown (" + e.message + ")";
          VLOG(1) << opts_.name << ": " << what << " call " << ids->callId << " on " << nn.id
                  << ": " << e.message << "; retrying with the same ids";
          // The namenode that holds the edit answers the retry soonest (after a backoff);
          // if it has stopped serving it says NOT_ACTIVE and names the new active.
          stay = true;
        } else if (e.code != th::FsErrorCode::NOT_ACTIVE) {
          last_fs_error_ = e.code;
          active_id_ = nn.id;
          return StatusFromFsException(e);
        } else {
          why[i] = e.message.empty() ? "not active" : e.message;
          VLOG(1) << opts_.name << ": " << what << " on " << nn.id << ": not active: " << e.message;
        }
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
        if (e.getType() == TTransportException::TIMED_OUT) {
          silent_until[i] = NowMs() + attempt_timeout_ms;
        }
        if (!idempotent) {
          return Status::NetworkError(std::string(what) + " on " + nn.id +
                                      ": outcome unknown (the request was sent): " + e.what());
        }
        if (ids != nullptr) {
          unknown = nn.id + ": " + e.what();
          ++unknown_outcome_retries_;
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
    if (current_ == i && !stay) current_ = (i + 1) % opts_.namenodes.size();
    if (++tried_this_round >= opts_.namenodes.size() || stay) {
      tried_this_round = 0;
      int64_t left = deadline - NowMs();
      if (left <= 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(backoff, left)));
      backoff = std::min(backoff * 2, opts_.max_backoff_ms);
    }
    if (NowMs() >= deadline) break;
  }
  if (!unknown.empty()) {
    return Status::NetworkError(std::string(what) +
                                ": outcome unknown: no definite answer within " +
                                std::to_string(opts_.total_budget_ms) +
                                " ms of retries with the same call id (last: " + unknown + ")");
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
  return CallMutation("mkdirs", [&](Client& c, const th::RpcIds& ids) {
    *created = c.mkdirs(ugi, path, permission, create_parent, ids);
  });
}

Status FailoverProxy::Create(const th::UserInfo& ugi, const std::string& path, int16_t permission,
                             bool overwrite, int16_t replication, int64_t block_size,
                             th::FileStatus* out) {
  return CallMutation("create", [&](Client& c, const th::RpcIds& ids) {
    c.create(*out, ugi, path, permission, overwrite, replication, block_size, ids);
  });
}

Status FailoverProxy::Complete(const th::UserInfo& ugi, const std::string& path,
                               int64_t last_block_length, bool* done) {
  return CallMutation("complete", [&](Client& c, const th::RpcIds& ids) {
    *done = c.complete(ugi, path, last_block_length, ids);
  });
}

Status FailoverProxy::Delete(const th::UserInfo& ugi, const std::string& path, bool recursive,
                             bool* deleted) {
  return CallMutation("delete", [&](Client& c, const th::RpcIds& ids) {
    *deleted = c.deletePath(ugi, path, recursive, ids);
  });
}

Status FailoverProxy::Rename(const th::UserInfo& ugi, const std::string& src,
                             const std::string& dst, bool* renamed) {
  return CallMutation(
      "rename", [&](Client& c, const th::RpcIds& ids) { *renamed = c.rename(ugi, src, dst, ids); });
}

Status FailoverProxy::AddBlock(const th::UserInfo& ugi, const std::string& path,
                               int64_t previous_block_length, th::Block* out) {
  return CallMutation("addBlock", [&](Client& c, const th::RpcIds& ids) {
    c.addBlock(*out, ugi, path, previous_block_length, ids);
  });
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
  return ReadCall("getFileInfo", [&](Client& c, int64_t min_txid) {
    c.getFileInfo(*out, ugi, path, min_txid);
    return out->servedTxId;
  });
}

Status FailoverProxy::ListAll(const th::UserInfo& ugi, const std::string& path,
                              std::vector<th::FileStatus>* out) {
  out->clear();
  std::string start_after;
  while (true) {
    th::DirectoryListing page;
    QJ_RETURN_IF_ERROR(ReadCall("listStatus", [&](Client& c, int64_t min_txid) {
      c.listStatus(page, ugi, path, start_after, 1000, min_txid);
      return page.servedTxId;
    }));
    for (auto& e : page.entries) out->push_back(std::move(e));
    if (page.remainingEntries <= 0 || page.entries.empty()) return Status::OK();
    const std::string& last = out->back().path;
    start_after = last.substr(last.rfind('/') + 1);
  }
}

Status FailoverProxy::GetContentSummary(const th::UserInfo& ugi, const std::string& path,
                                        th::ContentSummary* out) {
  return ReadCall("getContentSummary", [&](Client& c, int64_t min_txid) {
    c.getContentSummary(*out, ugi, path, min_txid);
    return out->servedTxId;
  });
}

}  // namespace qj::nn
