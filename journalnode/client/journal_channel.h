// JournalChannel: the writer's (and readers') connection to one journalnode.
//
// Every call is asynchronous: it is written on one connection and its response read by
// the channel's receiver thread, in order — so journal() batches are pipelined (batch k+1
// is sent before the answer to batch k arrives; the journalnode answers in order). A call
// is written on the caller's own thread when nothing is queued or being written and less
// than kInlineSendBytes is unanswered (well under a loopback socket's buffers, so the
// write does not block on a slow journalnode); otherwise it is queued and the channel's
// sender thread writes it. The inline write saves the hand-off to the sender thread: a
// lone edit reaches three journalnodes without waking three threads. A slow or dead
// journalnode only fills its own channel: the queue is bounded in bytes and a call that
// does not fit fails at once; while the journalnode is unreachable the channel reconnects
// with exponential backoff and fails calls immediately in between, so quorum waits never
// hang on one node.
//
// Failure behaviour: a broken connection (or a timeout) fails every call in flight with
// NetworkError/TimedOut — their outcome on the journalnode is unknown — and the next call
// reconnects. Typed journalnode errors arrive as the call's Status (StaleEpoch names the
// promised epoch; OutOfSync carries expected_txid).
//
// The lease calls (acquireLease, releaseLease; DESIGN §6) travel the same way: a
// failoverd's LeaseClient (lease_client.h) keeps one channel per journalnode, so that a
// release never overtakes an earlier acquire and a hung journalnode stalls only its own
// channel.
//
// Time: the reconnect backoff is measured on ChannelOptions::clock (common/clock.h).
//
// Thread-safety: all methods are thread-safe. Callbacks run on the channel's threads (or
// on the caller's thread when a call fails at submission or in its inline write), with no
// channel lock held; they must not block for long. A caller must not hold a lock that a
// callback takes.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/cluster_config.h"
#include "common/mutex.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "journalnode/client/journal_transport.h"
#include "journalnode/client/quorum_writer.h"
#include "journalnode/protocol_types.h"

namespace qj::jn {

// The value of a call that answers nothing but success or a failure.
struct Void {};

// A call's outcome: status, the value when OK, and for OutOfSync the txid the journalnode
// expects next (-1 if it has no open segment or did not say).
template <typename T>
struct Reply {
  Status status;
  T value{};
  int64_t expected_txid = -1;
  bool ok() const { return status.ok(); }
};

template <typename T>
using ReplyCallback = std::function<void(Reply<T>)>;

struct ChannelOptions {
  std::string journal_id;
  // Who speaks in log lines ("nn1").
  std::string owner = "client";
  size_t max_queue_bytes = 64u << 20;
  int64_t min_backoff_ms = 20;
  int64_t max_backoff_ms = 1000;
  // Times the reconnect backoff. Must outlive the channel.
  const Clock* clock = RealClock::Get();
};

class JournalChannel {
 public:
  JournalChannel(int index, HostPort address, ChannelOptions opts,
                 std::unique_ptr<JournalTransport> transport);
  ~JournalChannel();
  JournalChannel(const JournalChannel&) = delete;
  JournalChannel& operator=(const JournalChannel&) = delete;

  int index() const { return index_; }
  const std::string& journal_id() const { return opts_.journal_id; }
  const HostPort& address() const { return address_; }
  // Calls queued but not yet written.
  size_t queued_calls() const EXCLUDES(mu_);
  // The most calls that were ever written but not yet answered at once (pipelining depth).
  size_t max_inflight() const EXCLUDES(mu_);
  // Calls written on the caller's thread so far (the rest went through the sender thread).
  int64_t inline_sends() const EXCLUDES(mu_);
  // Fails everything queued or in flight with Unavailable and joins the threads.
  void Stop() EXCLUDES(mu_);

  // A call is written on the caller's thread only while the requests written and not yet
  // answered add up to less than this.
  static constexpr size_t kInlineSendBytes = 64u << 10;

  void GetJournalState(ReplyCallback<JournalState> cb);
  void IsFormatted(ReplyCallback<bool> cb);
  void Format(const NamespaceInfo& ns, bool force, ReplyCallback<Void> cb);
  // Value: start txid of this journalnode's newest segment (-1 if none).
  void NewEpoch(const NamespaceInfo& ns, int64_t epoch, ReplyCallback<int64_t> cb);
  void Heartbeat(const WriterHeader& h, ReplyCallback<Void> cb);
  void StartLogSegment(const WriterHeader& h, int64_t txid, int32_t layout_version,
                       ReplyCallback<Void> cb);
  void Journal(const WriterHeader& h, int64_t segment_txid, int64_t first_txid, int32_t num_txns,
               std::shared_ptr<const std::string> records, ReplyCallback<Void> cb);
  void FinalizeLogSegment(const WriterHeader& h, int64_t start_txid, int64_t end_txid,
                          ReplyCallback<Void> cb);
  void PurgeLogs(const WriterHeader& h, int64_t min_txid_to_keep, ReplyCallback<Void> cb);
  void PrepareRecovery(const WriterHeader& h, int64_t segment_txid,
                       ReplyCallback<PrepareResult> cb);
  // origin_epoch: the chosen copy's origin (PrepareResult::origin_epoch, 0 = unknown).
  // timeout_ms: how long to wait for the answer (the journalnode may copy the segment
  // first); 0 = the per-call timeout.
  void AcceptRecovery(const WriterHeader& h, const SegmentState& state,
                      const std::string& from_peer, int64_t origin_epoch, int64_t timeout_ms,
                      ReplyCallback<Void> cb);
  void GetJournaledEdits(int64_t since_txid, int32_t max_txns, ReplyCallback<JournaledEdits> cb);
  // Asks for (or renews) holder_id's lease on this channel's journal for duration_ms.
  void AcquireLease(const std::string& holder_id, int64_t duration_ms,
                    ReplyCallback<LeaseAnswer> cb);
  // Drops holder_id's lease, if it holds one.
  void ReleaseLease(const std::string& holder_id, ReplyCallback<Void> cb);

 private:
  void Submit(std::unique_ptr<ChannelCall> call) EXCLUDES(mu_);
  void SenderLoop() EXCLUDES(mu_);
  void ReceiverLoop() EXCLUDES(mu_);
  // Marks the connection broken and unblocks the other thread.
  void BreakLocked(const Status& why) REQUIRES(mu_);
  // Fails every queued call with `why`; drops mu_ meanwhile.
  void FailQueuedLocked(const Status& why) REQUIRES(mu_);
  // Writes `call` (sending_ set by the caller, mu_ dropped meanwhile), then puts it in
  // flight, or breaks the connection and fails it. Clears sending_.
  void SendLocked(std::unique_ptr<ChannelCall> call) REQUIRES(mu_);

  const int index_;
  const HostPort address_;
  const ChannelOptions opts_;
  const std::string who_;  // "nn1 -> 127.0.0.1:8485"
  std::unique_ptr<JournalTransport> transport_;
  const bool send_inline_;

  mutable Mutex mu_;
  // Notified by Submit (new call), the receiver (in-flight drained on a broken
  // connection), the end of a write with calls queued behind it, Stop.
  CondVar sender_cv_;
  // Notified by the sender (call in flight), Stop.
  CondVar receiver_cv_;
  std::deque<std::unique_ptr<ChannelCall>> queue_ GUARDED_BY(mu_);
  size_t queued_bytes_ GUARDED_BY(mu_) = 0;
  std::deque<std::unique_ptr<ChannelCall>> inflight_ GUARDED_BY(mu_);
  size_t inflight_bytes_ GUARDED_BY(mu_) = 0;
  size_t max_inflight_ GUARDED_BY(mu_) = 0;
  // A thread (the sender, or a caller writing inline) is writing a request: requests are
  // written one at a time, in serial order.
  bool sending_ GUARDED_BY(mu_) = false;
  int64_t inline_sends_ GUARDED_BY(mu_) = 0;
  bool connected_ GUARDED_BY(mu_) = false;
  bool broken_ GUARDED_BY(mu_) = false;
  bool stopping_ GUARDED_BY(mu_) = false;
  int64_t retry_at_ns_ GUARDED_BY(mu_) = 0;
  int64_t backoff_ms_ GUARDED_BY(mu_) = 0;
  int64_t next_serial_ GUARDED_BY(mu_) = 1;
  std::thread sender_;
  std::thread receiver_;
};

// One channel per journalnode of opts (transport from opts.transport_factory, else Thrift
// with opts.rpc_timeout_ms), logging as opts.name.
std::vector<std::unique_ptr<JournalChannel>> MakeChannels(const QuorumOptions& opts);
std::vector<JournalChannel*> ChannelPointers(
    const std::vector<std::unique_ptr<JournalChannel>>& channels);

}  // namespace qj::jn
