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
//
// Retry safety. There is no retry cache on the namenode, so a mutation must never be
// sent twice unless the first attempt provably did not run. The proxy retries a call
// only on errors that prove that:
//   * the TCP connect failed (nothing was sent);
//   * FsException NOT_ACTIVE (the namenode checks its role before executing, and it
//     reports a failure after executing as IO_ERROR, never as NOT_ACTIVE).
// A transport error after the request was sent (timeout, connection reset) leaves the
// outcome unknown: idempotent calls (reads) are retried, mutations fail with
// NetworkError "outcome unknown" and the caller decides.
//
// Thread-safety: thread-compatible. A proxy owns one connection per namenode; give each
// thread its own proxy (they are cheap).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ClientProtocol.h"
#include "common/cluster_config.h"
#include "common/status.h"
#include "namenode_types.h"

namespace qj {

struct FailoverProxyOptions {
  std::vector<NamenodeInfo> namenodes;
  // Who is speaking, for log lines.
  std::string name = "client";
  int64_t connect_timeout_ms = 2000;
  // Per call; a mutation waits for a journal commit, so leave room for that.
  int64_t rpc_timeout_ms = 30000;
  int64_t initial_backoff_ms = 10;
  int64_t max_backoff_ms = 500;
  // Total time spent looking for an active namenode for one call.
  int64_t total_budget_ms = 15000;
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

  // FsErrorCode of the last FsException returned by Call (0 after a success or a
  // non-FsException failure).
  int last_fs_error() const { return last_fs_error_; }
  // Id of the namenode that served the last successful call ("" if none yet).
  std::string active_id() const;

  // Typed helpers over Call.
  Status Mkdirs(const qjournal::thrift::UserInfo& ugi, const std::string& path, int16_t permission,
                bool create_parent, bool* created);
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

 private:
  struct Conn;
  // Opens (or reuses) the connection to namenodes_[i]; NetworkError if connect fails.
  Status Connect(size_t i);
  void Drop(size_t i);

  const FailoverProxyOptions opts_;
  std::vector<std::unique_ptr<Conn>> conns_;
  size_t current_ = 0;
  int last_fs_error_ = 0;
  std::string active_id_;
};

// The one mapping of FsException onto Status used by clients:
// FILE_NOT_FOUND -> NotFound, FILE_ALREADY_EXISTS -> AlreadyExists, PERMISSION_DENIED ->
// PermissionDenied, NOT_ACTIVE -> NotActive, IO_ERROR -> IOError, INVALID_PATH and
// INVALID_ARGUMENT -> InvalidArgument, NOT_A_DIRECTORY / IS_A_DIRECTORY /
// DIRECTORY_NOT_EMPTY -> IllegalState. The message keeps the server's text.
Status StatusFromFsException(const qjournal::thrift::FsException& e);

}  // namespace qj
