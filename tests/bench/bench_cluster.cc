#include "tests/bench/bench_cluster.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "common/file_util.h"

namespace qj::bench {

void PidFile::Add(pid_t pid) {
  pids_.push_back(pid);
  Write();
}

void PidFile::Remove(pid_t pid) {
  pids_.erase(std::remove(pids_.begin(), pids_.end(), pid), pids_.end());
  Write();
}

void PidFile::Write() {
  if (path_.empty()) return;
  std::ofstream out(path_, std::ios::trunc);
  for (pid_t p : pids_) out << p << "\n";
}

BenchJournalnodes::BenchJournalnodes(std::string root, int count, PidFile* pids,
                                     std::string extra_flags)
    : root_(std::move(root)), pid_file_(pids), extra_flags_(std::move(extra_flags)) {
  ports_ = qj::testing::PickFreePorts(count);
  for (int i = 0; i < count; i++) procs_.push_back(std::make_unique<qj::testing::Process>());
}

BenchJournalnodes::~BenchJournalnodes() { Stop(); }

std::string BenchJournalnodes::edits_dir(int i) const {
  return root_ + "/jn" + std::to_string(i + 1);
}

std::string BenchJournalnodes::log_path(int i) const {
  return root_ + "/jn" + std::to_string(i + 1) + ".log";
}

Status BenchJournalnodes::StartOne(int i, int timeout_ms) {
  QJ_RETURN_IF_ERROR(CreateDirs(edits_dir(i)));
  std::vector<std::string> argv = {
      qj::testing::BinaryPath("journalnode/journalnode"),
      "--journalnode_name=jn" + std::to_string(i + 1),
      "--journalnode_rpc_port=" + std::to_string(ports_[i]),
      "--journalnode_edits_dir=" + edits_dir(i),
      "--logtostderr=1",
  };
  std::istringstream extra(extra_flags_);
  for (std::string f; extra >> f;) argv.push_back(f);
  procs_[i]->Start(argv, log_path(i));
  pid_file_->Add(procs_[i]->pid());
  if (!qj::testing::WaitForPort(ports_[i], timeout_ms)) {
    StopOne(i);
    return Status::IOError("bench: jn" + std::to_string(i + 1) + " did not open port " +
                           std::to_string(ports_[i]) + " within " + std::to_string(timeout_ms) +
                           " ms; see " + log_path(i));
  }
  return Status::OK();
}

Status BenchJournalnodes::Start(int timeout_ms) {
  for (int i = 0; i < count(); i++) QJ_RETURN_IF_ERROR(StartOne(i, timeout_ms));
  return Status::OK();
}

void BenchJournalnodes::StopOne(int i) {
  pid_t pid = procs_[i]->pid();
  if (pid <= 0) return;
  procs_[i]->Terminate();
  pid_file_->Remove(pid);
}

void BenchJournalnodes::Stop() {
  for (int i = 0; i < count(); i++) StopOne(i);
}

std::vector<HostPort> BenchJournalnodes::hostports() const {
  std::vector<HostPort> out;
  for (int p : ports_) out.push_back(HostPort{"127.0.0.1", p});
  return out;
}

std::vector<pid_t> BenchJournalnodes::pids() const {
  std::vector<pid_t> out;
  for (const auto& p : procs_) {
    if (p->pid() > 0) out.push_back(p->pid());
  }
  return out;
}

}  // namespace qj::bench
