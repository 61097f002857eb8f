#include "journalnode/journal_web.h"

#include <algorithm>
#include <string>
#include <vector>

namespace qj::jn {

namespace {

struct JournalRow {
  std::string id;
  std::string state;  // serving, unformatted, unavailable
  std::string reason;
  JournalState snap;
  const JournalCounters* counters = nullptr;
  // How far this node is behind what the writer reports committed (0 when caught up).
  int64_t lag() const {
    const int64_t c = counters->writer_committed_txid.load(std::memory_order_relaxed);
    return std::max<int64_t>(0, c - snap.last_written_txid);
  }
};

std::vector<JournalRow> Rows(JournalNode* node) {
  std::vector<JournalRow> rows;
  node->ForEachJournal([&](const std::string& id, const Journal& j) {
    JournalRow r;
    r.id = id;
    r.counters = &j.counters();
    auto st = j.GetState();
    if (!st.ok()) {
      r.state = "unavailable";
      r.reason = st.status().ToString();
    } else {
      r.snap = *st;
      r.state = !st->unavailable_reason.empty() ? "unavailable"
                : st->formatted                 ? "serving"
                                                : "unformatted";
      r.reason = st->unavailable_reason;
    }
    rows.push_back(std::move(r));
  });
  return rows;
}

void Collect(JournalNode* node, metrics::TextWriter* w) {
  const std::vector<JournalRow> rows = Rows(node);
  using Get = double (*)(const JournalRow&);
  struct Def {
    const char* name;
    const char* type;
    const char* help;
    Get get;
  };
  static const Def kDefs[] = {
      {"qj_journalnode_batches_total", "counter", "journal() batches written and fdatasync'ed",
       [](const JournalRow& r) { return r.counters->batches.value(); }},
      {"qj_journalnode_edits_written_total", "counter", "Edits written and fdatasync'ed",
       [](const JournalRow& r) { return r.counters->edits.value(); }},
      {"qj_journalnode_written_bytes_total", "counter", "Record bytes written and fdatasync'ed",
       [](const JournalRow& r) { return r.counters->bytes.value(); }},
      {"qj_journalnode_cache_hits_total", "counter",
       "Committed-edit reads served from the in-memory edits cache",
       [](const JournalRow& r) { return r.counters->cache_hits.value(); }},
      {"qj_journalnode_cache_misses_total", "counter",
       "Committed-edit reads that had to read segment files",
       [](const JournalRow& r) { return r.counters->cache_misses.value(); }},
      {"qj_journalnode_slow_syncs_total", "counter",
       "Batches whose write + fdatasync took longer than --journalnode_slow_sync_warn_ms",
       [](const JournalRow& r) { return r.counters->slow_syncs.value(); }},
      {"qj_journalnode_last_written_txid", "gauge", "Highest durable txid on this node (-1: none)",
       [](const JournalRow& r) { return static_cast<double>(r.snap.last_written_txid); }},
      {"qj_journalnode_committed_txid", "gauge",
       "Highest txid this node knows committed (clamped to what it holds)",
       [](const JournalRow& r) { return static_cast<double>(r.snap.committed_txid); }},
      {"qj_journalnode_promised_epoch", "gauge", "Highest epoch promised (newEpoch)",
       [](const JournalRow& r) { return static_cast<double>(r.snap.promised_epoch); }},
      {"qj_journalnode_writer_epoch", "gauge",
       "Epoch of the writer that started the newest segment",
       [](const JournalRow& r) { return static_cast<double>(r.snap.writer_epoch); }},
      {"qj_journalnode_lag_edits", "gauge",
       "Edits the writer reported committed (in its last call here) that this node does "
       "not hold; a node the writer stopped calling keeps its last value",
       [](const JournalRow& r) { return static_cast<double>(r.lag()); }},
      {"qj_journalnode_journal_available", "gauge",
       "1 while the journal serves, 0 once it stopped (corruption, failed write)",
       [](const JournalRow& r) { return r.state == "unavailable" ? 0.0 : 1.0; }},
  };
  for (const Def& d : kDefs) {
    w->Begin(d.name, d.type, d.help);
    for (const JournalRow& r : rows) w->Sample(d.name, {{"journal", r.id}}, d.get(r));
  }
  w->Begin("qj_journalnode_fsync_seconds", "histogram",
           "Time to write one batch to the page cache and fdatasync it");
  for (const JournalRow& r : rows) {
    w->HistogramSample("qj_journalnode_fsync_seconds", {{"journal", r.id}},
                       r.counters->sync_seconds.snapshot());
  }
}

StatusReport Report(JournalNode* node) {
  StatusReport rep;
  rep.daemon = "journalnode";
  rep.name = node->name();
  const std::vector<JournalRow> rows = Rows(node);
  rep.Field("journal_count", static_cast<int64_t>(rows.size()));
  StatusTable t;
  t.key = "journals";
  t.title = "Journals";
  t.columns = {
      "journal",        "state",      "promised_epoch", "writer_epoch", "last_written_txid",
      "committed_txid", "lag_edits",  "open_segment",   "segments",     "batches",
      "edits_written",  "slow_syncs", "reason"};
  for (const JournalRow& r : rows) {
    t.rows.push_back({r.id, r.state, r.snap.promised_epoch, r.snap.writer_epoch,
                      r.snap.last_written_txid, r.snap.committed_txid, r.lag(),
                      r.snap.open_segment_start, static_cast<int64_t>(r.snap.segments.size()),
                      static_cast<int64_t>(r.counters->batches.value()),
                      static_cast<int64_t>(r.counters->edits.value()),
                      static_cast<int64_t>(r.counters->slow_syncs.value()), r.reason});
  }
  rep.tables.push_back(std::move(t));
  return rep;
}

}  // namespace

std::unique_ptr<DaemonWeb> MakeJournalNodeWeb(JournalNode* node, const HttpServerOptions& http) {
  DaemonWebOptions o;
  o.http = http;
  o.rate_title = "commit rate, all journals (edits/s)";
  o.level_title = "lag behind the writer, worst journal (edits)";
  auto web = std::make_unique<DaemonWeb>(
      o, [node] { return Report(node); },
      [node] {
        double committed = 0, lag = 0;
        for (const JournalRow& r : Rows(node)) {
          committed += static_cast<double>(std::max<int64_t>(0, r.snap.committed_txid));
          lag = std::max(lag, static_cast<double>(r.lag()));
        }
        return std::make_pair(committed, lag);
      });
  web->registry()->AddCollector([node](metrics::TextWriter* w) { Collect(node, w); });
  return web;
}

}  // namespace qj::jn
