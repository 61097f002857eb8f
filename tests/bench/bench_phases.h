// The figures of qjournal-bench, one function per group. Each prints BENCH lines
// (bench_util.h) and returns a non-OK Status if the system under test failed (a write not
// committed, a daemon that did not start): a benchmark never prints a figure for work that
// did not complete.
//
// Thread-safety: called one at a time from the benchmark's main thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "tests/bench/bench_cluster.h"

namespace qj::bench {

struct BenchOptions {
  std::string work_dir;  // every daemon's directory lives under it
  PidFile* pid_file = nullptr;
  std::string jn_extra_flags;
  std::vector<int> payloads = {64, 256, 1024};
  int64_t commit_ops = 200000;  // per payload
  int64_t latency_ops = 5000;   // sequential single edits
  double tail_seconds = 5;      // tailing-lag run
  int64_t tail_poll_us = 1000;  // reader's sleep when nothing new is committed
  double tail_fraction = 0.5;   // load of the tailing run, a fraction of the 256-byte peak
  std::vector<int64_t> startup_edits = {1000000, 10000000};
  int startup_payload = 64;
  int64_t floor_ops = 1000;  // 4 KiB write + fdatasync samples
  int64_t rtt_ops = 20000;   // loopback round trips
  std::vector<int> nn_clients = {1, 16, 64, 256};
  int64_t nn_ops = 20000;  // per op kind and client count
};

// Write path on `nodes` journalnodes: commit rate per payload, batch sizes, single-edit
// latency, and the tailing lag of a QuorumReader at half of the 256-byte peak rate.
Status RunJournalFigures(const BenchOptions& o, int nodes);

// Disk floor (4 KiB pwrite + fdatasync in dir, preallocated file) and loopback TCP RTT.
Status RunFloorFigures(const BenchOptions& o, const std::string& dir);

// Journalnode start-up time and VmRSS with o.startup_edits edits on disk.
Status RunStartupFigures(const BenchOptions& o);

// Namenode mkdirs/creates per second with o.nn_clients concurrent RPC clients.
Status RunNamenodeFigures(const BenchOptions& o, int nodes);

}  // namespace qj::bench
