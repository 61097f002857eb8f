// The holder side of the quorum lease (DESIGN §6).
//
// A failoverd asks every journalnode for the lease of its journal. A journalnode grants
// when it has no unexpired holder or the asker already holds it, and expires the grant
// `duration` after it *received* the request, on its own lease clock (Clock: monotonic,
// counts suspended time; CLOCK_BOOTTIME for real). The asker:
//
//   t0       = its monotonic time before sending the round
//   held     = a majority of the journalnodes granted in that round
//   deadline = t0 + duration x (1 - drift) - margin        (on the asker's clock)
//
// Why two holders can't overlap: any two majorities share a journalnode J. J granted the
// first holder at receive time r >= t0 (real time), so J refuses everybody else until
// r + duration on J's clock. If clock rates differ by less than `drift`, duration on J's
// clock lasts at least duration x (1 - drift) on the holder's clock, so the holder's
// deadline passes before J's grant expires; `margin` absorbs scheduling delay between the
// holder checking its deadline and acting on it. Wall-clock offsets never enter.
//
// Layers:
//   LeaseDeadlineNanos()  pure deadline math;
//   LeaseRound            pure majority counting of one round's replies;
//   LeaseClientCore       the client's decisions without threads, clock reads or I/O:
//                         rounds, the deadline, which grants to hand back (the simulator
//                         in tests/sim drives it directly);
//   LeaseGrantor          the transport to one journalnode, asynchronous so a hung
//                         journalnode can't stall a round: a JournalChannel's lease calls
//                         (journal_channel.h) for real, fakes in tests;
//   LeaseClient           the threaded driver of LeaseClientCore over LeaseGrantors;
//   NewLeaseClient()      a LeaseClient over one JournalChannel per journalnode.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/cluster_config.h"
#include "common/mutex.h"
#include "common/sim_plant.h"  // planted bugs of tests/sim; nothing in production
#include "common/status.h"
#include "common/thread_annotations.h"
#include "journalnode/protocol_types.h"

namespace qj::jn {

class JournalChannel;

struct LeaseClientOptions {
  std::string journal_id;
  // Unique per contender, e.g. "nn1@failoverd".
  std::string holder_id;
  // Lease length requested from each journalnode.
  int64_t duration_ms = 3000;
  // Bound on the relative difference of clock rates between any two hosts.
  double drift = 0.05;
  // Safety margin subtracted from the holder's deadline.
  int64_t margin_ms = 200;
  // A round gives up on journalnodes that have not answered after this long.
  int64_t round_timeout_ms = 500;
};

// The holder's deadline for a round started at t0_nanos (its monotonic clock).
int64_t LeaseDeadlineNanos(int64_t t0_nanos, const LeaseClientOptions& opts);

// One journalnode's answer to an acquire (or renew) call: its LeaseAnswer
// (journalnode/protocol_types.h), or, with `status` not OK, why there is none (unreachable,
// or the call was rejected; the answer's fields then keep their defaults).
struct GrantReply : LeaseAnswer {
  GrantReply() = default;
  explicit GrantReply(Status s, LeaseAnswer answer = {})
      : LeaseAnswer(std::move(answer)), status(std::move(s)) {}
  Status status;
};

// Majority counting for one round over `num_grantors` journalnodes. Pure, not
// thread-safe (LeaseClient guards it).
class LeaseRound {
 public:
  enum class Outcome { kPending, kGranted, kDenied };
  explicit LeaseRound(int num_grantors) : n_(num_grantors) {}
  // Records grantor `index`'s reply; a second reply from the same index is ignored.
  void Add(int index, const GrantReply& reply);
  // kGranted once a majority granted; kDenied once a majority can no longer be reached.
  Outcome outcome() const;
  int granted() const { return granted_; }
  int failed() const { return failed_; }
  int majority() const { return n_ / 2 + 1; }
  // Grantor indexes that granted in this round.
  const std::vector<int>& granted_by() const { return granted_by_; }
  // A holder other than the asker named by any denial, or "" (for status pages).
  const std::string& other_holder() const { return other_holder_; }

 private:
  int n_;
  int granted_ = 0;
  int failed_ = 0;
  std::vector<int> seen_;
  std::vector<int> granted_by_;
  std::string other_holder_;
};

// The lease client's state without threads, clock reads or I/O. The caller reads its
// clock, sends the calls and delivers the replies; the core decides. One round at a time:
//
//   round = StartRound(t0)       t0 read before any acquire of the round is sent;
//   OnReply(round, i, reply)     true once the round is decided (majority either way);
//   FinishRound(now)             decided, or given up (missing replies = not granted):
//                                the new deadline, or the grants to hand back.
//
// A failed round hands back the grants it did obtain unless an earlier lease is still in
// force at `now` (those grants back it), so that two contenders can't each sit on a
// minority until expiry. Not thread-safe.
class LeaseClientCore {
 public:
  LeaseClientCore(LeaseClientOptions opts, int num_grantors);

  struct RoundEnd {
    LeaseRound::Outcome outcome = LeaseRound::Outcome::kPending;  // kPending = timed out
    int64_t deadline_nanos = 0;  // the deadline now in force (0 = none)
    std::vector<int> release;    // grantors to send a release to
    std::string other_holder;    // a holder named by a denial, or ""
    int granted = 0;
  };

  // Opens a round (abandoning any open one) and returns its number.
  uint64_t StartRound(int64_t t0_nanos);
  // Grantor `index`'s reply to round `round`; replies to other rounds are ignored.
  // Returns true when the open round has an outcome.
  bool OnReply(uint64_t round, int index, const GrantReply& reply);
  // Closes the open round. REQUIRES: a round is open.
  RoundEnd FinishRound(int64_t now_nanos);
  // Forgets the lease; returns every grantor (all are sent a release).
  std::vector<int> Release();

  bool round_open() const { return open_; }
  bool IsHeld(int64_t now_nanos) const { return now_nanos < deadline_nanos_; }
  int64_t deadline_nanos() const { return deadline_nanos_; }
  int64_t RemainingMs(int64_t now_nanos) const;
  const std::string& last_other_holder() const { return last_other_holder_; }
  const LeaseClientOptions& options() const { return opts_; }
  int num_grantors() const { return n_; }

 private:
  const LeaseClientOptions opts_;
  const int n_;
  uint64_t round_id_ = 0;
  bool open_ = false;
  int64_t t0_ = 0;
  LeaseRound round_;
  int64_t deadline_nanos_ = 0;
  std::string last_other_holder_;
};

// The transport to one journalnode. Implementations call `done` exactly once, from any
// thread, possibly before returning. Calls to one grantor must reach the journalnode in
// the order they were made (a release must not overtake an earlier acquire).
// Thread-safe.
class LeaseGrantor {
 public:
  virtual ~LeaseGrantor() = default;
  virtual std::string name() const = 0;
  virtual void AcquireAsync(const std::string& journal_id, const std::string& holder_id,
                            int64_t duration_ms, std::function<void(GrantReply)> done) = 0;
  virtual void ReleaseAsync(const std::string& journal_id, const std::string& holder_id,
                            std::function<void(Status)> done) = 0;
};

// A LeaseGrantor over a JournalChannel (its acquireLease/releaseLease calls, in order on
// the channel's connection). While an acquire is queued or in flight, a new acquire fails
// at once ("busy") instead of piling up behind a hung journalnode. Calls for a journal
// other than the channel's fail with InvalidArgument. The destructor stops the channel:
// calls not answered yet fail with Unavailable.
std::unique_ptr<LeaseGrantor> NewChannelGrantor(std::unique_ptr<JournalChannel> channel);

// Acquires, renews and releases the lease over a set of grantors: reads the clock, sends,
// waits, and leaves every decision to a LeaseClientCore. Every time it reads (t0, the
// round timeout, IsHeld) comes from `clock`. Thread-safe; rounds are serialized (one at
// a time).
class LeaseClient {
 public:
  // `clock` must outlive this object.
  LeaseClient(LeaseClientOptions opts, std::vector<std::unique_ptr<LeaseGrantor>> grantors,
              const Clock* clock);
  ~LeaseClient();
  LeaseClient(const LeaseClient&) = delete;
  LeaseClient& operator=(const LeaseClient&) = delete;

  // One acquire-or-renew round (the journalnode call is the same). Returns the new
  // deadline (Clock ns: CLOCK_BOOTTIME) when a majority granted. Otherwise returns
  // Unavailable (refused: names the holder when known) or TimedOut, and the previous
  // deadline, if any, stays in force. When the round fails and no lease is held, grants
  // this round did obtain are released so that two contenders can't each sit on a
  // minority until expiry.
  Result<int64_t> AcquireOrRenew() EXCLUDES(round_mu_, mu_);

  // Forgets the lease and asks every journalnode to drop it; waits up to the round
  // timeout for the replies (best effort: unanswered grants simply expire).
  // Call only after the namenode stopped acting on the lease.
  void Release() EXCLUDES(round_mu_, mu_);

  bool IsHeld() const EXCLUDES(mu_);
  // Clock ns (CLOCK_BOOTTIME), or 0 when never held / released.
  int64_t deadline_nanos() const EXCLUDES(mu_);
  // Milliseconds until the deadline, 0 when not held.
  int64_t RemainingMs() const EXCLUDES(mu_);
  // The other holder named in the last refused round ("" if none).
  std::string last_other_holder() const EXCLUDES(mu_);
  const LeaseClientOptions& options() const { return opts_; }

 private:
  void ReleaseGrantors(const std::vector<int>& indexes, bool wait) EXCLUDES(mu_);

  const LeaseClientOptions opts_;
  const std::vector<std::unique_ptr<LeaseGrantor>> grantors_;
  const Clock* const clock_;
  Mutex round_mu_;  // serializes rounds
  mutable Mutex mu_ ACQUIRED_AFTER(round_mu_);
  LeaseClientCore core_ GUARDED_BY(mu_);
};

// A LeaseClient for opts.journal_id over one JournalChannel (Thrift, this process's TLS)
// per journalnode, each call bounded by rpc_timeout_ms; the channels' reconnect backoff
// also runs on `clock`, which must outlive the client.
std::unique_ptr<LeaseClient> NewLeaseClient(const LeaseClientOptions& opts,
                                            const std::vector<HostPort>& journalnodes,
                                            int64_t rpc_timeout_ms, const Clock* clock);

}  // namespace qj::jn
