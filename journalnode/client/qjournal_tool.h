// The operator commands behind the `qjournal` CLI (qjournal_main.cc parses arguments).
// Each command prints to `out`, errors to `err`, and returns the process exit code:
// 0 success, 1 unreachable quorum or failed operation (2, bad arguments, is decided by the
// argument parser).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "journalnode/client/quorum_writer.h"

namespace qj::jn {

struct ToolOptions {
  QuorumOptions quorum;
  // Namespace identity (from the cluster file or flags); has_ns false when unknown.
  bool has_ns = false;
  NamespaceInfo ns;
  bool force = false;  // format
  int64_t count = 0;   // append
  int64_t size = 32;   // append: payload bytes per edit
  int64_t from = 1;    // dump
  int64_t max = -1;    // dump: -1 = all
  bool json = false;   // status, health: one JSON document instead of text
};

int RunFormat(const ToolOptions& o, std::ostream& out, std::ostream& err);
int RunStatus(const ToolOptions& o, std::ostream& out, std::ostream& err);
// Like `etcdctl endpoint health`: asks every journalnode for its journal state, each on
// its own connection at the same time, and prints one line per node, healthy (answered,
// formatted, journal serving) or unhealthy with the reason, and how long the answer took.
// Exit 1 if any node is unhealthy.
int RunHealth(const ToolOptions& o, std::ostream& out, std::ostream& err);
int RunAppend(const ToolOptions& o, std::ostream& out, std::ostream& err);
int RunDump(const ToolOptions& o, std::ostream& out, std::ostream& err);

}  // namespace qj::jn
