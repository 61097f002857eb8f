// Helpers shared by the security tests: typed-exception probes over real Thrift
// connections, and process facts read from /proc.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <typeinfo>

#include "common/cluster_config.h"
#include "common/rpc/rpc.h"

namespace qj::testing {

// VmRSS of a running process in KiB, or -1 if it cannot be read (process gone).
inline int64_t ReadRssKb(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

// Threads of a running process, or -1.
inline int64_t ReadThreads(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::stoll(line.substr(8));
  }
  return -1;
}

// Open descriptors of a running process, or -1.
inline int64_t CountFds(pid_t pid) {
  std::error_code ec;
  int64_t n = 0;
  for (std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end;
       !ec && it != end; it.increment(ec)) {
    ++n;
  }
  return ec ? -1 : n;
}

// The soft "Max open files" limit of a running process, or -1.
inline int64_t ReadSoftNofile(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/limits");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("Max open files", 0) == 0) return std::stoll(line.substr(26));
  }
  return -1;
}

// What one call ended with: ok, a typed exception (its `code` field, -1 when unset, and
// message), or another Thrift failure (transport, application exception).
struct Outcome {
  bool ok = false;
  std::string exception;  // type name, "" when ok
  int code = -1;
  std::string message;
  std::string ToString() const {
    return ok ? "ok" : exception + "(code=" + std::to_string(code) + "): " + message;
  }
};

// Runs fn(client) on a fresh connection to hp; E... are the typed exceptions (each with
// `message` and an optional `code`) the call may throw.
template <typename Client, typename... E, typename Fn>
Outcome CallTyped(const HostPort& hp, int64_t timeout_ms, Fn fn) {
  rpc::Client<Client> conn(hp, rpc::ClientOptions::WithTimeout(timeout_ms));
  Outcome out;
  auto c = conn.Get();
  if (!c.ok()) {
    out.exception = "connect";
    out.message = c.status().ToString();
    return out;
  }
  try {
    fn(**c);
    out.ok = true;
    return out;
  } catch (const apache::thrift::TException& e) {
    bool matched = false;
    (
        [&] {
          if (matched) return;
          if (auto* typed = dynamic_cast<const E*>(&e)) {
            matched = true;
            out.exception = typeid(E).name();
            out.message = typed->message;
            out.code = typed->__isset.code ? static_cast<int>(typed->code) : -1;
          }
        }(),
        ...);
    if (!matched) {
      out.exception = "TException";
      out.message = e.what();
    }
  }
  return out;
}

}  // namespace qj::testing
