// What every qjournal binary's main() shares: exit codes, the version string, and the
// handling of --help / --version / unknown flags, so that the tools and daemons behave
// alike (README "Tools").
//
// Exit codes: 0 success (and --help, --version); 2 usage error (unknown flag, missing or
// malformed argument); 1 failure, with a one-line reason on stderr. The daemons also use
// 2 for a configuration they cannot start with (bad cluster file, id not in it).
#pragma once

#include <string>
#include <vector>

namespace qj::cli {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// The project version, from CMake's project(qjournal VERSION x.y.z).
const char* Version();

// True for --help, -help, -h, --helpshort, -helpshort.
bool IsHelpArg(const std::string& arg);
// True for --version, -version.
bool IsVersionArg(const std::string& arg);

// Prints "<binary> <version>" to stdout.
void PrintVersion(const std::string& binary);

// For a gflags binary: `usage` followed by the flags the binary defines (not glog's or
// gflags' own), one per line with their help text and default.
std::string GflagsHelp(const std::string& usage);

// For a gflags binary, before gflags::ParseCommandLineFlags (which exits 1 on an unknown
// flag and on --help): handles --help / --version (prints, returns kExitOk), and checks that
// every argument that starts with '-' names a defined flag (or "no" + a bool flag). On an
// unknown flag prints "<binary>: unknown flag --x (see --help)" and returns kExitUsage.
// Returns -1 when main should go on. Arguments not starting with '-' are left to the caller.
int PreParseGflags(int argc, char** argv, const std::string& binary, const std::string& usage);

// Checks one "-x" / "--x[=v]" argument against the defined gflags; false (after printing
// the one-line error) if it names no flag.
bool CheckGflagKnown(const std::string& arg, const std::string& binary);

// For an admin tool whose commands look like flags ("haadmin -failover nn1 nn2"), after
// it has handled --help and --version: gflags parses only the "--" arguments (an unknown
// one is the one-line error and kExitUsage), logging goes to stderr with warnings and
// errors only, and every other argument lands in *command, in order. Returns -1 when
// main should go on.
int ParseToolArgs(int argc, char** argv, const std::string& binary,
                  std::vector<std::string>* command);

// Logging for a daemon, after flag parsing: with --log_dir, glog's files go there
// (<binary>.INFO etc., errors also on stderr) unless --logtostderr was given explicitly;
// without it everything goes to stderr. Returns false (after a one-line error) when
// --log_dir is not a writable directory, which main reports as a configuration error (2).
bool InitDaemonLogging(const char* argv0, const std::string& binary);

// The cluster file a binary reads when none is named: $QJ_CONF_DIR/cluster.conf when the
// QJ_CONF_DIR environment variable is set and not empty, else conf/cluster.conf (relative
// to the working directory). --cluster_conf always wins.
std::string DefaultClusterConf();

// For a gflags binary with a --cluster_conf flag, before parsing: makes DefaultClusterConf()
// that flag's default (so --help shows it, and QJ_CONF_DIR applies).
void SetClusterConfDefault();

}  // namespace qj::cli
