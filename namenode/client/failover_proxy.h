// The HA client: sends ClientProtocol calls to whichever namenode is active, in the
// manner of HDFS's ConfiguredFailoverProxyProvider. Used by the `qjfs` shell, tests and
// benchmarks.
//
// It knows every namenode of the cluster file. A call goes to the namenode that answered
// last; when that one says NOT_ACTIVE (it is standby, fenced, or its lease expired) or
// cannot be connected to, the proxy tries the next one, sleeping a capped exponential
// backoff (initial_backoff_ms doubling up to max_backoff_ms) after each round in which no
// namenode served, until total_budget_ms is spent. Then it fails with NotActive:
// "no namenode is active (nn1: standby, nn2: unreachable)", or, when none could be
// reached at all, NetworkError: "no namenode reachable (nn1: unreachable (...), ...)".
// The budget is time, not a count of attempts, and by default (2 minutes) outlasts any
// failover: health timeout + lease, or a cut writer's journal timeout.
//
// A call that is safe to retry (idempotent, or a mutation carrying ids) waits at most
// attempt_timeout_ms for one namenode's answer: a paused (SIGSTOP) or partitioned active
// accepts connections and answers nothing, while its successor may be active within a
// lease. The proxy then tries the other namenodes, and comes back to the silent one only
// once attempt_timeout_ms has passed since it timed out, so that a standby's hint naming
// the silent one as active (its lease holder of a moment ago) does not send every retry
// back into the same wait. A call that is not safe to retry waits rpc_timeout_ms.
//
// Retry safety. A non-idempotent call (mkdirs, create, addBlock, complete, delete,
// rename) carries RpcIds: this proxy's random 16-byte client id and a call id it never
// reuses, kept the same across every attempt of that call. The namenode's retry cache
// (namenode/retry_cache.h) answers an attempt whose ids it has seen with the first
// attempt's answer, on the same namenode or, because the ids are journaled with the edit,
// on the new active after a failover. So the proxy retries a mutation on every error that
// leaves its outcome unknown: a transport error after the request was sent (timeout,
// connection reset), and FsException IO_ERROR (the journal failed or the commit timed out;
// the namenode did not answer for the edit). Idempotent calls are retried the same way
// without ids. Every other FsException is the call's answer.
//
// Only when total_budget_ms runs out after such an error does a mutation end with
// NetworkError "outcome unknown"; a namenode that never runs the mutation (NOT_ACTIVE,
// unreachable) still ends with NotActive / NetworkError as above. A server without a
// retry cache would ignore the ids; with such a server set retry_mutations = false to
// restore the old rule (a mutation is retried only when it provably did not run: connect
// failed, or NOT_ACTIVE, which a namenode answers only before it executes).
//
// Consistent reads from the standby (standby_reads, off by default). Reads
// (getFileInfo, listStatus, getContentSummary) then go to a standby first, carrying the
// highest txid this proxy has seen (minTxId; every read answer and msync says the txid it
// was served at); the standby answers once it has applied that txid, or after a bounded
// wait says NOT_ACTIVE and the read goes to the active. After a mutation the next read
// goes to the active (the mutation's txid is not in its answer; the active's read is at or
// after it), so a proxy reads its own writes and never sees the namespace go back in time,
// across failovers too. Writes made by other clients are seen once this proxy has read
// from the active or called Msync() after them, as with HDFS's observer reads, which is
// why the switch is off by default (HDFS also needs its observer proxy configured): an
// application that learns of another client's write out of band must call Msync() first.
//
// Thread-safety: thread-compatible. A proxy owns one connection per namenode; give each
// thread its own proxy (they are cheap).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ClientProtocol.h"
#include "common/cluster_config.h"
#include "common/status.h"
#include "namenode_types.h"

namespace qj::nn {

struct FailoverProxyOptions {
  std::vector<NamenodeInfo> namenodes;
  // Who is speaking, for log lines.
  std::string name = "client";
  int64_t connect_timeout_ms = 2000;
  // The longest one attempt of any call waits for its answer, and the wait of a call that
  // is not safe to retry (a mutation without ids, retry_mutations off): it waits for a
  // journal commit, so leave room for that.
  int64_t rpc_timeout_ms = 30000;
  // Per attempt of a call that is safe to retry (see above; capped by rpc_timeout_ms). A
  // slow namenode that misses it answers the retry from its retry cache; keep it above the
  // commit latency under load, and near health timeout + lease, the time a silent active
  // takes to be replaced.
  int64_t attempt_timeout_ms = 2000;
  int64_t initial_backoff_ms = 10;
  int64_t max_backoff_ms = 500;
  // Total time spent on one call: looking for an active namenode, and retrying a mutation
  // whose outcome is unknown (HDFS: dfs.client.failover.max.attempts with its sleeps).
  int64_t total_budget_ms = 120000;
  // Send RpcIds with mutations and retry them when their outcome is unknown (see above).
  bool retry_mutations = true;
  // Send reads to a standby first (see above).
  bool standby_reads = false;
};

// Builds options naming every namenode in the cluster file.
FailoverProxyOptions FailoverProxyOptionsFromConfig(const ClusterConfig& conf);

class FailoverProxy {
 public:
  explicit FailoverProxy(FailoverProxyOptions opts);
  ~FailoverProxy();
  FailoverProxy(const FailoverProxy&) = delete;
  FailoverProxy& operator=(const FailoverProxy&) = delete;

  using Client = qjournal::thrift::ClientProtocolClient;

  // Runs fn(client) against the active namenode with the retry rules above. fn performs
  // exactly one RPC. `idempotent` allows a retry after an outcome-unknown transport
  // error. On an FsException other than NOT_ACTIVE returns its Status (see
  // StatusFromFsException) and remembers its code in last_fs_error().
  Status Call(const char* what, bool idempotent, const std::function<void(Client&)>& fn);
  // Runs a non-idempotent fn(client, ids) with fresh ids (the same for every attempt) and
  // the retry rules above. With retry_mutations off, ids is empty (clientId "").
  Status CallMutation(const char* what,
                      const std::function<void(Client&, const qjournal::thrift::RpcIds&)>& fn);

  // This proxy's client id (16 bytes) and the call id its next mutation gets.
  const std::string& client_id() const { return client_id_; }
  int64_t next_call_id() const { return next_call_id_; }

  // FsErrorCode of the last FsException returned by Call (0 after a success or a
  // non-FsException failure).
  int last_fs_error() const { return last_fs_error_; }
  // Id of the namenode that served the last successful call ("" if none yet).
  std::string active_id() const;
  // Attempts of mutations (with ids) whose outcome was unknown (a timeout, a cut
  // connection, IO_ERROR), since construction; each is retried with the same ids while the
  // budget lasts.
  int64_t unknown_outcome_retries() const { return unknown_outcome_retries_; }

  // Typed helpers over Call.
  Status Mkdirs(const qjournal::thrift::UserInfo& ugi, const std::string& path, int16_t permission,
                bool create_parent, bool* created);
  Status AddBlock(const qjournal::thrift::UserInfo& ugi, const std::string& path,
                  int64_t previous_block_length, qjournal::thrift::Block* out);
  Status Create(const qjournal::thrift::UserInfo& ugi, const std::string& path, int16_t permission,
                bool overwrite, int16_t replication, int64_t block_size,
                qjournal::thrift::FileStatus* out);
  Status Complete(const qjournal::thrift::UserInfo& ugi, const std::string& path,
                  int64_t last_block_length, bool* done);
  Status Delete(const qjournal::thrift::UserInfo& ugi, const std::string& path, bool recursive,
                bool* deleted);
  Status Rename(const qjournal::thrift::UserInfo& ugi, const std::string& src,
                const std::string& dst, bool* renamed);
  Status SetPermission(const qjournal::thrift::UserInfo& ugi, const std::string& path,
                       int16_t permission);
  Status SetOwner(const qjournal::thrift::UserInfo& ugi, const std::string& path,
                  const std::string& owner, const std::string& group);
  Status SetTimes(const qjournal::thrift::UserInfo& ugi, const std::string& path, int64_t mtime,
                  int64_t atime);
  // Files only: *changed is false for a directory (HDFS's setReplication).
  Status SetReplication(const qjournal::thrift::UserInfo& ugi, const std::string& path,
                        int16_t replication, bool* changed);
  Status GetFileInfo(const qjournal::thrift::UserInfo& ugi, const std::string& path,
                     qjournal::thrift::FileStatus* out);
  // Every entry of a directory, following pages.
  Status ListAll(const qjournal::thrift::UserInfo& ugi, const std::string& path,
                 std::vector<qjournal::thrift::FileStatus>* out);
  Status GetContentSummary(const qjournal::thrift::UserInfo& ugi, const std::string& path,
                           qjournal::thrift::ContentSummary* out);
  // Asks the active for its last committed txid: later reads see every write answered
  // before this call, by any client.
  Status Msync();

  // The highest txid this proxy has seen (0: none yet); reads carry it as minTxId.
  int64_t last_seen_txid() const { return last_seen_txid_; }
  // Id of the namenode that answered the last read ("" if none yet).
  const std::string& last_read_from() const { return last_read_from_; }

 private:
  struct Conn;
  // Opens (or reuses) the connection to namenodes_[i]; NetworkError if connect fails.
  Status Connect(size_t i);
  void Drop(size_t i);
  // Sets namenode i's receive timeout for the next call (connected).
  void SetTimeout(size_t i, int64_t ms);
  // A read: fn(client, minTxId) returns the answer's servedTxId. On a standby first when
  // standby_reads is on and no mutation came since the last read from the active.
  Status ReadCall(const char* what, const std::function<int64_t(Client&, int64_t)>& fn);
  void SawTxId(int64_t txid) { last_seen_txid_ = std::max(last_seen_txid_, txid); }
  // Call and CallMutation: `ids` null for a call without ids.
  Status CallImpl(const char* what, bool idempotent, const qjournal::thrift::RpcIds* ids,
                  const std::function<void(Client&)>& fn);

  const FailoverProxyOptions opts_;
  std::vector<std::unique_ptr<Conn>> conns_;
  size_t current_ = 0;
  int last_fs_error_ = 0;
  std::string active_id_;
  const std::string client_id_;
  int64_t next_call_id_ = 0;
  int64_t unknown_outcome_retries_ = 0;
  int64_t last_seen_txid_ = 0;
  // A mutation was sent since the last read from the active (its txid is unknown).
  bool read_from_active_ = true;
  std::string last_read_from_;
};

// The one mapping of FsException onto Status used by clients:
// FILE_NOT_FOUND -> NotFound, FILE_ALREADY_EXISTS -> AlreadyExists, PERMISSION_DENIED ->
// PermissionDenied, NOT_ACTIVE -> NotActive, IO_ERROR -> IOError, INVALID_PATH and
// INVALID_ARGUMENT -> InvalidArgument, NOT_A_DIRECTORY / IS_A_DIRECTORY /
// DIRECTORY_NOT_EMPTY -> IllegalState. The message keeps the server's text.
Status StatusFromFsException(const qjournal::thrift::FsException& e);

}  // namespace qj::nn
