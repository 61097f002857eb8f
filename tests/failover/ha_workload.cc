#include "tests/failover/ha_workload.h"

#include <glog/logging.h>

#include <algorithm>
#include <sstream>

#include "ClientProtocol.h"
#include "common/clock.h"
#include "common/rpc/rpc.h"
#include "namenode_types.h"

namespace qj::testing {

namespace th = qjournal::thrift;

namespace {

th::UserInfo Root() {
  th::UserInfo u;
  u.user = "root";
  u.groups = {"root"};
  return u;
}

// One attempt of fn against `conn`; classifies the outcome.
template <typename Fn>
CallRecord Attempt(int nn, rpc::Client<th::ClientProtocolClient>& conn, Fn&& fn) {
  CallRecord r;
  r.nn = nn;
  r.send_ns = RealClock::Get()->MonotonicNanos();
  auto c = conn.Get();
  if (!c.ok()) {
    // The connect failed (refused or timed out): nothing was sent.
    r.result = CallResult::kRefused;
    r.error = c.status().ToString();
  } else {
    try {
      fn(**c);
      r.result = CallResult::kOk;
    } catch (const th::FsException& e) {
      r.result =
          e.code == th::FsErrorCode::NOT_ACTIVE ? CallResult::kNotActive : CallResult::kError;
      r.error = e.message;
    } catch (const apache::thrift::TException& e) {
      conn.Reset();
      r.result = CallResult::kUnknown;
      r.error = e.what();
    }
  }
  r.recv_ns = RealClock::Get()->MonotonicNanos();
  return r;
}

}  // namespace

HaWorkload::HaWorkload(std::vector<NamenodeInfo> namenodes, WorkloadOptions opts)
    : nns_(std::move(namenodes)), opts_(opts), last_ack_ns_(nns_.size()), probe_ok_(nns_.size()) {
  for (auto& a : last_ack_ns_) a = 0;
  for (auto& a : probe_ok_) a = 0;
  for (int t = 0; t < opts_.writers; ++t) {
    logs_.emplace_back();
    logs_.back().name = "writer" + std::to_string(t);
  }
  if (opts_.probers) {
    for (size_t i = 0; i < nns_.size(); ++i) {
      logs_.emplace_back();
      logs_.back().name = "prober-" + nns_[i].id;
    }
  }
}

HaWorkload::~HaWorkload() { Stop(); }

void HaWorkload::Start() {
  for (int t = 0; t < opts_.writers; ++t) threads_.emplace_back([this, t] { Writer(t); });
  if (opts_.probers) {
    for (size_t i = 0; i < nns_.size(); ++i) {
      threads_.emplace_back([this, i] { Prober(static_cast<int>(i)); });
    }
  }
}

void HaWorkload::Stop() {
  stop_ = true;
  for (auto& t : threads_) t.join();
  threads_.clear();
}

int64_t HaWorkload::last_ack_ns(int nn) const { return last_ack_ns_[nn].load(); }
int64_t HaWorkload::probe_ok_count(int nn) const { return probe_ok_[nn].load(); }

void HaWorkload::Writer(int t) {
  ThreadLog& log = logs_[t];
  std::vector<std::unique_ptr<rpc::Client<th::ClientProtocolClient>>> conns;
  for (const auto& nn : nns_) {
    conns.push_back(std::make_unique<rpc::Client<th::ClientProtocolClient>>(
        nn.rpc(), rpc::ClientOptions::WithTimeout(opts_.rpc_timeout_ms)));
  }
  int cur = 0;
  const th::UserInfo ugi = Root();
  for (int64_t n = 0; !stop_; ++n) {
    const std::string path = "/w" + std::to_string(t) + "/d" + std::to_string(n);
    const int64_t op_start = RealClock::Get()->MonotonicNanos();
    int64_t first_failure = 0;
    bool acked = false;
    while (!stop_ &&
           RealClock::Get()->MonotonicNanos() - op_start < opts_.op_budget_ms * 1'000'000) {
      CallRecord r = Attempt(cur, *conns[cur], [&](th::ClientProtocolClient& c) {
        c.mkdirs(ugi, path, 0755, true, th::RpcIds());
      });
      log.calls.push_back(r);
      if (r.result == CallResult::kOk) {
        acked = true;
        log.acked.push_back(path);
        log.retry_windows_ns.push_back(first_failure == 0 ? 0 : r.recv_ns - first_failure);
        last_ack_ns_[cur] = r.recv_ns;
        ++acked_;
        break;
      }
      if (first_failure == 0) first_failure = r.send_ns;
      // NOT_ACTIVE / refused / unknown (mkdirs is idempotent): try the other namenode.
      if (r.result != CallResult::kError) cur = (cur + 1) % static_cast<int>(nns_.size());
      std::this_thread::sleep_for(std::chrono::milliseconds(opts_.backoff_ms));
    }
    if (!acked && !stop_) ++log.failed_ops;
  }
}

void HaWorkload::Prober(int nn) {
  ThreadLog& log = logs_[opts_.writers + nn];
  rpc::Client<th::ClientProtocolClient> conn(nns_[nn].rpc(),
                                             rpc::ClientOptions::WithTimeout(opts_.rpc_timeout_ms));
  const th::UserInfo ugi = Root();
  while (!stop_) {
    CallRecord r = Attempt(nn, conn, [&](th::ClientProtocolClient& c) {
      th::FileStatus st;
      c.getFileInfo(st, ugi, "/", 0);
    });
    log.calls.push_back(r);
    if (r.result == CallResult::kOk) ++probe_ok_[nn];
    // ~1000 probes/s per namenode: dense enough, and leaves the cores to the cluster.
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

std::vector<std::string> HaWorkload::AllAcked() const {
  std::vector<std::string> out;
  for (const auto& l : logs_) out.insert(out.end(), l.acked.begin(), l.acked.end());
  return out;
}

std::vector<std::string> HaWorkload::FindDualActivity() const {
  std::vector<std::string> ids;
  for (const auto& nn : nns_) ids.push_back(nn.id);
  return FindDualActivity(logs_, ids);
}

std::vector<std::string> HaWorkload::FindDualActivity(const std::vector<ThreadLog>& logs_,
                                                      const std::vector<std::string>& ids) {
  struct Run {
    int nn;
    int64_t from, to;  // certainly active throughout [from, to]
    std::string who;
  };
  std::vector<Run> runs;
  std::vector<const CallRecord*> oks;
  for (const auto& l : logs_) {
    size_t i = 0;
    while (i < l.calls.size()) {
      if (l.calls[i].result != CallResult::kOk) {
        ++i;
        continue;
      }
      size_t j = i;
      while (j + 1 < l.calls.size() && l.calls[j + 1].result == CallResult::kOk &&
             l.calls[j + 1].nn == l.calls[i].nn) {
        ++j;
      }
      for (size_t k = i; k <= j; ++k) oks.push_back(&l.calls[k]);
      if (l.calls[i].recv_ns < l.calls[j].send_ns) {
        runs.push_back(Run{l.calls[i].nn, l.calls[i].recv_ns, l.calls[j].send_ns, l.name});
      }
      i = j + 1;
    }
  }
  std::vector<std::string> proofs;
  for (const auto& run : runs) {
    for (const CallRecord* c : oks) {
      if (c->nn != run.nn && c->send_ns >= run.from && c->recv_ns <= run.to) {
        std::ostringstream m;
        m << ids[run.nn] << " was active throughout [" << run.from << ", " << run.to << "] ("
          << run.who << ") while " << ids[c->nn] << " answered as active in [" << c->send_ns << ", "
          << c->recv_ns << "]";
        proofs.push_back(m.str());
        if (proofs.size() >= 10) return proofs;
      }
    }
  }
  return proofs;
}

}  // namespace qj::testing
