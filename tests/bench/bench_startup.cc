// Journalnode start-up time and resident memory with many edits on disk.
//
// The log is made the fast way with the journalnode's own segment code: a real writer
// formats the journal and commits a first segment (so the directory layout, VERSION and
// epoch files are the journalnode's own), the journalnode is stopped, and
// segments of 1M edits each are appended beside it with SegmentWriter (the same code the
// journalnode writes with, so the bytes match journalnode/FORMAT.md); the last one is left
// in progress, as after a crash. Then the journalnode starts and we time until
// getJournalState reports the last txid on disk.
// The page cache is warm (we just wrote the files): dropping it would disturb everyone
// else on a shared machine. A cold start would add the read time of whatever is scanned.
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>

#include <filesystem>
#include <memory>
#include <thread>

#include "JournalProtocol.h"
#include "common/file_ops.h"
#include "journalnode/client/quorum_writer.h"
#include "journalnode/segment.h"
#include "tests/bench/bench_phases.h"
#include "tests/bench/bench_util.h"

namespace qj::bench {
namespace {

namespace fs = std::filesystem;
constexpr int64_t kFirstEdits = 10;         // written by the real writer
constexpr int64_t kSegmentEdits = 1000000;  // per generated segment

// Polls getJournalState until it answers with last_written == want (the journal is loaded
// and serving), or the deadline passes. Returns the journalnode's answer time in us.
Status WaitServing(int port, int64_t want, double deadline_us) {
  using apache::thrift::protocol::TBinaryProtocol;
  using apache::thrift::transport::TFramedTransport;
  using apache::thrift::transport::TSocket;
  std::string last_error = "no answer";
  while (NowUs() < deadline_us) {
    try {
      auto sock = std::make_shared<TSocket>("127.0.0.1", port);
      sock->setConnTimeout(1000);
      sock->setRecvTimeout(10000);
      sock->setNoDelay(true);
      auto tr = std::make_shared<TFramedTransport>(sock);
      qjournal::thrift::JournalProtocolClient c(std::make_shared<TBinaryProtocol>(tr));
      tr->open();
      qjournal::thrift::JournalState st;
      c.getJournalState(st, "bench");
      tr->close();
      if (st.lastWrittenTxId == want) return Status::OK();
      last_error = "lastWrittenTxId " + std::to_string(st.lastWrittenTxId) + ", want " +
                   std::to_string(want);
    } catch (const std::exception& e) {
      last_error = e.what();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return Status::TimedOut("bench: journalnode on port " + std::to_string(port) +
                          " not serving: " + last_error);
}

Result<std::string> FindSegmentDir(const std::string& root, const std::string& name) {
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.path().filename() == name) return e.path().parent_path().string();
  }
  return Status::NotFound("bench: no " + name + " under " + root);
}

// Writes segments holding txids [first, last]; all finalized but the last, which stays in
// progress (preallocated tail of zeros) as after a crash, so start-up has to scan it.
Status Generate(const std::string& dir, int64_t first, int64_t last, int payload) {
  const std::string data(static_cast<size_t>(payload), 'g');
  constexpr int64_t kChunk = 8192;
  std::string buf;
  for (int64_t start = first; start <= last; start += kSegmentEdits) {
    int64_t end = std::min(last, start + kSegmentEdits - 1);
    auto w = jn::SegmentWriter::Create(FileOps::Posix(), dir, start, 1u << 20);
    QJ_RETURN_IF_ERROR(w.status());
    for (int64_t t = start; t <= end; t += kChunk) {
      int64_t n = std::min(kChunk, end - t + 1);
      buf.clear();
      for (int64_t i = 0; i < n; i++) AppendRecord(&buf, t + i, 1, data);
      QJ_RETURN_IF_ERROR((*w)->Append(buf, t, n));
    }
    if (end < last) QJ_RETURN_IF_ERROR((*w)->Finalize());
  }
  return Status::OK();
}

Status StartupWith(const BenchOptions& o, int64_t edits) {
  const std::string root = o.work_dir + "/startup-" + std::to_string(edits);
  BenchJournalnodes jns(root, 1, o.pid_file, o.jn_extra_flags);
  QJ_RETURN_IF_ERROR(jns.Start(30000));
  jn::QuorumOptions qo;
  qo.journalnodes = jns.hostports();
  qo.journal_id = "bench";
  qo.name = "bench-startup";
  jn::NamespaceInfo ns;
  ns.namespace_id = 4711;
  ns.cluster_id = "bench";
  QJ_RETURN_IF_ERROR(jn::FormatJournal(qo, ns, false));
  {
    auto w = jn::QuorumWriter::Open(qo, ns);
    QJ_RETURN_IF_ERROR(w.status());
    int64_t t = (*w)->last_txid();
    QJ_RETURN_IF_ERROR((*w)->StartSegment(t + 1));
    for (int64_t i = 0; i < kFirstEdits; i++) QJ_RETURN_IF_ERROR((*w)->Append(++t, 1, "first"));
    QJ_RETURN_IF_ERROR((*w)->FinalizeSegment());
    (*w)->Close();
  }
  jns.StopOne(0);
  QJ_ASSIGN_OR_RETURN(std::string dir,
                      FindSegmentDir(jns.edits_dir(0), jn::FinalizedName(1, kFirstEdits)));
  double g0 = NowUs();
  QJ_RETURN_IF_ERROR(Generate(dir, kFirstEdits + 1, edits, o.startup_payload));
  double gen_s = (NowUs() - g0) / 1e6;
  uint64_t bytes = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file()) bytes += e.file_size();
  }

  double t0 = NowUs();
  QJ_RETURN_IF_ERROR(jns.StartOne(0, 60000));
  double port_ms = (NowUs() - t0) / 1e3;
  QJ_RETURN_IF_ERROR(WaitServing(jns.port(0), edits, t0 + 300e6));
  double ready_ms = (NowUs() - t0) / 1e3;
  double cpu_us = ProcCpuUs(jns.pid(0));
  int64_t rss = ProcRssKib(jns.pid(0));
  BenchLine("jn_startup")
      .Add("payload", o.startup_payload)
      .Add("nodes", 1)
      .Add("cores", Cores())
      .Add("ops", edits)
      .AddFixed("value", ready_ms, 1)
      .Add("unit", "ms")
      .AddFixed("port_open_ms", port_ms, 1)
      .AddFixed("disk_MB", static_cast<double>(bytes) / 1e6, 1)
      .Add("page_cache", "warm")
      .AddFixed("cpu_us_per_op", cpu_us / static_cast<double>(edits), 4)
      .AddFixed("cpu_ms", cpu_us / 1e3, 1)
      .Add("in_progress_edits", std::min(edits - kFirstEdits, kSegmentEdits))
      .AddFixed("generate_s", gen_s, 1)
      .Print();
  BenchLine("jn_rss")
      .Add("payload", o.startup_payload)
      .Add("nodes", 1)
      .Add("cores", Cores())
      .Add("ops", edits)
      .Add("value", rss)
      .Add("unit", "KiB")
      .AddFixed("cpu_us_per_op", cpu_us / static_cast<double>(edits), 4)
      .Print();
  jns.Stop();
  std::error_code ec;
  fs::remove_all(root, ec);  // up to ~1 GB per size: free it before the next one
  return Status::OK();
}

}  // namespace

Status RunStartupFigures(const BenchOptions& o) {
  // First with only the writer's segment on disk: the baseline for memory growth.
  QJ_RETURN_IF_ERROR(StartupWith(o, kFirstEdits));
  for (int64_t edits : o.startup_edits) {
    if (edits > kFirstEdits) QJ_RETURN_IF_ERROR(StartupWith(o, edits));
  }
  return Status::OK();
}

}  // namespace qj::bench
