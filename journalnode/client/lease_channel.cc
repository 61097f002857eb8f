// The lease client's transport for real: LeaseGrantor over a JournalChannel, and
// NewLeaseClient (lease_client.h). Apart from lease_client.cc so that the lease
// simulator (tests/sim) can link the client's decisions without the channels.
#include <atomic>
#include <utility>

#include "journalnode/client/journal_channel.h"
#include "journalnode/client/journal_transport.h"
#include "journalnode/client/lease_client.h"

namespace qj::jn {

namespace {

class ChannelGrantor final : public LeaseGrantor {
 public:
  explicit ChannelGrantor(std::unique_ptr<JournalChannel> channel)
      : channel_(std::move(channel)), name_(channel_->address().ToString()) {}
  // Stopping the channel runs the callbacks of unanswered calls, which touch
  // acquire_pending_: before any member goes.
  ~ChannelGrantor() override { channel_->Stop(); }

  std::string name() const override { return name_; }

  void AcquireAsync(const std::string& journal_id, const std::string& holder_id,
                    int64_t duration_ms, std::function<void(GrantReply)> done) override {
    if (journal_id != channel_->journal_id()) {
      done(GrantReply(WrongJournal(journal_id)));
      return;
    }
    if (acquire_pending_.exchange(true)) {
      done(GrantReply(Status::NetworkError(name_ + ": busy with an earlier call")));
      return;
    }
    channel_->AcquireLease(holder_id, duration_ms,
                           [this, done = std::move(done)](Reply<LeaseAnswer> r) {
                             acquire_pending_.store(false);
                             done(GrantReply(std::move(r.status), std::move(r.value)));
                           });
  }

  void ReleaseAsync(const std::string& journal_id, const std::string& holder_id,
                    std::function<void(Status)> done) override {
    if (journal_id != channel_->journal_id()) {
      done(WrongJournal(journal_id));
      return;
    }
    channel_->ReleaseLease(holder_id,
                           [done = std::move(done)](Reply<Void> r) { done(std::move(r.status)); });
  }

 private:
  Status WrongJournal(const std::string& journal_id) const {
    return Status::InvalidArgument(name_ + ": lease call for journal '" + journal_id +
                                   "' on the channel of journal '" + channel_->journal_id() + "'");
  }

  const std::unique_ptr<JournalChannel> channel_;
  const std::string name_;
  // An acquire is queued or in flight.
  std::atomic<bool> acquire_pending_{false};
};

}  // namespace

std::unique_ptr<LeaseGrantor> NewChannelGrantor(std::unique_ptr<JournalChannel> channel) {
  return std::make_unique<ChannelGrantor>(std::move(channel));
}

std::unique_ptr<LeaseClient> NewLeaseClient(const LeaseClientOptions& opts,
                                            const std::vector<HostPort>& journalnodes,
                                            int64_t rpc_timeout_ms, const Clock* clock) {
  ChannelOptions copts;
  copts.journal_id = opts.journal_id;
  copts.owner = opts.holder_id;
  copts.clock = clock;
  TransportOptions topts;
  topts.connect_timeout_ms = rpc_timeout_ms;
  topts.send_timeout_ms = rpc_timeout_ms;
  topts.recv_timeout_ms = rpc_timeout_ms;
  std::vector<std::unique_ptr<LeaseGrantor>> grantors;
  for (size_t i = 0; i < journalnodes.size(); ++i) {
    grantors.push_back(NewChannelGrantor(std::make_unique<JournalChannel>(
        static_cast<int>(i), journalnodes[i], copts, NewThriftTransport(journalnodes[i], topts))));
  }
  return std::make_unique<LeaseClient>(opts, std::move(grantors), clock);
}

}  // namespace qj::jn
