// The "is the process certainly gone" probe of DESIGN §6: what failoverd takes as proof
// that its namenode's process no longer exists (and so cannot be serving).
//
// Thread-safe.
#pragma once

#include <sys/types.h>

#include <string>

namespace qj::fo {

// True only when process `pid` certainly does not exist on this host: kill(pid, 0) fails
// with ESRCH, or the process is a zombie (exited, not yet reaped by its parent; state 'Z'
// in /proc/<pid>/stat). False for pid <= 0 (unknown) and for any other answer.
bool ProcessIsGone(pid_t pid);

// Whether `host` names this machine (loopback, "localhost", or this host's name): only
// then does a pid reported by the namenode mean anything to ProcessIsGone().
bool IsLocalHost(const std::string& host);

}  // namespace qj::fo
