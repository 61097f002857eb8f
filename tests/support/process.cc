#include "tests/support/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <glog/logging.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#ifndef QJ_BINARY_DIR
#error "QJ_BINARY_DIR must be defined by the build"
#endif

namespace qj::testing {

std::string BinaryPath(const std::string& relative) {
  // QJ_TEST_BINARY_DIR runs the tests against daemons of another build tree (e.g. to
  // check that a new test fails on the old code).
  const char* other = getenv("QJ_TEST_BINARY_DIR");
  if (other != nullptr && *other != '\0') return std::string(other) + "/" + relative;
  return std::string(QJ_BINARY_DIR) + "/" + relative;
}

TempDir::TempDir(const std::string& prefix) {
  const char* base = getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/" + prefix + ".XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  CHECK(mkdtemp(buf.data()) != nullptr) << "mkdtemp " << tmpl;
  path_ = buf.data();
}

TempDir::~TempDir() {
  if (getenv("QJ_KEEP_TEST_DIRS") == nullptr) {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
}

std::vector<int> PickFreePorts(int count) {
  std::vector<int> ports;
  std::vector<int> fds;
  while (static_cast<int>(ports.size()) < count) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_GE(fd, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    CHECK_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    socklen_t len = sizeof(a);
    CHECK_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
    ports.push_back(ntohs(a.sin_port));
    fds.push_back(fd);  // keep bound so the next pick differs
  }
  for (int fd : fds) close(fd);
  return ports;
}

Process::~Process() {
  if (pid_ > 0) Kill();
}

void Process::Start(const std::vector<std::string>& argv, const std::string& log_path) {
  CHECK(!argv.empty());
  CHECK(pid_ <= 0) << "already running: " << argv_[0];
  argv_ = argv;
  log_path_ = log_path;
  pid_t pid = fork();
  CHECK_GE(pid, 0) << "fork";
  if (pid == 0) {
    int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  pid_ = pid;
}

void Process::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int st;
  waitpid(pid_, &st, 0);
  pid_ = -1;
}

void Process::Terminate() {
  if (pid_ <= 0) return;
  kill(pid_, SIGCONT);
  kill(pid_, SIGTERM);
  if (Wait(10000) == -1 && pid_ > 0) Kill();
}

namespace {

// True when every thread of `pid` is in the stopped state ('T' in /proc/<pid>/task/*/stat).
bool AllThreadsStopped(pid_t pid) {
  std::error_code ec;
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  bool any = false;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::ifstream in(entry.path() / "stat");
    std::stringstream buf;
    buf << in.rdbuf();
    const std::string stat = buf.str();
    const size_t paren = stat.rfind(')');
    if (paren == std::string::npos || paren + 2 >= stat.size()) continue;  // thread exited
    if (stat[paren + 2] != 'T') return false;
    any = true;
  }
  return !ec && any;
}

}  // namespace

void Process::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGSTOP);
  // kill() returns before the stop takes effect: a thread that is running (or about to
  // run) on another CPU keeps going until it next enters the kernel, and may still answer
  // a call. Callers take "paused from now on" to mean no thread runs any more.
  if (!WaitFor([&] { return AllThreadsStopped(pid_); }, 10000)) {
    LOG(WARNING) << "process " << pid_ << " not seen stopped 10 s after SIGSTOP";
  }
}

void Process::Continue() {
  if (pid_ > 0) kill(pid_, SIGCONT);
}

int Process::Wait(int timeout_ms) {
  if (pid_ <= 0) return -1;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    int st = 0;
    pid_t r = waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    }
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void Process::Restart() {
  CHECK(!argv_.empty());
  if (pid_ > 0) Kill();
  Start(std::vector<std::string>(argv_), std::string(log_path_));
}

bool WaitFor(const std::function<bool()>& cond, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

bool WaitForPort(int port, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    int rc = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    close(fd);
    if (rc == 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

int RunCommand(const std::vector<std::string>& argv, std::string* output, int timeout_ms) {
  int pipefd[2];
  CHECK_EQ(pipe(pipefd), 0);
  pid_t pid = fork();
  CHECK_GE(pid, 0);
  if (pid == 0) {
    dup2(pipefd[1], 1);
    dup2(pipefd[1], 2);
    close(pipefd[0]);
    close(pipefd[1]);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(pipefd[1]);
  fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::string out;
  int status = 0;
  bool done = false;
  while (!done) {
    char buf[4096];
    ssize_t n;
    while ((n = read(pipefd[0], buf, sizeof(buf))) > 0) out.append(buf, n);
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      while ((n = read(pipefd[0], buf, sizeof(buf))) > 0) out.append(buf, n);
      done = true;
    } else if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      close(pipefd[0]);
      if (output) *output = out + "\n<timed out>";
      return -1;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  close(pipefd[0]);
  if (output) *output = out;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace qj::testing
