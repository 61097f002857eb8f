// Test support: start real daemons on 127.0.0.1 and kill / pause / resume them by PID.
// Every child is in its own process group is NOT used: we signal only the PID we
// started. The destructor SIGKILLs a still-running child and reaps it.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace qj::testing {

// Absolute path of a binary built into the build tree (QJ_BINARY_DIR, set by CMake), or
// under $QJ_TEST_BINARY_DIR when that is set.
std::string BinaryPath(const std::string& relative);

// A fresh directory under $TMPDIR (or /tmp), removed by the destructor.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "qjtest");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Finds `count` distinct free TCP ports on 127.0.0.1.
std::vector<int> PickFreePorts(int count);

class Process {
 public:
  Process() = default;
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // Starts argv[0] with argv; stdout and stderr go to log_path (appended).
  void Start(const std::vector<std::string>& argv, const std::string& log_path);
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  void Kill();       // SIGKILL and reap
  void Terminate();  // SIGTERM, wait up to 10 s, then SIGKILL; reap
  // SIGSTOP; returns once every thread of the process is seen stopped (it keeps running
  // for a moment after kill() returns).
  void Stop();
  void Continue();  // SIGCONT
  // Waits for exit up to timeout_ms; returns the exit code, or -1 on timeout / signal.
  int Wait(int timeout_ms);
  // Restarts with the argv and log of the last Start().
  void Restart();

 private:
  pid_t pid_ = -1;
  std::vector<std::string> argv_;
  std::string log_path_;
};

// Polls cond every 10 ms until it holds (true) or timeout_ms passes (then one last try).
// The tests' way to wait for a condition instead of sleeping a fixed time.
bool WaitFor(const std::function<bool()>& cond, int timeout_ms);

// True once a TCP connect to 127.0.0.1:port succeeds, polling until timeout_ms.
bool WaitForPort(int port, int timeout_ms);

// Runs a command to completion; returns its exit code and captures stdout+stderr.
int RunCommand(const std::vector<std::string>& argv, std::string* output, int timeout_ms = 60000);

}  // namespace qj::testing
