// Real daemons for a benchmark run: N journalnodes on 127.0.0.1, each with its own edits
// directory under a root directory, started from the build tree and stopped by PID.
//
// Every PID started is listed in `pid_file` (one per line) while it runs, so that
// scripts/bench.sh can stop what a crashed benchmark left behind; a clean stop removes it.
// Thread-compatible: one thread starts and stops them.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "common/cluster_config.h"
#include "common/status.h"
#include "tests/support/process.h"

namespace qj::bench {

// Records and forgets daemon PIDs in a file (no-op when the path is empty).
class PidFile {
 public:
  explicit PidFile(std::string path) : path_(std::move(path)) {}
  void Add(pid_t pid);
  void Remove(pid_t pid);

 private:
  void Write();
  std::string path_;
  std::vector<pid_t> pids_;
};

class BenchJournalnodes {
 public:
  // extra_flags: appended to every journalnode's command line (space separated).
  BenchJournalnodes(std::string root, int count, PidFile* pids, std::string extra_flags);
  ~BenchJournalnodes();

  // Starts every journalnode and waits until each accepts TCP connections.
  [[nodiscard]] Status Start(int timeout_ms);
  [[nodiscard]] Status StartOne(int i, int timeout_ms);
  // SIGTERM (then SIGKILL after 10 s) by PID, and reap.
  void StopOne(int i);
  void Stop();

  int count() const { return static_cast<int>(ports_.size()); }
  std::vector<HostPort> hostports() const;
  std::vector<pid_t> pids() const;
  pid_t pid(int i) const { return procs_[i]->pid(); }
  int port(int i) const { return ports_[i]; }
  std::string edits_dir(int i) const;
  std::string log_path(int i) const;

 private:
  const std::string root_;
  PidFile* const pid_file_;
  const std::string extra_flags_;
  std::vector<int> ports_;
  std::vector<std::unique_ptr<qj::testing::Process>> procs_;
};

}  // namespace qj::bench
