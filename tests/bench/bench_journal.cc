// The write-path figures: commit rate, batch sizes, single-edit latency, tailing lag.
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "journalnode/client/quorum_writer.h"
#include "tests/bench/bench_phases.h"
#include "tests/bench/bench_util.h"

namespace qj::bench {
namespace {

constexpr uint16_t kBenchOp = 1;
constexpr int64_t kWaitMs = 120000;

struct Run {
  const BenchOptions& o;
  int nodes;
  BenchJournalnodes* jns;
  jn::QuorumWriter* w;
  int64_t txid = 0;  // last appended
};

BenchLine Line(const Run& r, const std::string& name, int payload, int64_t ops) {
  BenchLine l(name);
  l.Add("payload", payload).Add("nodes", r.nodes).Add("cores", Cores()).Add("ops", ops);
  return l;
}

// Rolls to a fresh segment so that each figure writes a segment of its own.
Status Roll(Run* r) {
  QJ_RETURN_IF_ERROR(r->w->FinalizeSegment());
  return r->w->StartSegment(r->txid + 1);
}

// Appends `ops` edits as fast as the writer takes them, then waits for the last to commit.
Status CommitRate(Run* r, int payload, int64_t ops, bool print, double* rate) {
  const std::string data(static_cast<size_t>(payload), 'e');
  jn::WriterStats s0 = r->w->stats();
  CpuMeter cpu(r->jns->pids());
  cpu.Start();
  double t0 = NowUs();
  for (int64_t i = 0; i < ops; i++) QJ_RETURN_IF_ERROR(r->w->Append(++r->txid, kBenchOp, data));
  QJ_RETURN_IF_ERROR(r->w->WaitCommitted(r->txid, kWaitMs));
  double us = NowUs() - t0;
  double cpu_us = cpu.Elapsed();
  jn::WriterStats s1 = r->w->stats();
  *rate = static_cast<double>(ops) / (us / 1e6);
  if (!print) return Status::OK();
  Line(*r, "commit_rate", payload, ops)
      .AddFixed("value", *rate, 0)
      .Add("unit", "edits/s")
      .AddFixed("cpu_us_per_op", cpu_us / static_cast<double>(ops), 2)
      .AddFixed("MB_per_s", static_cast<double>(ops) * payload / us, 1)
      .Print();

  // Batch sizes chosen by the writer during this run.
  int64_t batches = s1.batches - s0.batches, edits = s1.edits - s0.edits;
  std::vector<int64_t> hist(s1.batch_size_log2_histogram.size(), 0);
  for (size_t i = 0; i < hist.size(); i++) {
    hist[i] = s1.batch_size_log2_histogram[i] -
              (i < s0.batch_size_log2_histogram.size() ? s0.batch_size_log2_histogram[i] : 0);
  }
  // p99 is known to a power of two: report the bucket [2^i, 2^(i+1)) holding it.
  int64_t seen = 0, p99_lo = 0;
  for (size_t i = 0; i < hist.size(); i++) {
    seen += hist[i];
    if (batches > 0 && seen >= static_cast<int64_t>(std::ceil(0.99 * batches))) {
      p99_lo = int64_t{1} << i;
      break;
    }
  }
  Line(*r, "batch_size", payload, ops)
      .AddFixed("value", batches ? static_cast<double>(edits) / batches : 0, 1)
      .Add("unit", "edits/batch")
      .Add("batches", batches)
      .Add("p99_bucket_lo", p99_lo)
      .Add("p99_bucket_hi", p99_lo * 2 - 1)
      .AddFixed("cpu_us_per_op", cpu_us / static_cast<double>(ops), 2)
      .Print();
  return Status::OK();
}

// One edit at a time: Append then WaitCommitted.
Status Latency(Run* r, int64_t ops) {
  const std::string data(256, 'l');
  std::vector<double> lat;
  lat.reserve(static_cast<size_t>(ops));
  CpuMeter cpu(r->jns->pids());
  cpu.Start();
  for (int64_t i = 0; i < ops; i++) {
    double t0 = NowUs();
    QJ_RETURN_IF_ERROR(r->w->Append(++r->txid, kBenchOp, data));
    QJ_RETURN_IF_ERROR(r->w->WaitCommitted(r->txid, kWaitMs));
    lat.push_back(NowUs() - t0);
  }
  double cpu_us = cpu.Elapsed();
  double p50 = Percentile(&lat, 0.5), p99 = Percentile(&lat, 0.99), p999 = Percentile(&lat, 0.999);
  Line(*r, "edit_latency", 256, ops)
      .AddFixed("value", p50, 0)
      .Add("unit", "us")
      .AddFixed("p50_us", p50, 0)
      .AddFixed("p99_us", p99, 0)
      .AddFixed("p999_us", p999, 0)
      .AddFixed("cpu_us_per_op", cpu_us / static_cast<double>(ops), 2)
      .Print();
  return Status::OK();
}

// How fast one QuorumReader reads back committed edits (the tailer's ceiling): the last
// `ops` edits, in reads of up to 10000, as a standby catching up would.
Status ReadRate(Run* r, int64_t ops, int payload) {
  jn::QuorumOptions qo;
  qo.journalnodes = r->jns->hostports();
  qo.journal_id = "bench";
  qo.name = "bench-reader";
  std::unique_ptr<jn::QuorumReader> reader = jn::QuorumReader::Create(qo);
  const int64_t first = std::max<int64_t>(1, r->txid - ops + 1);
  // Journalnodes learn the last commit point from the writer's next call or idle
  // heartbeat (heartbeat_interval_ms): wait for it before timing the reads.
  const double wait_until = NowUs() + 5e6;
  while (true) {
    Result<int64_t> committed = reader->CommittedTxId();
    if (committed.ok() && *committed >= r->txid) break;
    if (NowUs() > wait_until) {
      return Status::TimedOut("bench: journalnodes did not learn commit point " +
                              std::to_string(r->txid) + " within 5 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  CpuMeter cpu(r->jns->pids());
  cpu.Start();
  double t0 = NowUs();
  int64_t from = first;
  while (from <= r->txid) {
    Result<std::vector<EditRecord>> got = reader->ReadCommitted(from, 10000);
    QJ_RETURN_IF_ERROR(got.status());
    if (got->empty()) {
      return Status::IllegalState("bench: reader found nothing at committed txid " +
                                  std::to_string(from));
    }
    from += static_cast<int64_t>(got->size());
  }
  double us = NowUs() - t0;
  const int64_t n = r->txid - first + 1;
  Line(*r, "read_rate", payload, n)
      .AddFixed("value", static_cast<double>(n) / (us / 1e6), 0)
      .Add("unit", "edits/s")
      .AddFixed("cpu_us_per_op", cpu.Elapsed() / static_cast<double>(n), 2)
      .Print();
  return Status::OK();
}

// What the namenode does per mutation, without the namenode: `clients` threads, each
// appending one edit under a shared lock (txid order) and then waiting for its commit.
// Shows how well the writer and journalnodes group-commit concurrent synchronous callers.
Status GroupCommit(Run* r, int clients, int64_t ops) {
  const int64_t per = std::max<int64_t>(1, ops / clients);
  const std::string data(128, 'c');
  std::mutex append_mu;
  std::atomic<bool> failed{false};
  std::mutex fail_mu;
  Status failure;  // GUARDED_BY(fail_mu)
  jn::WriterStats s0 = r->w->stats();
  CpuMeter cpu(r->jns->pids());
  cpu.Start();
  double t0 = NowUs();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; c++) {
    threads.emplace_back([&] {
      for (int64_t i = 0; i < per && !failed; i++) {
        int64_t txid;
        Status s;
        {
          std::lock_guard<std::mutex> l(append_mu);
          txid = ++r->txid;
          s = r->w->Append(txid, kBenchOp, data);
        }
        if (s.ok()) s = r->w->WaitCommitted(txid, kWaitMs);
        if (!s.ok()) {
          std::lock_guard<std::mutex> l(fail_mu);
          failure = s;
          failed = true;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  double us = NowUs() - t0;
  if (failed) {
    std::lock_guard<std::mutex> l(fail_mu);
    return failure;
  }
  jn::WriterStats s1 = r->w->stats();
  const int64_t n = per * clients;
  const int64_t batches = s1.batches - s0.batches;
  Line(*r, "group_commit", 128, n)
      .AddFixed("value", static_cast<double>(n) / (us / 1e6), 0)
      .Add("unit", "edits/s")
      .Add("clients", clients)
      .AddFixed("edits_per_batch", batches ? static_cast<double>(s1.edits - s0.edits) / batches : 0,
                1)
      .AddFixed("cpu_us_per_op", cpu.Elapsed() / static_cast<double>(n), 2)
      .Print();
  return Status::OK();
}

// Edits appended at `rate`/s for o.tail_seconds; a waiter thread stamps when each commits
// (WaitCommitted in txid order), a tailer thread (QuorumReader) stamps when it reads it.
Status TailLag(Run* r, double rate) {
  const int64_t n = std::max<int64_t>(100, static_cast<int64_t>(rate * r->o.tail_seconds));
  const int64_t first = r->txid + 1, last = r->txid + n;
  const std::string data(256, 't');
  std::vector<double> appended(n, 0), committed(n, 0), read(n, 0);
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::string failure;  // GUARDED_BY(mu)
  auto fail = [&](const std::string& why) {
    std::lock_guard<std::mutex> l(mu);
    if (failure.empty()) failure = why;
    failed = true;
  };

  jn::QuorumOptions qo;
  qo.journalnodes = r->jns->hostports();
  qo.journal_id = "bench";
  qo.name = "bench-tailer";
  std::unique_ptr<jn::QuorumReader> reader = jn::QuorumReader::Create(qo);

  CpuMeter cpu(r->jns->pids());
  cpu.Start();
  // The last txid appended so far: WaitCommitted accepts only appended txids.
  std::atomic<int64_t> appended_last{r->txid};
  std::condition_variable appended_cv;  // notified by the pacing loop after each burst
  std::thread waiter([&] {
    for (int64_t t = first; t <= last && !failed; t++) {
      if (appended_last < t) {
        std::unique_lock<std::mutex> l(mu);
        appended_cv.wait_for(l, std::chrono::milliseconds(100),
                             [&] { return appended_last >= t || failed; });
        if (appended_last < t) {
          t--;  // not appended yet: wait again
          continue;
        }
      }
      Status s = r->w->WaitCommitted(t, kWaitMs);
      if (!s.ok()) {
        fail("waiter: " + s.ToString());
        return;
      }
      committed[t - first] = NowUs();
    }
  });
  std::thread tailer([&] {
    int64_t from = first;
    double deadline = NowUs() + (r->o.tail_seconds + 60) * 1e6;
    while (from <= last && !failed) {
      Result<std::vector<EditRecord>> got = reader->ReadCommitted(from, 10000);
      double now = NowUs();
      if (!got.ok() || now > deadline) {
        fail("tailer: " + (got.ok() ? std::string("deadline passed") : got.status().ToString()));
        return;
      }
      for (const EditRecord& e : *got) {
        if (e.txid != from) {
          fail("tailer: expected txid " + std::to_string(from) + ", read " +
               std::to_string(e.txid));
          return;
        }
        if (e.txid <= last) read[e.txid - first] = now;
        from++;
      }
      if (got->empty()) std::this_thread::sleep_for(std::chrono::microseconds(r->o.tail_poll_us));
    }
  });

  // Pace the appends: every 0.5 ms append what is due by now.
  Status st;
  double t0 = NowUs();
  for (int64_t i = 0; i < n && st.ok() && !failed;) {
    int64_t due = std::min<int64_t>(n, static_cast<int64_t>((NowUs() - t0) / 1e6 * rate) + 1);
    for (; i < due && st.ok(); i++) {
      appended[i] = NowUs();
      st = r->w->Append(++r->txid, kBenchOp, data);
    }
    {
      std::lock_guard<std::mutex> l(mu);
      appended_last = r->txid;
    }
    appended_cv.notify_all();
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  if (!st.ok()) failed = true;
  appended_cv.notify_all();
  waiter.join();
  tailer.join();
  if (!st.ok()) return st;
  if (failed) {
    std::lock_guard<std::mutex> l(mu);
    return Status::IOError("bench: tailing run failed: " + failure);
  }
  double cpu_us = cpu.Elapsed();

  std::vector<double> commit_to_read, append_to_read;
  for (int64_t i = 0; i < n; i++) {
    commit_to_read.push_back(std::max(0.0, read[i] - committed[i]));
    append_to_read.push_back(read[i] - appended[i]);
  }
  double p50 = Percentile(&commit_to_read, 0.5), p99 = Percentile(&commit_to_read, 0.99);
  Line(*r, "tail_lag", 256, n)
      .AddFixed("value", p99 / 1000, 2)
      .Add("unit", "ms_p99")
      .AddFixed("p50_ms", p50 / 1000, 2)
      .AddFixed("p99_ms", p99 / 1000, 2)
      .AddFixed("append_to_read_p50_ms", Percentile(&append_to_read, 0.5) / 1000, 2)
      .AddFixed("append_to_read_p99_ms", Percentile(&append_to_read, 0.99) / 1000, 2)
      .AddFixed("rate", rate, 0)
      .Add("applied_by", "quorum_reader")
      .AddFixed("cpu_us_per_op", cpu_us / static_cast<double>(n), 2)
      .Print();
  return Status::OK();
}

}  // namespace

Status RunJournalFigures(const BenchOptions& o, int nodes) {
  BenchJournalnodes jns(o.work_dir + "/write" + std::to_string(nodes), nodes, o.pid_file,
                        o.jn_extra_flags);
  QJ_RETURN_IF_ERROR(jns.Start(30000));
  jn::QuorumOptions qo;
  qo.journalnodes = jns.hostports();
  qo.journal_id = "bench";
  qo.name = "bench";
  jn::NamespaceInfo ns;
  ns.namespace_id = 4711;
  ns.cluster_id = "bench";
  QJ_RETURN_IF_ERROR(jn::FormatJournal(qo, ns, /*force=*/false));
  auto opened = jn::QuorumWriter::Open(qo, ns);
  QJ_RETURN_IF_ERROR(opened.status());
  std::unique_ptr<jn::QuorumWriter> w = std::move(opened).value();
  Run r{o, nodes, &jns, w.get(), w->last_txid()};
  QJ_RETURN_IF_ERROR(w->StartSegment(r.txid + 1));

  double rate = 0, peak256 = 0;
  // Warm up connections, allocator and page cache; not printed.
  QJ_RETURN_IF_ERROR(CommitRate(&r, 256, std::max<int64_t>(1000, o.commit_ops / 10), false, &rate));
  for (int payload : o.payloads) {
    QJ_RETURN_IF_ERROR(Roll(&r));
    QJ_RETURN_IF_ERROR(CommitRate(&r, payload, o.commit_ops, true, &rate));
    if (payload == 256) peak256 = rate;
  }
  if (peak256 == 0) {
    QJ_RETURN_IF_ERROR(CommitRate(&r, 256, o.commit_ops, false, &peak256));
  }
  QJ_RETURN_IF_ERROR(r.w->WaitCommitted(r.txid, kWaitMs));
  QJ_RETURN_IF_ERROR(ReadRate(&r, o.commit_ops, o.payloads.empty() ? 256 : o.payloads.back()));
  QJ_RETURN_IF_ERROR(Roll(&r));
  QJ_RETURN_IF_ERROR(Latency(&r, o.latency_ops));
  for (int clients : o.nn_clients) {
    QJ_RETURN_IF_ERROR(Roll(&r));
    QJ_RETURN_IF_ERROR(GroupCommit(&r, clients, o.nn_ops));
  }
  QJ_RETURN_IF_ERROR(Roll(&r));
  QJ_RETURN_IF_ERROR(TailLag(&r, peak256 * o.tail_fraction));
  QJ_RETURN_IF_ERROR(w->FinalizeSegment());
  w->Close();
  jns.Stop();
  return Status::OK();
}

}  // namespace qj::bench
