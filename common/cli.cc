#include "common/cli.h"

#include <gflags/gflags.h>
#include <glog/logging.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>

#ifndef QJ_VERSION
#error "QJ_VERSION must be defined by CMake (common/CMakeLists.txt)"
#endif

namespace qj::cli {

const char* Version() { return QJ_VERSION; }

bool IsHelpArg(const std::string& a) {
  return a == "--help" || a == "-help" || a == "-h" || a == "--helpshort" || a == "-helpshort";
}

bool IsVersionArg(const std::string& a) { return a == "--version" || a == "-version"; }

void PrintVersion(const std::string& binary) { std::cout << binary << " " << Version() << "\n"; }

std::string GflagsHelp(const std::string& usage) {
  std::ostringstream out;
  out << "usage: " << usage << "\n\nflags:\n";
  std::vector<gflags::CommandLineFlagInfo> flags;
  gflags::GetAllFlags(&flags);
  for (const auto& f : flags) {
    // glog's and gflags' own flags are defined in their src/ files.
    if (f.filename.find("src/") != std::string::npos ||
        f.filename.find("gflags") != std::string::npos) {
      continue;
    }
    out << "  --" << f.name << " (" << f.description << ") default: ";
    out << (f.type == "string" ? "\"" + f.default_value + "\"" : f.default_value) << "\n";
  }
  out << "  --help, --version, and glog's --log_dir, --logtostderr, --v, --minloglevel\n";
  return out.str();
}

namespace {

// Every flag line of a --flagfile (comma-separated list) must name a defined flag, as on
// the command line. An unreadable file is left to gflags, which reports it.
bool CheckFlagfile(const std::string& files, const std::string& binary) {
  std::stringstream list(files);
  std::string file;
  while (std::getline(list, file, ',')) {
    std::ifstream in(file);
    std::string line;
    int lineno = 0;
    while (std::getline(in, line)) {
      ++lineno;
      const size_t start = line.find_first_not_of(" \t");
      if (start == std::string::npos || line[start] != '-') continue;  // comments, filenames
      std::string arg = line.substr(start);
      arg.erase(arg.find_last_not_of(" \t\r") + 1);
      std::ostringstream where;
      where << " (" << file << ":" << lineno << ")";
      if (!CheckGflagKnown(arg, binary + ": in --flagfile" + where.str())) return false;
    }
  }
  return true;
}

}  // namespace

bool CheckGflagKnown(const std::string& arg, const std::string& binary) {
  std::string a = arg.substr(arg.rfind("--", 0) == 0 ? 2 : 1);
  const std::string name = a.substr(0, a.find('='));
  gflags::CommandLineFlagInfo info;
  if (name == "flagfile" && a.find('=') != std::string::npos) {
    return CheckFlagfile(a.substr(a.find('=') + 1), binary);
  }
  if (!name.empty() && gflags::GetCommandLineFlagInfo(name.c_str(), &info)) return true;
  if (name.rfind("no", 0) == 0 && gflags::GetCommandLineFlagInfo(name.substr(2).c_str(), &info) &&
      info.type == "bool") {
    return true;
  }
  std::cerr << binary << ": unknown flag --" << name << " (see --help)\n";
  return false;
}

int PreParseGflags(int argc, char** argv, const std::string& binary, const std::string& usage) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (IsHelpArg(a)) {
      std::cout << GflagsHelp(usage);
      return kExitOk;
    }
    if (IsVersionArg(a)) {
      PrintVersion(binary);
      return kExitOk;
    }
  }
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--") break;
    if (a.size() > 1 && a[0] == '-' && !CheckGflagKnown(a, binary)) return kExitUsage;
  }
  return -1;
}

int ParseToolArgs(int argc, char** argv, const std::string& binary,
                  std::vector<std::string>* command) {
  // gflags would take "-report" for a flag: it sees only the "--" arguments.
  std::vector<char*> flag_args{argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--", 0) == 0) {
      // gflags would exit 1 on an unknown flag; a usage error is 2.
      if (!CheckGflagKnown(a, binary)) return kExitUsage;
      flag_args.push_back(argv[i]);
    } else {
      command->push_back(a);
    }
  }
  int fargc = static_cast<int>(flag_args.size());
  char** fargv = flag_args.data();
  gflags::ParseCommandLineFlags(&fargc, &fargv, false);
  google::InitGoogleLogging(argv[0]);
  FLAGS_logtostderr = true;
  FLAGS_minloglevel = 1;  // a command-line tool: warnings and errors only
  return -1;
}

bool InitDaemonLogging(const char* argv0, const std::string& binary) {
  gflags::CommandLineFlagInfo info;
  const bool explicit_stderr =
      gflags::GetCommandLineFlagInfo("logtostderr", &info) && !info.is_default;
  if (!FLAGS_log_dir.empty()) {
    if (::access(FLAGS_log_dir.c_str(), W_OK | X_OK) != 0) {
      std::cerr << binary << ": --log_dir=" << FLAGS_log_dir << " is not a writable directory\n";
      return false;
    }
    if (!explicit_stderr) FLAGS_logtostderr = false;
  } else if (!explicit_stderr) {
    FLAGS_logtostderr = true;
  }
  google::InitGoogleLogging(argv0);
  return true;
}

std::string DefaultClusterConf() {
  const char* dir = std::getenv("QJ_CONF_DIR");
  if (dir == nullptr || *dir == '\0') return "conf/cluster.conf";
  std::string d = dir;
  if (d.back() != '/') d += '/';
  return d + "cluster.conf";
}

void SetClusterConfDefault() {
  gflags::SetCommandLineOptionWithMode("cluster_conf", DefaultClusterConf().c_str(),
                                       gflags::SET_FLAGS_DEFAULT);
}

}  // namespace qj::cli
