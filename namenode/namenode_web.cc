#include "namenode/namenode_web.h"

#include <algorithm>
#include <atomic>
#include <string>
#include <vector>

#include "namenode/image.h"

namespace qj::nn {

namespace {

// Everything one page or scrape shows, read once.
struct NnView {
  NamenodeStatus status;
  WriterView writer;
  int64_t inodes = 0;
  int64_t image_txid = -1;
  double image_age_s = -1;   // -1: no image file found
  double lease_slack_s = 0;  // deadline - now; meaningful when has_lease
  bool has_lease = false;
  int64_t quorum_committed = -1;  // -1: unknown
  int64_t lag = 0;                // edits: uncommitted (active) or not yet tailed (standby)
  std::vector<std::string> journalnodes;
};

class NamenodeWebState {
 public:
  explicit NamenodeWebState(NamenodeServer* s)
      : server_(s), reader_(jn::QuorumReader::Create(s->options().quorum)) {}

  // Sampler thread only: asks the journalnodes for the committed txid unless active.
  void Probe() {
    WriterView w = server_->GetWriterView();
    if (w.open) {
      quorum_committed_ = w.committed_txid;
      return;
    }
    auto c = reader_->CommittedTxId();
    quorum_committed_ = c.ok() ? *c : -1;
  }

  NnView View() const {
    NnView v;
    v.status = server_->GetStatus();
    v.writer = server_->GetWriterView();
    v.inodes = server_->inode_count();
    v.image_txid = server_->last_image_txid();
    Clock* clock = server_->clock();
    if (v.image_txid >= 0) {
      const NamenodeOptions& o = server_->options();
      auto info = o.file_ops->Stat(o.name_dir + "/" + ImageFileName(v.image_txid));
      if (info.ok()) {
        v.image_age_s = std::max<double>(0, (clock->WallMillis() - info->mtime_ms) / 1e3);
      }
    }
    v.has_lease = v.status.lease_deadline_mono_ns > 0;
    if (v.has_lease) {
      v.lease_slack_s = (v.status.lease_deadline_mono_ns - clock->MonotonicNanos()) / 1e9;
    }
    v.quorum_committed = v.writer.open ? v.writer.committed_txid : quorum_committed_.load();
    if (v.writer.open) {
      v.lag = v.writer.last_txid - v.writer.committed_txid;
    } else if (v.quorum_committed >= 0) {
      v.lag = std::max<int64_t>(0, v.quorum_committed - v.status.last_applied_txid);
    }
    for (const HostPort& hp : server_->options().quorum.journalnodes) {
      v.journalnodes.push_back(hp.ToString());
    }
    return v;
  }

  NamenodeServer* server() const { return server_; }

 private:
  NamenodeServer* const server_;
  std::unique_ptr<jn::QuorumReader> reader_;  // sampler thread only
  std::atomic<int64_t> quorum_committed_{-1};
};

void Collect(const NamenodeWebState& state, metrics::TextWriter* w) {
  const NnView v = state.View();
  w->Begin("qj_namenode_ha_state", "gauge", "1 for the namenode's current HA state");
  for (HaRole r : {HaRole::kInitializing, HaRole::kStandby, HaRole::kActive, HaRole::kStopping}) {
    w->Sample("qj_namenode_ha_state", {{"state", HaRoleName(r)}}, v.status.role == r ? 1 : 0);
  }
  auto gauge = [&](const char* name, const char* help, double value) {
    w->Begin(name, "gauge", help);
    w->Sample(name, {}, value);
  };
  gauge("qj_namenode_last_applied_txid", "Last edit applied to the in-memory namespace",
        static_cast<double>(v.status.last_applied_txid));
  gauge("qj_namenode_epoch", "Writer epoch while active (0 otherwise)",
        static_cast<double>(v.status.epoch));
  gauge("qj_namenode_inodes", "Inodes in the namespace, the root included",
        static_cast<double>(v.inodes));
  gauge("qj_namenode_quorum_committed_txid",
        "Committed txid of the journal (the writer's, or the journalnodes' for a standby; "
        "-1 unknown)",
        static_cast<double>(v.quorum_committed));
  gauge("qj_namenode_tailing_lag_edits",
        "Standby: committed edits not applied yet (0 on the active)",
        static_cast<double>(v.writer.open ? 0 : v.lag));
  gauge("qj_namenode_checkpoint_txid", "Txid of the newest image (-1: none)",
        static_cast<double>(v.image_txid));
  if (v.image_age_s >= 0) {
    gauge("qj_namenode_checkpoint_age_seconds", "Age of the newest image file", v.image_age_s);
  }
  if (v.has_lease) {
    gauge("qj_namenode_lease_slack_seconds",
          "Time left until the lease deadline given by failoverd (negative: past it)",
          v.lease_slack_s);
  }
  const NamenodeCounters& c = state.server()->counters();
  w->Begin("qj_namenode_operations_total", "counter",
           "Client calls by operation and result (ok, an FsError or a server error code)");
  c.ops.ForEach([&](const metrics::Labels& l, const metrics::Counter& n) {
    w->Sample("qj_namenode_operations_total", l, n.value());
  });
  w->Begin("qj_namenode_commit_wait_seconds", "histogram",
           "Time a client call waited for its edit (or the state it read) to commit");
  w->HistogramSample("qj_namenode_commit_wait_seconds", {}, c.commit_seconds.snapshot());
  w->Begin("qj_namenode_activation_holds_total", "counter",
           "Client calls that arrived during a transition to active and waited for its end");
  w->Sample("qj_namenode_activation_holds_total", {}, c.activation_holds.value());

  // The writer, while active.
  if (!v.writer.open) return;
  const jn::WriterStats& s = v.writer.stats;
  w->Begin("qj_writer_batches_total", "counter", "journal() batches sent by this writer");
  w->Sample("qj_writer_batches_total", {}, static_cast<double>(s.batches));
  w->Begin("qj_writer_edits_total", "counter", "Edits sent by this writer");
  w->Sample("qj_writer_edits_total", {}, static_cast<double>(s.edits));
  w->Begin("qj_writer_bytes_total", "counter", "Record bytes sent by this writer");
  w->Sample("qj_writer_bytes_total", {}, static_cast<double>(s.bytes));
  gauge("qj_writer_last_txid", "Last txid appended by the writer",
        static_cast<double>(v.writer.last_txid));
  gauge("qj_writer_uncommitted_edits", "Edits appended but not yet committed on a majority",
        static_cast<double>(v.lag));
  // The writer keeps batch sizes as a log2 histogram: bucket i holds [2^i, 2^(i+1)) edits.
  metrics::Histogram::Snapshot h;
  for (size_t i = 0; i < s.batch_size_log2_histogram.size(); ++i) {
    h.bounds.push_back(static_cast<double>((int64_t{2} << i) - 1));
    h.counts.push_back(static_cast<uint64_t>(s.batch_size_log2_histogram[i]));
    h.count += h.counts.back();
  }
  h.counts.push_back(0);  // +Inf
  h.sum = static_cast<double>(s.edits);
  w->Begin("qj_writer_batch_edits", "histogram", "Edits per journal() batch");
  w->HistogramSample("qj_writer_batch_edits", {}, h);
  w->Begin("qj_writer_journalnode_acked_txid", "gauge",
           "Last txid each journalnode acknowledged (-1: none)");
  for (size_t i = 0; i < s.acked_txid.size() && i < v.journalnodes.size(); ++i) {
    w->Sample("qj_writer_journalnode_acked_txid", {{"journalnode", v.journalnodes[i]}},
              static_cast<double>(s.acked_txid[i]));
  }
  w->Begin("qj_writer_journalnode_lag_edits", "gauge",
           "Edits appended that each journalnode has not acknowledged");
  for (size_t i = 0; i < s.acked_txid.size() && i < v.journalnodes.size(); ++i) {
    w->Sample("qj_writer_journalnode_lag_edits", {{"journalnode", v.journalnodes[i]}},
              static_cast<double>(std::max<int64_t>(0, v.writer.last_txid - s.acked_txid[i])));
  }
  w->Begin("qj_writer_journalnode_queued_bytes", "gauge",
           "Record bytes appended that each journalnode in the pipeline has not acknowledged");
  for (size_t i = 0; i < s.queued_bytes.size() && i < v.journalnodes.size(); ++i) {
    w->Sample("qj_writer_journalnode_queued_bytes", {{"journalnode", v.journalnodes[i]}},
              static_cast<double>(s.queued_bytes[i]));
  }
  w->Begin("qj_writer_journalnode_lag_seconds", "gauge",
           "Age of the oldest edit each journalnode in the pipeline has not acknowledged");
  for (size_t i = 0; i < s.lag_ms.size() && i < v.journalnodes.size(); ++i) {
    w->Sample("qj_writer_journalnode_lag_seconds", {{"journalnode", v.journalnodes[i]}},
              static_cast<double>(s.lag_ms[i]) / 1000.0);
  }
  // Kept as a log2 histogram in microseconds: bucket i holds [2^i, 2^(i+1)) us.
  metrics::Histogram::Snapshot cl;
  for (size_t i = 0; i < s.commit_latency_log2_us_histogram.size(); ++i) {
    cl.bounds.push_back(static_cast<double>((int64_t{2} << i)) / 1e6);
    cl.counts.push_back(static_cast<uint64_t>(s.commit_latency_log2_us_histogram[i]));
    cl.count += cl.counts.back();
  }
  cl.counts.push_back(0);  // +Inf
  cl.sum = static_cast<double>(s.commit_latency_us_sum) / 1e6;
  w->Begin("qj_writer_commit_latency_seconds", "histogram",
           "Append to majority commit, of the oldest edit of each commit advance");
  w->HistogramSample("qj_writer_commit_latency_seconds", {}, cl);
  w->Begin("qj_writer_journalnode_in_pipeline", "gauge",
           "1 while the writer streams batches to the journalnode, 0 while it is dropped");
  for (size_t i = 0; i < s.in_pipeline.size() && i < v.journalnodes.size(); ++i) {
    w->Sample("qj_writer_journalnode_in_pipeline", {{"journalnode", v.journalnodes[i]}},
              s.in_pipeline[i] ? 1 : 0);
  }
}

StatusReport Report(const NamenodeWebState& state) {
  const NnView v = state.View();
  StatusReport r;
  r.daemon = "namenode";
  r.name = v.status.namenode_id;
  r.Field("ha_state", HaRoleName(v.status.role));
  r.Field("healthy", v.status.ready_to_become_active);
  r.Field("not_ready_reason", v.status.not_ready_reason);
  r.Field("active_hint", v.status.active_hint);
  r.Field("epoch", v.status.epoch);
  r.Field("last_applied_txid", v.status.last_applied_txid);
  r.Field("quorum_committed_txid", v.quorum_committed);
  r.Field("lag_edits", v.lag);
  r.Field("inodes", v.inodes);
  r.Field("checkpoint_txid", v.image_txid);
  r.Field("checkpoint_age_s", v.image_age_s);
  if (v.has_lease) {
    r.Field("lease_slack_s", v.lease_slack_s);
  } else {
    r.Field("lease_slack_s", "no lease");
  }
  StatusTable t;
  t.key = "journalnodes";
  t.title = v.writer.open ? "Journal quorum (as the writer sees it)"
                          : "Journal quorum (writer state is shown on the active)";
  t.columns = {"journalnode", "acked_txid", "lag_edits", "in_pipeline"};
  for (size_t i = 0; i < v.journalnodes.size(); ++i) {
    if (v.writer.open && i < v.writer.stats.acked_txid.size()) {
      const int64_t acked = v.writer.stats.acked_txid[i];
      t.rows.push_back({v.journalnodes[i], acked, std::max<int64_t>(0, v.writer.last_txid - acked),
                        static_cast<bool>(v.writer.stats.in_pipeline[i])});
    } else {
      t.rows.push_back({v.journalnodes[i], "-", "-", "-"});
    }
  }
  r.tables.push_back(std::move(t));
  StatusTable ops;
  ops.key = "operations";
  ops.title = "Client calls";
  ops.columns = {"op", "result", "count"};
  state.server()->counters().ops.ForEach([&](const metrics::Labels& l, const metrics::Counter& n) {
    ops.rows.push_back({l[0].second, l[1].second, static_cast<int64_t>(n.value())});
  });
  r.tables.push_back(std::move(ops));
  return r;
}

}  // namespace

std::unique_ptr<DaemonWeb> MakeNamenodeWeb(NamenodeServer* server, const HttpServerOptions& http) {
  auto state = std::make_shared<NamenodeWebState>(server);
  DaemonWebOptions o;
  o.http = http;
  o.clock = server->clock();
  o.rate_title = "commit rate (edits/s)";
  o.level_title = "lag: uncommitted (active) or not yet tailed (standby) edits";
  auto web = std::make_unique<DaemonWeb>(
      o, [state] { return Report(*state); },
      [state] {
        state->Probe();
        const NnView v = state->View();
        return std::make_pair(static_cast<double>(std::max<int64_t>(0, v.quorum_committed)),
                              static_cast<double>(v.lag));
      });
  web->registry()->AddCollector([state](metrics::TextWriter* w) { Collect(*state, w); });
  return web;
}

}  // namespace qj::nn
