#include "journalnode/client/qjournal_tool.h"

#include <algorithm>
#include <cstdio>
#include <iomanip>
#include <sstream>
#include <thread>

#include "common/clock.h"
#include "common/json.h"
#include "journalnode/client/journal_channel.h"
#include "journalnode/client/quorum_call.h"

namespace qj::jn {

namespace {

// The op code of edits written by `qjournal append` (opaque to the journal).
constexpr uint16_t kTestEditOp = 0x7e57;

std::string Printable(const std::string& s, size_t max) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < max; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 32 && c < 127 && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    }
  }
  if (s.size() > max) out += "...";
  return out;
}

// A segment as the status table shows it: "finalized[1..10]", "inprogress[11..12]".
std::string ShortName(const SegmentState& s) {
  return std::string(s.in_progress ? "inprogress[" : "finalized[") + std::to_string(s.start_txid) +
         ".." + std::to_string(s.end_txid) + "]";
}

// all: wait for every node (or the timeout) so a table is complete; else the first answer.
QuorumResult<JournalState> GetStates(const QuorumOptions& q, bool all) {
  auto channels = MakeChannels(q);
  const auto chans = ChannelPointers(channels);
  return CallQuorum<JournalState>(
      chans, all ? static_cast<int>(chans.size()) : 1, q.rpc_timeout_ms,
      q.name + ": getJournalState",
      [](JournalChannel& c, ReplyCallback<JournalState> cb) { c.GetJournalState(cb); }, all,
      q.clock);
}

}  // namespace

int RunFormat(const ToolOptions& o, std::ostream& out, std::ostream& err) {
  Status s = FormatJournal(o.quorum, o.ns, o.force);
  if (!s.ok()) {
    err << "qjournal format: " << s << "\n";
    return 1;
  }
  out << "formatted journal " << o.quorum.journal_id << " on " << o.quorum.journalnodes.size()
      << " journalnodes (namespace " << o.ns.namespace_id << ", cluster " << o.ns.cluster_id
      << ")\n";
  return 0;
}

int RunStatus(const ToolOptions& o, std::ostream& out, std::ostream& err) {
  auto r = GetStates(o.quorum, true);
  int64_t max_written = -1;
  int reachable = 0;
  for (const auto& rep : r.replies) {
    if (rep && rep->ok()) max_written = std::max(max_written, rep->value.last_written_txid);
    if (rep && (rep->ok() || rep->status.code() == StatusCode::kNotFormatted)) ++reachable;
  }
  const int majority = MajorityOf(r.replies.size());
  if (o.json) {
    out << "{\"journal\":" << JsonString(o.quorum.journal_id) << ",\"journalnodes\":[";
    for (size_t i = 0; i < r.replies.size(); ++i) {
      const auto& rep = r.replies[i];
      const bool not_formatted = rep && rep->status.code() == StatusCode::kNotFormatted;
      const bool answered = rep && (rep->ok() || not_formatted);
      out << (i ? "," : "") << "\n{\"node\":" << JsonString(o.quorum.journalnodes[i].ToString())
          << ",\"reachable\":" << (answered ? "true" : "false");
      if (!answered) {
        out << ",\"error\":" << JsonString(rep ? rep->status.ToString() : "no answer") << "}";
        continue;
      }
      if (!rep->ok()) {
        out << ",\"formatted\":false}";
        continue;
      }
      const JournalState& s = rep->value;
      out << ",\"formatted\":" << (s.formatted ? "true" : "false")
          << ",\"promised_epoch\":" << s.promised_epoch << ",\"writer_epoch\":" << s.writer_epoch
          << ",\"committed_txid\":" << s.committed_txid
          << ",\"last_written_txid\":" << s.last_written_txid << ",\"lag\":"
          << std::max<int64_t>(0, max_written - std::max<int64_t>(s.last_written_txid, 0))
          << ",\"unavailable_reason\":" << JsonString(s.unavailable_reason) << ",\"segments\":[";
      for (size_t k = 0; k < s.segments.size(); ++k) {
        out << (k ? "," : "") << "{\"start_txid\":" << s.segments[k].start_txid
            << ",\"end_txid\":" << s.segments[k].end_txid
            << ",\"in_progress\":" << (s.segments[k].in_progress ? "true" : "false") << "}";
      }
      out << "]}";
    }
    out << "\n],\"reachable\":" << reachable << ",\"total\":" << r.replies.size()
        << ",\"quorum\":" << (reachable >= majority ? "true" : "false") << "}\n";
    if (reachable < majority) {
      err << "qjournal status: a majority of journalnodes is unreachable\n";
      return 1;
    }
    return 0;
  }
  out << "journal " << o.quorum.journal_id << "\n";
  out << std::left << std::setw(23) << "node" << std::setw(10) << "reachable" << std::setw(10)
      << "formatted" << std::setw(9) << "promised" << std::setw(7) << "writer" << std::setw(11)
      << "committed" << std::setw(14) << "last_written" << std::setw(6) << "lag"
      << "segments\n";
  for (size_t i = 0; i < r.replies.size(); ++i) {
    const auto& rep = r.replies[i];
    out << std::setw(23) << o.quorum.journalnodes[i].ToString();
    if (!rep || (!rep->ok() && rep->status.code() != StatusCode::kNotFormatted)) {
      out << std::setw(10) << "no"
          << "(" << (rep ? rep->status.ToString() : std::string("no answer")) << ")\n";
      continue;
    }
    if (!rep->ok()) {
      out << std::setw(10) << "yes" << std::setw(10) << "no"
          << "\n";
      continue;
    }
    const JournalState& s = rep->value;
    std::string segs;
    for (const auto& seg : s.segments) segs += (segs.empty() ? "" : " ") + ShortName(seg);
    if (segs.empty()) segs = "-";
    if (!s.unavailable_reason.empty()) segs += "  UNAVAILABLE: " + s.unavailable_reason;
    out << std::setw(10) << "yes" << std::setw(10) << (s.formatted ? "yes" : "no") << std::setw(9)
        << s.promised_epoch << std::setw(7) << s.writer_epoch << std::setw(11) << s.committed_txid
        << std::setw(14) << s.last_written_txid << std::setw(6)
        << (max_written - std::max<int64_t>(s.last_written_txid, 0) < 0
                ? 0
                : max_written - std::max<int64_t>(s.last_written_txid, 0))
        << segs << "\n";
  }
  out << reachable << " of " << r.replies.size() << " journalnodes reachable"
      << (reachable >= majority ? "" : " (NO QUORUM)") << "\n";
  if (reachable < majority) {
    err << "qjournal status: a majority of journalnodes is unreachable\n";
    return 1;
  }
  return 0;
}

int RunHealth(const ToolOptions& o, std::ostream& out, std::ostream& err) {
  const size_t n = o.quorum.journalnodes.size();
  struct Answer {
    bool healthy = false;
    std::string reason;
    double ms = 0;
  };
  std::vector<Answer> answers(n);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      QuorumOptions one = o.quorum;
      one.journalnodes = {o.quorum.journalnodes[i]};
      const int64_t t0 = RealClock::Get()->MonotonicNanos();
      auto r = GetStates(one, true);
      answers[i].ms = static_cast<double>(RealClock::Get()->MonotonicNanos() - t0) / 1e6;
      const auto& rep = r.replies.empty() ? std::nullopt : r.replies[0];
      if (!rep) {
        answers[i].reason = "no answer within " + std::to_string(o.quorum.rpc_timeout_ms) + " ms";
      } else if (!rep->ok()) {
        answers[i].reason = rep->status.ToString();
      } else if (!rep->value.formatted) {
        answers[i].reason = "journal " + o.quorum.journal_id + " is not formatted";
      } else if (!rep->value.unavailable_reason.empty()) {
        answers[i].reason = "journal stopped: " + rep->value.unavailable_reason;
      } else {
        answers[i].healthy = true;
      }
    });
  }
  for (auto& t : threads) t.join();
  int unhealthy = 0;
  if (o.json) out << "[";
  for (size_t i = 0; i < n; ++i) {
    const Answer& a = answers[i];
    unhealthy += a.healthy ? 0 : 1;
    char took[32];
    std::snprintf(took, sizeof(took), "%.3f", a.ms);
    const std::string node = o.quorum.journalnodes[i].ToString();
    if (o.json) {
      out << (i ? "," : "") << "\n{\"endpoint\":" << JsonString(node)
          << ",\"health\":" << (a.healthy ? "true" : "false") << ",\"took_ms\":" << took;
      if (!a.healthy) out << ",\"error\":" << JsonString(a.reason);
      out << "}";
    } else if (a.healthy) {
      out << node << " is healthy: answered getJournalState for " << o.quorum.journal_id << " in "
          << took << " ms\n";
    } else {
      out << node << " is unhealthy: " << a.reason << " (after " << took << " ms)\n";
    }
  }
  if (o.json) out << "\n]\n";
  if (unhealthy > 0) {
    err << "qjournal health: " << unhealthy << " of " << n << " journalnodes unhealthy\n";
    return 1;
  }
  return 0;
}

int RunAppend(const ToolOptions& o, std::ostream& out, std::ostream& err) {
  NamespaceInfo ns = o.ns;
  if (!o.has_ns) {
    // Take the namespace identity from the journalnodes themselves.
    auto r = GetStates(o.quorum, false);
    bool found = false;
    for (const auto& rep : r.replies) {
      if (rep && rep->ok() && rep->value.formatted && rep->value.ns) {
        ns.namespace_id = rep->value.ns->namespace_id;
        ns.cluster_id = rep->value.ns->cluster_id;
        found = true;
        break;
      }
    }
    if (!found) {
      err << "qjournal append: cannot learn the namespace from the journalnodes: " << r.status
          << "\n";
      return 1;
    }
  }
  auto w = QuorumWriter::Open(o.quorum, ns);
  if (!w.ok()) {
    err << "qjournal append: cannot become writer: " << w.status() << "\n";
    return 1;
  }
  QuorumWriter& writer = **w;
  const int64_t first = writer.last_txid() + 1;
  Status s = writer.StartSegment(first);
  for (int64_t i = 0; s.ok() && i < o.count; ++i) {
    const int64_t txid = first + i;
    std::string payload = "qjournal test edit " + std::to_string(txid) + " epoch " +
                          std::to_string(writer.epoch()) + " ";
    payload.resize(static_cast<size_t>(std::max<int64_t>(o.size, 0)), '.');
    s = writer.Append(txid, kTestEditOp, payload);
  }
  if (s.ok()) s = writer.FinalizeSegment();
  writer.Close();
  if (!s.ok()) {
    err << "qjournal append: " << s << "\n";
    return 1;
  }
  out << "epoch " << writer.epoch() << ": recovered log ending at txid " << first - 1 << "\n";
  if (o.count > 0) {
    out << "appended txids " << first << ".." << first + o.count - 1 << ", committed\n";
  } else {
    out << "appended nothing\n";
  }
  return 0;
}

int RunDump(const ToolOptions& o, std::ostream& out, std::ostream& err) {
  auto reader = QuorumReader::Create(o.quorum);
  int64_t next = o.from, n = 0, first = -1, last = -1;
  while (o.max < 0 || n < o.max) {
    const int chunk = static_cast<int>(o.max < 0 ? 1000 : std::min<int64_t>(1000, o.max - n));
    auto r = reader->ReadCommitted(next, chunk);
    if (!r.ok()) {
      err << "qjournal dump: " << r.status() << "\n";
      return 1;
    }
    if (r->empty()) break;
    for (const EditRecord& e : *r) {
      if (e.txid != next) {
        err << "qjournal dump: gap: expected txid " << next << ", got " << e.txid << "\n";
        return 1;
      }
      out << e.txid << " " << e.op << " " << e.payload.size() << " " << Printable(e.payload, 40)
          << "\n";
      if (first < 0) first = e.txid;
      last = e.txid;
      ++next;
      ++n;
    }
  }
  if (n == 0) {
    out << "0 edits from txid " << o.from << "\n";
  } else {
    out << n << " edits, txids " << first << ".." << last << ", no gaps\n";
  }
  return 0;
}

}  // namespace qj::jn
