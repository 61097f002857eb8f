#include "failover/rpc_util.h"

#include <glog/logging.h>
#include <signal.h>
#include <thrift/TOutput.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>

namespace qj::fo {

void QuietThriftLogging() {
  static std::once_flag once;
  std::call_once(once, [] {
    apache::thrift::GlobalOutput.setOutputFunction(
        [](const char* msg) { VLOG(1) << "thrift: " << msg; });
  });
}

bool ProcessIsGone(pid_t pid) {
  if (pid <= 0) return false;
  return kill(pid, 0) != 0 && errno == ESRCH;
}

bool IsLocalHost(const std::string& host) {
  if (host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1") return true;
  char name[256] = {0};
  if (gethostname(name, sizeof(name) - 1) != 0) return false;
  return host == name;
}

}  // namespace qj::fo
