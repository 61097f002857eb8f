#include "failover/process_probe.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>

namespace qj::fo {

namespace {

// The state letter of /proc/<pid>/stat ('R', 'S', 'Z', ...), or 0 if it cannot be read.
// The command name (field 2) is in parentheses and may hold spaces or ')': the state is
// the first field after the last ')'.
char ProcState(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string stat = buf.str();
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return 0;
  return stat[paren + 2];
}

}  // namespace

bool ProcessIsGone(pid_t pid) {
  if (pid <= 0) return false;
  if (kill(pid, 0) != 0) return errno == ESRCH;
  // kill(pid, 0) succeeds on a zombie (dead, not yet reaped by its parent): it will never
  // answer again, so it is gone. 'X' (dead) is seen only briefly, but means the same.
  const char state = ProcState(pid);
  return state == 'Z' || state == 'X';
}

bool IsLocalHost(const std::string& host) {
  if (host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1") return true;
  char name[256] = {0};
  if (gethostname(name, sizeof(name) - 1) != 0) return false;
  return host == name;
}

}  // namespace qj::fo
