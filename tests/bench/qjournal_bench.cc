// qjournal-bench: the journal figures against real daemons on 127.0.0.1.
//
//   qjournal-bench [--bench_figures=floor,journal,startup,namenode] [--bench_nodes=3,5] ...
//
// Starts every daemon it needs under --bench_work_dir (a fresh temp dir by default), stops
// them by PID, and prints one BENCH line per figure (tests/bench/bench_util.h). Exits
// non-zero on the first failure of the system under test. scripts/bench.sh runs it with
// presets (--quick, --smoke) and adds the peers and the ratios.
#include <gflags/gflags.h>
#include <glog/logging.h>

#include <iostream>
#include <set>
#include <sstream>

#include "common/cluster_config.h"
#include "common/rpc/rpc.h"
#include "tests/bench/bench_phases.h"
#include "tests/bench/bench_util.h"
#include "tests/support/process.h"

DEFINE_string(bench_figures, "floor,journal,startup,namenode",
              "Comma list of figure groups to run: floor, journal, startup, namenode.");
DEFINE_string(bench_nodes, "3,5", "Journalnode counts for the write-path figures.");
DEFINE_string(bench_payloads, "64,256,1024", "Edit payload sizes in bytes for commit rate.");
DEFINE_int64(bench_commit_ops, 200000, "Edits per payload size for the commit rate.");
DEFINE_int64(bench_latency_ops, 5000, "Sequential single edits for the latency figure.");
DEFINE_double(bench_tail_seconds, 5, "Duration of the tailing-lag run in seconds.");
DEFINE_int64(bench_tail_poll_us, 1000, "Tailer's sleep when nothing new is committed (us).");
DEFINE_double(bench_tail_fraction, 0.5, "Tailing-lag load as a fraction of the 256-byte peak.");
DEFINE_string(bench_startup_edits, "1000000,10000000",
              "Edits on disk for the journalnode start-up figures (comma list).");
DEFINE_int32(bench_startup_payload, 64, "Payload bytes of the generated start-up edits.");
DEFINE_int64(bench_floor_ops, 1000, "4 KiB write+fdatasync samples for the disk floor.");
DEFINE_int64(bench_rtt_ops, 20000, "Loopback round trips for the network floor.");
DEFINE_string(bench_nn_clients, "1,16,64,256", "Concurrent namenode clients (comma list).");
DEFINE_int64(bench_nn_ops, 20000, "Namenode operations per kind and client count.");
DEFINE_string(bench_work_dir, "", "Directory for the daemons' data (default: a fresh temp dir).");
DEFINE_string(bench_pid_file, "", "File listing the PIDs of running daemons (for cleanup).");
DEFINE_string(bench_jn_flags, "", "Extra flags for every journalnode (space separated).");
DEFINE_string(bench_tls_conf, "",
              "A cluster file with tls.enabled = true (3 journalnodes, certificates from "
              "scripts/make-certs.sh): journalnodes serve TLS and the writer connects as nn1.");

namespace {

template <typename T>
std::vector<T> ParseList(const std::string& s) {
  std::vector<T> out;
  std::istringstream in(s);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(static_cast<T>(std::stoll(item)));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage("qjournal-bench: the journal's figures against real daemons");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  FLAGS_logtostderr = true;
  google::InitGoogleLogging(argv[0]);

  std::unique_ptr<qj::testing::TempDir> tmp;
  std::string work = FLAGS_bench_work_dir;
  if (work.empty()) {
    tmp = std::make_unique<qj::testing::TempDir>("qjbench");
    work = tmp->path();
  }
  qj::bench::PidFile pid_file(FLAGS_bench_pid_file);
  qj::bench::BenchOptions o;
  o.work_dir = work;
  o.pid_file = &pid_file;
  o.jn_extra_flags = FLAGS_bench_jn_flags;
  if (!FLAGS_bench_tls_conf.empty()) {
    auto conf = qj::LoadClusterConfig(FLAGS_bench_tls_conf);
    if (!conf.ok()) {
      std::cerr << "qjournal-bench: " << conf.status() << "\n";
      return 2;
    }
    if (qj::Status st = qj::rpc::InitProcessTls(*conf, "nn1"); !st.ok()) {
      std::cerr << "qjournal-bench: " << st << "\n";
      return 2;
    }
    o.jn_extra_flags += " --cluster_conf=" + FLAGS_bench_tls_conf;
  }
  o.payloads = ParseList<int>(FLAGS_bench_payloads);
  o.commit_ops = FLAGS_bench_commit_ops;
  o.latency_ops = FLAGS_bench_latency_ops;
  o.tail_seconds = FLAGS_bench_tail_seconds;
  o.tail_poll_us = FLAGS_bench_tail_poll_us;
  o.tail_fraction = FLAGS_bench_tail_fraction;
  o.startup_edits = ParseList<int64_t>(FLAGS_bench_startup_edits);
  o.startup_payload = FLAGS_bench_startup_payload;
  o.floor_ops = FLAGS_bench_floor_ops;
  o.rtt_ops = FLAGS_bench_rtt_ops;
  o.nn_clients = ParseList<int>(FLAGS_bench_nn_clients);
  o.nn_ops = FLAGS_bench_nn_ops;

  std::set<std::string> figures;
  {
    std::istringstream in(FLAGS_bench_figures);
    for (std::string f; std::getline(in, f, ',');) figures.insert(f);
  }
  for (const std::string& f : figures) {
    if (f != "floor" && f != "journal" && f != "startup" && f != "namenode") {
      std::cerr << "qjournal-bench: unknown figure group '" << f << "'\n";
      return 2;
    }
  }
  std::vector<int> nodes = ParseList<int>(FLAGS_bench_nodes);
  LOG(INFO) << "bench: work dir " << work << ", " << qj::bench::Cores() << " cores";

  auto check = [](const qj::Status& s, const char* what) {
    if (s.ok()) return true;
    std::cerr << "qjournal-bench: " << what << " failed: " << s << "\n";
    return false;
  };
  if (figures.count("floor") && !check(qj::bench::RunFloorFigures(o, work), "floor")) return 1;
  if (figures.count("journal")) {
    for (int n : nodes) {
      if (!check(qj::bench::RunJournalFigures(o, n), "journal")) return 1;
    }
  }
  if (figures.count("startup") && !check(qj::bench::RunStartupFigures(o), "startup")) return 1;
  if (figures.count("namenode") &&
      !check(qj::bench::RunNamenodeFigures(o, nodes.empty() ? 3 : nodes.front()), "namenode")) {
    return 1;
  }
  return 0;
}
