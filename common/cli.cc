#include "common/cli.h"

#include <gflags/gflags.h>

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
    if (f.filename.find("src/") != std::string::npos || f.filename.find("gflags") != std::string::npos) {
      continue;
    }
    out << "  --" << f.name << " (" << f.description << ") default: ";
    out << (f.type == "string" ? "\"" + f.default_value + "\"" : f.default_value) << "\n";
  }
  out << "  --help, --version, and glog's --log_dir, --logtostderr, --v, --minloglevel\n";
  return out.str();
}

bool CheckGflagKnown(const std::string& arg, const std::string& binary) {
  std::string a = arg.substr(arg.rfind("--", 0) == 0 ? 2 : 1);
  const std::string name = a.substr(0, a.find('='));
  gflags::CommandLineFlagInfo info;
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

}  // namespace qj::cli
