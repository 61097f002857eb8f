// JournalNode: the journals of one storage directory (one per journal id, loaded at
// start-up and created on `format`), the lock that keeps a second process out of the
// directory, the lease table, and a background thread per journal that persists the
// committed txid and catches up finalized segments from peers.
//
// Lifetime: Open() takes the lock; Shutdown() (or the destructor) stops the threads,
// persists every committed txid and releases the lock. Journals live as long as the node.
// Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "common/rpc/rpc.h"
#include "common/status.h"
#include "journalnode/journal.h"
#include "journalnode/lease_table.h"

namespace qj::jn {

struct JournalNodeOptions {
  std::string name = "jn";
  std::string edits_dir;
  std::string self_address;        // "host:port" peers use for this node
  std::vector<std::string> peers;  // other journalnodes, "host:port"
  int64_t catchup_interval_ms = 2000;
  int64_t committed_persist_interval_ms = 1000;
  int64_t peer_timeout_ms = 3000;
  // This journalnode's client side of TLS towards its peers (rpc.h).
  rpc::TlsOptions peer_tls;
  size_t cache_bytes = 32u << 20;
  int64_t slow_sync_warn_ms = 1000;      // see JournalOptions
  uint64_t max_batch_bytes = 16u << 20;  // the largest journal() batch (RPC frame bound)
  // `format` refuses to create a journal beyond this many (each costs a directory, a
  // thread and a cache): a caller cannot exhaust the node by formatting made-up ids.
  // Journals already on disk are all loaded at start-up, even above the cap.
  size_t max_journals = 64;
  LeaseOptions lease;
  FileOps* file_ops = FileOps::Posix();
  Clock* clock = RealClock::Get();
  PeerClient* peer_client = nullptr;  // null: a ThriftPeerClient is made when peers are set
};

// [A-Za-z0-9._-], 1..64 bytes, not "." or "..". InvalidArgument otherwise.
Status ValidateJournalId(const std::string& id);

class JournalNode {
 public:
  // Locks <edits_dir>/in_use.lock (flock, non-blocking) and loads every journal found.
  // IllegalState if another process holds the lock; IOError if the dir is unusable.
  static Result<std::unique_ptr<JournalNode>> Open(const JournalNodeOptions& opts);
  ~JournalNode();

  // The journal with this id. With create, an unknown id gets an (unformatted) journal,
  // or ResourceExhausted when the node already has max_journals; without, NotFormatted.
  // InvalidArgument for a bad id.
  Result<Journal*> Get(const std::string& journal_id, bool create);
  LeaseTable* leases() { return &leases_; }
  // Calls fn for every journal, in id order, under the node's lock (fn must not call
  // back into the node).
  void ForEachJournal(const std::function<void(const std::string& id, const Journal& j)>& fn);
  const std::string& name() const { return opts_.name; }

  // Stops background threads and persists committed txids. Idempotent.
  void Shutdown();

 private:
  struct Slot {
    std::unique_ptr<Journal> journal;
    std::thread background;
  };
  JournalNode(const JournalNodeOptions& opts, int lock_fd);
  Journal* AddLocked(const std::string& id) REQUIRES(mu_);
  // The per-journal thread: flush committed txid, catch up from peers.
  void BackgroundLoop(Journal* j) EXCLUDES(mu_);

  const JournalNodeOptions opts_;
  const int lock_fd_;
  std::unique_ptr<PeerClient> owned_peer_client_;
  PeerClient* peer_client_ = nullptr;
  LeaseTable leases_;

  Mutex mu_;
  // Notified by Shutdown() to wake background threads.
  CondVar stop_cv_;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::map<std::string, Slot> journals_ GUARDED_BY(mu_);
};

}  // namespace qj::jn
