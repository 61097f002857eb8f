#include "journalnode/journal_service.h"

#include <algorithm>

#include "JournalProtocol.h"
#include "common/rpc/authz.h"
#include "common/rpc/idl_errors.h"
#include "journalnode/journal_wire.h"

namespace qj::jn {
namespace {

namespace at = apache::thrift;
namespace th = qjournal::thrift;

using rpc::JournalError;
using rpc::JournalErrorSet;

// What each method declares (journal.thrift); a failure outside it becomes a declared one
// (rpc::JournalErrors()).
constexpr JournalErrorSet kWriterCall{JournalError::kStaleEpoch, JournalError::kNotFormatted,
                                      JournalError::kUnavailable, JournalError::kIO,
                                      JournalError::kOutOfSync};
constexpr JournalErrorSet kStale{JournalError::kStaleEpoch};
constexpr JournalErrorSet kNotFormatted{JournalError::kNotFormatted};
constexpr JournalErrorSet kUnavailable{JournalError::kUnavailable};
constexpr JournalErrorSet kIO{JournalError::kIO};
constexpr JournalErrorSet kInvalid{JournalError::kInvalid};

class Handler final : public th::JournalProtocolIf {
 public:
  explicit Handler(JournalNode* node) : node_(node) {}

  void format(const std::string& journalId, const th::NamespaceInfo& nsInfo,
              const bool force) override {
    const JournalErrorSet allowed = kUnavailable | kIO | kInvalid;
    Journal* j = Lookup(journalId, true, allowed);
    Check(j->Format(FromThrift(nsInfo), force), allowed, journalId, j);
  }

  bool isFormatted(const std::string& journalId) override {
    auto j = node_->Get(journalId, false);
    if (!j.ok()) {
      if (j.status().code() == StatusCode::kNotFormatted) return false;
      Fail(j.status(), kUnavailable, journalId, nullptr);
    }
    auto formatted = (*j)->IsFormatted();
    if (!formatted.ok()) Fail(formatted.status(), kUnavailable, journalId, *j);
    return *formatted;
  }

  void getJournalState(th::JournalState& out, const std::string& journalId) override {
    const JournalErrorSet allowed = kNotFormatted | kUnavailable;
    Journal* j = Lookup(journalId, false, allowed);
    auto snap = j->GetState();
    if (!snap.ok()) Fail(snap.status(), allowed, journalId, j);
    out = ToThrift(*snap);
  }

  void newEpoch(th::NewEpochResponse& out, const std::string& journalId,
                const th::NamespaceInfo& nsInfo, const int64_t epoch) override {
    const JournalErrorSet allowed = kStale | kNotFormatted | kUnavailable | kIO | kInvalid;
    Journal* j = Lookup(journalId, false, allowed);
    auto r = j->NewEpoch(FromThrift(nsInfo), epoch);
    if (!r.ok()) Fail(r.status(), allowed, journalId, j);
    out.lastSegmentTxId = *r;
  }

  void heartbeat(const th::RequestInfo& req) override {
    Journal* j = Lookup(req.journalId, false, kWriterCall);
    Check(j->Heartbeat(FromThrift(req)), kWriterCall, req.journalId, j);
  }

  void startLogSegment(const th::RequestInfo& req, const int64_t txid,
                       const int32_t layoutVersion) override {
    Journal* j = Lookup(req.journalId, false, kWriterCall);
    Check(j->StartLogSegment(FromThrift(req), txid, layoutVersion), kWriterCall, req.journalId, j);
  }

  void journal(const th::RequestInfo& req, const int64_t segmentTxId, const int64_t firstTxId,
               const int32_t numTxns, const std::string& records) override {
    const JournalErrorSet allowed = kWriterCall | kInvalid;
    Journal* j = Lookup(req.journalId, false, allowed);
    Check(j->JournalEdits(FromThrift(req), segmentTxId, firstTxId, numTxns, records), allowed,
          req.journalId, j);
  }

  void finalizeLogSegment(const th::RequestInfo& req, const int64_t startTxId,
                          const int64_t endTxId) override {
    Journal* j = Lookup(req.journalId, false, kWriterCall);
    Check(j->FinalizeLogSegment(FromThrift(req), startTxId, endTxId), kWriterCall, req.journalId,
          j);
  }

  void purgeLogs(const th::RequestInfo& req, const int64_t minTxIdToKeep) override {
    const JournalErrorSet allowed = kStale | kNotFormatted | kUnavailable | kIO;
    Journal* j = Lookup(req.journalId, false, allowed);
    Check(j->PurgeLogs(FromThrift(req), minTxIdToKeep), allowed, req.journalId, j);
  }

  void getEditLogManifest(th::EditLogManifest& out, const std::string& journalId,
                          const int64_t sinceTxId, const bool inProgressOk) override {
    const JournalErrorSet allowed = kNotFormatted | kUnavailable | kIO;
    Journal* j = Lookup(journalId, false, allowed);
    auto m = j->GetEditLogManifest(sinceTxId, inProgressOk);
    if (!m.ok()) Fail(m.status(), allowed, journalId, j);
    out = ToThrift(*m);
  }

  void getJournaledEdits(th::JournaledEdits& out, const std::string& journalId,
                         const int64_t sinceTxId, const int32_t maxTxns) override {
    const JournalErrorSet allowed = kNotFormatted | kUnavailable | kIO | kInvalid;
    Journal* j = Lookup(journalId, false, allowed);
    auto r = j->GetJournaledEdits(sinceTxId, maxTxns);
    if (!r.ok()) Fail(r.status(), allowed, journalId, j);
    out = ToThrift(std::move(r).value());
  }

  void prepareRecovery(th::PrepareRecoveryResponse& out, const th::RequestInfo& req,
                       const int64_t segmentTxId) override {
    const JournalErrorSet allowed = kStale | kNotFormatted | kUnavailable | kIO;
    Journal* j = Lookup(req.journalId, false, allowed);
    auto r = j->PrepareRecovery(FromThrift(req), segmentTxId);
    if (!r.ok()) Fail(r.status(), allowed, req.journalId, j);
    out = ToThrift(*r);
  }

  void acceptRecovery(const th::RequestInfo& req, const th::SegmentInfo& state,
                      const std::string& fromPeer, const int64_t fromWriterEpoch) override {
    const JournalErrorSet allowed = kWriterCall | kInvalid;
    Journal* j = Lookup(req.journalId, false, allowed);
    Check(j->AcceptRecovery(FromThrift(req), FromThrift(state), fromPeer,
                            std::max<int64_t>(fromWriterEpoch, 0)),
          allowed, req.journalId, j);
  }

  void getSegmentChunk(th::SegmentChunk& out, const std::string& journalId, const int64_t startTxId,
                       const int64_t endTxId, const int64_t offset,
                       const int32_t maxBytes) override {
    const JournalErrorSet allowed = kNotFormatted | kUnavailable | kIO | kInvalid;
    Journal* j = Lookup(journalId, false, allowed);
    auto r = j->GetSegmentChunk(startTxId, endTxId, offset, std::min(maxBytes, 8 << 20));
    if (!r.ok()) Fail(r.status(), allowed, journalId, j);
    out = ToThrift(std::move(r).value());
  }

  void acquireLease(th::LeaseResponse& out, const std::string& journalId,
                    const std::string& holderId, const int64_t durationMs) override {
    Status v = ValidateJournalId(journalId);
    if (!v.ok()) Fail(v, kInvalid, journalId, nullptr);
    auto g = node_->leases()->Acquire(journalId, holderId, durationMs);
    if (!g.ok()) Fail(g.status(), kInvalid, journalId, nullptr);
    out = ToThrift(*g);
  }

  void releaseLease(const std::string& journalId, const std::string& holderId) override {
    Status v = ValidateJournalId(journalId);
    if (!v.ok()) Fail(v, kInvalid, journalId, nullptr);
    Check(node_->leases()->Release(journalId, holderId), kInvalid, journalId, nullptr);
  }

 private:
  [[noreturn]] void Fail(const Status& s, JournalErrorSet allowed, const std::string& journal_id,
                         Journal* j) {
    // A bad id can be megabytes: never echo more than a prefix of it.
    const bool bad_id = !ValidateJournalId(journal_id).ok();
    const std::string shown = bad_id ? journal_id.substr(0, 80) : journal_id;
    VLOG(1) << node_->name() << " " << shown << ": call failed: " << s;
    const std::string who = node_->name() + " " + shown;
    std::string msg = s.message();
    if (msg.compare(0, who.size(), who) != 0) msg = who + ": " + msg;
    rpc::JournalErrorDetail detail;
    detail.expected_txid = j != nullptr && s.IsOutOfSync() ? j->NextExpectedTxId() : -1;
    detail.bad_journal_id = bad_id;
    rpc::ThrowJournalError(s, allowed, msg, detail);
  }
  void Check(const Status& s, JournalErrorSet allowed, const std::string& journal_id, Journal* j) {
    if (!s.ok()) Fail(s, allowed, journal_id, j);
  }
  Journal* Lookup(const std::string& journal_id, bool create, JournalErrorSet allowed) {
    auto j = node_->Get(journal_id, create);
    if (!j.ok()) Fail(j.status(), allowed, journal_id, nullptr);
    return *j;
  }

  JournalNode* const node_;
};

}  // namespace

rpc::ServerOptions JournalServerOptions() {
  rpc::ServerOptions o;
  o.port = 8485;
  o.max_frame_bytes = 16 << 20;
  o.max_string_bytes = 16 << 20;
  return o;
}

std::shared_ptr<at::TProcessor> NewJournalProcessor(JournalNode* node) {
  return std::make_shared<th::JournalProtocolProcessor>(std::make_shared<Handler>(node));
}

JournalServer::JournalServer(JournalNode* node, rpc::ServerOptions opts)
    : server_(rpc::GuardedFactory<th::JournalProtocolProcessor, th::JournalProtocolIf>(
                  std::make_shared<Handler>(node), opts.policy, node->name()),
              opts) {}

JournalServer::~JournalServer() { Stop(); }

Status JournalServer::Serve() { return server_.Serve(); }

void JournalServer::Stop() { server_.Stop(); }

}  // namespace qj::jn
