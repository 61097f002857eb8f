#include "journalnode/client/journal_channel.h"

#include <glog/logging.h>
#include <pthread.h>
#include <thrift/TApplicationException.h>

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "JournalProtocol.h"
#include "common/rpc/idl_errors.h"
#include "journal_types.h"
#include "journalnode/journal_wire.h"

namespace qj::jn {

namespace {

namespace th = qjournal::thrift;
using Client = th::JournalProtocolClient;

// The one place where typed Thrift failures become a Status (the other direction is the
// journalnode's handler).
template <typename T>
class TypedCall final : public ChannelCall {
 public:
  TypedCall(const char* name, size_t bytes, std::string peer,
            std::function<void(Client*, int64_t serial)> send, std::function<T(Client*)> recv,
            ReplyCallback<T> cb, int64_t recv_timeout_ms = 0)
      : name_(name),
        bytes_(bytes),
        peer_(std::move(peer)),
        send_(std::move(send)),
        recv_(std::move(recv)),
        cb_(std::move(cb)),
        recv_timeout_ms_(recv_timeout_ms) {}

  const char* name() const override { return name_; }
  int64_t recv_timeout_ms() const override { return recv_timeout_ms_; }
  size_t bytes() const override { return bytes_; }
  void Send(Client* c) override { send_(c, serial_); }
  void Recv(Client* c) override {
    const std::string where = peer_ + " " + name_;
    try {
      reply_.value = recv_(c);
      reply_.status = Status::OK();
    } catch (const apache::thrift::TApplicationException& e) {
      // The whole answer was read: the connection is still good.
      reply_.status = Status::IOError(where + ": application error: " + e.what());
    } catch (const apache::thrift::TException& e) {
      // A typed answer (journal.thrift's exceptions) leaves the connection good too;
      // transport and protocol failures go to the channel, which drops it.
      std::optional<Status> typed = rpc::JournalStatusFrom(e, where, &reply_.expected_txid);
      if (!typed) throw;
      reply_.status = std::move(*typed);
    }
  }
  void Fail(const Status& s) override { reply_.status = s; }
  void Finish() override {
    if (cb_) cb_(std::move(reply_));
  }

 private:
  const char* name_;
  const size_t bytes_;
  const std::string peer_;
  std::function<void(Client*, int64_t)> send_;
  std::function<T(Client*)> recv_;
  ReplyCallback<T> cb_;
  const int64_t recv_timeout_ms_;
  Reply<T> reply_;
};

}  // namespace

JournalChannel::JournalChannel(int index, HostPort address, ChannelOptions opts,
                               std::unique_ptr<JournalTransport> transport)
    : index_(index),
      address_(std::move(address)),
      opts_(std::move(opts)),
      who_(opts_.owner + " -> jn" + std::to_string(index) + " " + address_.ToString()),
      transport_(std::move(transport)),
      send_inline_(transport_->SendsInline()) {
  sender_ = std::thread([this] { SenderLoop(); });
  receiver_ = std::thread([this] { ReceiverLoop(); });
}

JournalChannel::~JournalChannel() { Stop(); }

size_t JournalChannel::queued_calls() const {
  MutexLock l(&mu_);
  return queue_.size();
}

size_t JournalChannel::max_inflight() const {
  MutexLock l(&mu_);
  return max_inflight_;
}

int64_t JournalChannel::inline_sends() const {
  MutexLock l(&mu_);
  return inline_sends_;
}

void JournalChannel::Stop() {
  {
    MutexLock l(&mu_);
    if (stopping_ && !sender_.joinable()) return;
    stopping_ = true;
    transport_->Shutdown();
  }
  sender_cv_.SignalAll();
  receiver_cv_.SignalAll();
  if (sender_.joinable()) sender_.join();
  if (receiver_.joinable()) receiver_.join();
  std::deque<std::unique_ptr<ChannelCall>> left;
  {
    MutexLock l(&mu_);
    // A caller may still be writing inline (the shut-down socket makes it fail at once):
    // the transport is closed only after it is done.
    while (sending_) sender_cv_.Wait(&mu_);
    for (auto& c : inflight_) left.push_back(std::move(c));
    for (auto& c : queue_) left.push_back(std::move(c));
    inflight_.clear();
    inflight_bytes_ = 0;
    queue_.clear();
    queued_bytes_ = 0;
  }
  transport_->Close();
  for (auto& c : left) {
    c->Fail(Status::Unavailable(who_ + ": channel stopped"));
    c->Finish();
  }
}

void JournalChannel::Submit(std::unique_ptr<ChannelCall> call) {
  Status fail;
  {
    MutexLock l(&mu_);
    const int64_t now = opts_.clock->MonotonicNanos();
    if (stopping_) {
      fail = Status::Unavailable(who_ + ": channel stopped");
    } else if (!connected_ && now < retry_at_ns_) {
      fail = Status::NetworkError(who_ + ": unreachable, reconnecting in " +
                                  std::to_string((retry_at_ns_ - now) / kNanosPerMilli) + " ms");
    } else if (send_inline_ && connected_ && !broken_ && !sending_ && queue_.empty() &&
               inflight_bytes_ + call->bytes() <= kInlineSendBytes) {
      // Nothing ahead of it and room in the socket: write it from here.
      sending_ = true;
      ++inline_sends_;
      SendLocked(std::move(call));
      return;
    } else if (!queue_.empty() && queued_bytes_ + call->bytes() > opts_.max_queue_bytes) {
      fail = Status::Unavailable(who_ + ": send queue full (" + std::to_string(queued_bytes_) +
                                 " bytes)");
    } else {
      queued_bytes_ += call->bytes();
      queue_.push_back(std::move(call));
    }
  }
  if (!fail.ok()) {
    call->Fail(fail);
    call->Finish();
    return;
  }
  sender_cv_.Signal();
}

void JournalChannel::SendLocked(std::unique_ptr<ChannelCall> call) {
  call->set_serial(next_serial_++);
  mu_.Unlock();
  Status s = transport_->Send(call.get());
  mu_.Lock();
  sending_ = false;
  // The sender thread waits for this write to end when calls are queued behind it (or the
  // connection broke meanwhile), and so does Stop(); an idle sender is not woken.
  if (!queue_.empty() || broken_ || stopping_) sender_cv_.SignalAll();
  if (s.ok() && !broken_ && !stopping_) {
    inflight_bytes_ += call->bytes();
    inflight_.push_back(std::move(call));
    max_inflight_ = std::max(max_inflight_, inflight_.size());
    receiver_cv_.Signal();
    return;
  }
  if (s.ok()) s = Status::NetworkError(who_ + ": connection lost while sending");
  BreakLocked(s);
  mu_.Unlock();
  call->Fail(s);
  call->Finish();
  mu_.Lock();
}

void JournalChannel::BreakLocked(const Status& why) {
  if (broken_) return;
  broken_ = true;
  VLOG(1) << who_ << ": connection lost: " << why;
  transport_->Shutdown();
  receiver_cv_.SignalAll();
  sender_cv_.SignalAll();
}

void JournalChannel::FailQueuedLocked(const Status& why) {
  std::deque<std::unique_ptr<ChannelCall>> failed;
  failed.swap(queue_);
  queued_bytes_ = 0;
  mu_.Unlock();
  for (auto& c : failed) {
    c->Fail(why);
    c->Finish();
  }
  mu_.Lock();
}

void JournalChannel::SenderLoop() {
  pthread_setname_np(pthread_self(), ("qj-jn" + std::to_string(index_) + "-send").c_str());
  mu_.Lock();
  while (true) {
    // The connection is reset only when no write is under way (and, once broken, when the
    // receiver has failed everything in flight); a queued call waits for an inline write.
    while (!stopping_ && (sending_ || (broken_ ? !inflight_.empty() : queue_.empty()))) {
      sender_cv_.Wait(&mu_);
    }
    if (stopping_) break;
    if (broken_) {
      // The receiver has failed everything in flight; start over on a new connection.
      mu_.Unlock();
      transport_->Close();
      mu_.Lock();
      broken_ = false;
      connected_ = false;
      continue;
    }
    if (!connected_) {
      if (opts_.clock->MonotonicNanos() < retry_at_ns_) {
        FailQueuedLocked(Status::NetworkError(who_ + ": unreachable, waiting to reconnect"));
        continue;
      }
      mu_.Unlock();
      Status s = transport_->Connect();
      mu_.Lock();
      if (!s.ok()) {
        if (backoff_ms_ == 0) LOG(WARNING) << who_ << ": cannot connect: " << s;
        backoff_ms_ = backoff_ms_ == 0 ? opts_.min_backoff_ms
                                       : std::min(backoff_ms_ * 2, opts_.max_backoff_ms);
        retry_at_ns_ = opts_.clock->MonotonicNanos() + backoff_ms_ * kNanosPerMilli;
        FailQueuedLocked(s);
        continue;
      }
      if (backoff_ms_ != 0) LOG(INFO) << who_ << ": connected";
      VLOG(1) << who_ << ": connected";
      connected_ = true;
      backoff_ms_ = 0;
      continue;
    }
    std::unique_ptr<ChannelCall> call = std::move(queue_.front());
    queue_.pop_front();
    queued_bytes_ -= call->bytes();
    sending_ = true;
    SendLocked(std::move(call));
  }
  mu_.Unlock();
}

void JournalChannel::ReceiverLoop() {
  pthread_setname_np(pthread_self(), ("qj-jn" + std::to_string(index_) + "-recv").c_str());
  mu_.Lock();
  while (true) {
    while (!stopping_ && inflight_.empty()) receiver_cv_.Wait(&mu_);
    if (stopping_) break;
    ChannelCall* call = inflight_.front().get();
    const bool was_broken = broken_;
    mu_.Unlock();
    Status s =
        was_broken ? Status::NetworkError(who_ + ": connection lost") : transport_->Recv(call);
    mu_.Lock();
    if (stopping_) break;  // Stop() fails what is left
    std::vector<std::unique_ptr<ChannelCall>> done;
    done.push_back(std::move(inflight_.front()));
    inflight_.pop_front();
    inflight_bytes_ -= done.back()->bytes();
    if (!s.ok()) {
      BreakLocked(s);
      done.back()->Fail(s);
      for (auto& c : inflight_) {
        c->Fail(s);
        done.push_back(std::move(c));
      }
      inflight_.clear();
      inflight_bytes_ = 0;
    }
    // A broken connection is reset once nothing is in flight (the sender waits for that);
    // an intact one needs no wake-up for it.
    if (inflight_.empty() && broken_) sender_cv_.SignalAll();
    mu_.Unlock();
    for (auto& c : done) c->Finish();
    mu_.Lock();
  }
  mu_.Unlock();
}

// --- Calls. Each lambda pair writes one request and reads its answer. ---

#define QJ_HEADER(h)         \
  const th::RequestInfo ri = \
      ToThrift(RequestHeader{journal_id, (h).epoch, serial, (h).committed_txid})

void JournalChannel::GetJournalState(ReplyCallback<JournalState> cb) {
  const std::string journal_id = opts_.journal_id;
  Submit(std::make_unique<TypedCall<JournalState>>(
      "getJournalState", 64, address_.ToString(),
      [journal_id](Client* c, int64_t) { c->send_getJournalState(journal_id); },
      [](Client* c) {
        th::JournalState s;
        c->recv_getJournalState(s);
        return FromThrift(s);
      },
      std::move(cb)));
}

void JournalChannel::IsFormatted(ReplyCallback<bool> cb) {
  const std::string journal_id = opts_.journal_id;
  Submit(std::make_unique<TypedCall<bool>>(
      "isFormatted", 64, address_.ToString(),
      [journal_id](Client* c, int64_t) { c->send_isFormatted(journal_id); },
      [](Client* c) { return c->recv_isFormatted(); }, std::move(cb)));
}

void JournalChannel::Format(const NamespaceInfo& ns, bool force, ReplyCallback<Void> cb) {
  const std::string journal_id = opts_.journal_id;
  th::NamespaceInfo tns = ToThrift(ns);
  Submit(std::make_unique<TypedCall<Void>>(
      "format", 128, address_.ToString(),
      [journal_id, tns, force](Client* c, int64_t) { c->send_format(journal_id, tns, force); },
      [](Client* c) {
        c->recv_format();
        return Void{};
      },
      std::move(cb)));
}

void JournalChannel::NewEpoch(const NamespaceInfo& ns, int64_t epoch, ReplyCallback<int64_t> cb) {
  const std::string journal_id = opts_.journal_id;
  th::NamespaceInfo tns = ToThrift(ns);
  Submit(std::make_unique<TypedCall<int64_t>>(
      "newEpoch", 128, address_.ToString(),
      [journal_id, tns, epoch](Client* c, int64_t) { c->send_newEpoch(journal_id, tns, epoch); },
      [](Client* c) {
        th::NewEpochResponse r;
        c->recv_newEpoch(r);
        return r.lastSegmentTxId;
      },
      std::move(cb)));
}

void JournalChannel::Heartbeat(const WriterHeader& h, ReplyCallback<Void> cb) {
  const std::string journal_id = opts_.journal_id;
  Submit(std::make_unique<TypedCall<Void>>(
      "heartbeat", 64, address_.ToString(),
      [journal_id, h](Client* c, int64_t serial) {
        QJ_HEADER(h);
        c->send_heartbeat(ri);
      },
      [](Client* c) {
        c->recv_heartbeat();
        return Void{};
      },
      std::move(cb)));
}

void JournalChannel::StartLogSegment(const WriterHeader& h, int64_t txid, int32_t layout_version,
                                     ReplyCallback<Void> cb) {
  const std::string journal_id = opts_.journal_id;
  Submit(std::make_unique<TypedCall<Void>>(
      "startLogSegment", 64, address_.ToString(),
      [journal_id, h, txid, layout_version](Client* c, int64_t serial) {
        QJ_HEADER(h);
        c->send_startLogSegment(ri, txid, layout_version);
      },
      [](Client* c) {
        c->recv_startLogSegment();
        return Void{};
      },
      std::move(cb)));
}

void JournalChannel::Journal(const WriterHeader& h, int64_t segment_txid, int64_t first_txid,
                             int32_t num_txns, std::shared_ptr<const std::string> records,
                             ReplyCallback<Void> cb) {
  const std::string journal_id = opts_.journal_id;
  const size_t bytes = records->size() + 64;
  Submit(std::make_unique<TypedCall<Void>>(
      "journal", bytes, address_.ToString(),
      [journal_id, h, segment_txid, first_txid, num_txns, records](Client* c, int64_t serial) {
        QJ_HEADER(h);
        c->send_journal(ri, segment_txid, first_txid, num_txns, *records);
      },
      [](Client* c) {
        c->recv_journal();
        return Void{};
      },
      std::move(cb)));
}

void JournalChannel::FinalizeLogSegment(const WriterHeader& h, int64_t start_txid, int64_t end_txid,
                                        ReplyCallback<Void> cb) {
  const std::string journal_id = opts_.journal_id;
  Submit(std::make_unique<TypedCall<Void>>(
      "finalizeLogSegment", 64, address_.ToString(),
      [journal_id, h, start_txid, end_txid](Client* c, int64_t serial) {
        QJ_HEADER(h);
        c->send_finalizeLogSegment(ri, start_txid, end_txid);
      },
      [](Client* c) {
        c->recv_finalizeLogSegment();
        return Void{};
      },
      std::move(cb)));
}

void JournalChannel::PurgeLogs(const WriterHeader& h, int64_t min_txid_to_keep,
                               ReplyCallback<Void> cb) {
  const std::string journal_id = opts_.journal_id;
  Submit(std::make_unique<TypedCall<Void>>(
      "purgeLogs", 64, address_.ToString(),
      [journal_id, h, min_txid_to_keep](Client* c, int64_t serial) {
        QJ_HEADER(h);
        c->send_purgeLogs(ri, min_txid_to_keep);
      },
      [](Client* c) {
        c->recv_purgeLogs();
        return Void{};
      },
      std::move(cb)));
}

void JournalChannel::PrepareRecovery(const WriterHeader& h, int64_t segment_txid,
                                     ReplyCallback<PrepareResult> cb) {
  const std::string journal_id = opts_.journal_id;
  Submit(std::make_unique<TypedCall<PrepareResult>>(
      "prepareRecovery", 64, address_.ToString(),
      [journal_id, h, segment_txid](Client* c, int64_t serial) {
        QJ_HEADER(h);
        c->send_prepareRecovery(ri, segment_txid);
      },
      [](Client* c) {
        th::PrepareRecoveryResponse r;
        c->recv_prepareRecovery(r);
        return FromThrift(r);
      },
      std::move(cb)));
}

void JournalChannel::AcceptRecovery(const WriterHeader& h, const SegmentState& state,
                                    const std::string& from_peer, int64_t origin_epoch,
                                    int64_t timeout_ms, ReplyCallback<Void> cb) {
  const std::string journal_id = opts_.journal_id;
  th::SegmentInfo seg = ToThrift(state);
  Submit(std::make_unique<TypedCall<Void>>(
      "acceptRecovery", 128, address_.ToString(),
      [journal_id, h, seg, from_peer, origin_epoch](Client* c, int64_t serial) {
        QJ_HEADER(h);
        c->send_acceptRecovery(ri, seg, from_peer, origin_epoch);
      },
      [](Client* c) {
        c->recv_acceptRecovery();
        return Void{};
      },
      std::move(cb), timeout_ms));
}

void JournalChannel::GetJournaledEdits(int64_t since_txid, int32_t max_txns,
                                       ReplyCallback<JournaledEdits> cb) {
  const std::string journal_id = opts_.journal_id;
  Submit(std::make_unique<TypedCall<JournaledEdits>>(
      "getJournaledEdits", 64, address_.ToString(),
      [journal_id, since_txid, max_txns](Client* c, int64_t) {
        c->send_getJournaledEdits(journal_id, since_txid, max_txns);
      },
      [](Client* c) {
        th::JournaledEdits r;
        c->recv_getJournaledEdits(r);
        return FromThrift(std::move(r));
      },
      std::move(cb)));
}

void JournalChannel::AcquireLease(const std::string& holder_id, int64_t duration_ms,
                                  ReplyCallback<LeaseAnswer> cb) {
  const std::string journal_id = opts_.journal_id;
  Submit(std::make_unique<TypedCall<LeaseAnswer>>(
      "acquireLease", 64 + holder_id.size(), address_.ToString(),
      [journal_id, holder_id, duration_ms](Client* c, int64_t) {
        c->send_acquireLease(journal_id, holder_id, duration_ms);
      },
      [](Client* c) {
        th::LeaseResponse r;
        c->recv_acquireLease(r);
        return FromThrift(r);
      },
      std::move(cb)));
}

void JournalChannel::ReleaseLease(const std::string& holder_id, ReplyCallback<Void> cb) {
  const std::string journal_id = opts_.journal_id;
  Submit(std::make_unique<TypedCall<Void>>(
      "releaseLease", 64 + holder_id.size(), address_.ToString(),
      [journal_id, holder_id](Client* c, int64_t) { c->send_releaseLease(journal_id, holder_id); },
      [](Client* c) {
        c->recv_releaseLease();
        return Void{};
      },
      std::move(cb)));
}

#undef QJ_HEADER

std::vector<std::unique_ptr<JournalChannel>> MakeChannels(const QuorumOptions& opts) {
  std::vector<std::unique_ptr<JournalChannel>> out;
  ChannelOptions copts;
  copts.journal_id = opts.journal_id;
  copts.owner = opts.name;
  copts.max_queue_bytes = opts.max_queue_bytes;
  copts.clock = opts.clock;
  TransportOptions topts;
  topts.connect_timeout_ms = opts.rpc_timeout_ms;
  topts.send_timeout_ms = opts.rpc_timeout_ms;
  topts.recv_timeout_ms = opts.rpc_timeout_ms;
  topts.tls = opts.tls;
  for (size_t i = 0; i < opts.journalnodes.size(); ++i) {
    const HostPort& hp = opts.journalnodes[i];
    std::unique_ptr<JournalTransport> t = opts.transport_factory
                                              ? opts.transport_factory(static_cast<int>(i), hp)
                                              : NewThriftTransport(hp, topts);
    out.push_back(std::make_unique<JournalChannel>(static_cast<int>(i), hp, copts, std::move(t)));
  }
  return out;
}

std::vector<JournalChannel*> ChannelPointers(
    const std::vector<std::unique_ptr<JournalChannel>>& channels) {
  std::vector<JournalChannel*> out;
  for (const auto& c : channels) out.push_back(c.get());
  return out;
}

}  // namespace qj::jn
