// Every binary behaves alike on the command line (common/cli.h, README "Tools"):
// --version prints "<binary> <version>" and exits 0; --help exits 0; an unknown flag is a
// usage error (2) naming the flag; a cluster file with an unknown key is an error naming
// the file, line and key (tools: failure 1; daemons: configuration error 2), never a
// stack trace.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "common/cli.h"
#include "tests/support/process.h"

namespace qj::testing {
namespace {

struct Binary {
  std::string name;
  std::string path;  // relative to the build tree
};

const std::vector<Binary>& AllBinaries() {
  static const std::vector<Binary> kAll = {
      {"qjournal", "journalnode/client/qjournal"}, {"qjfs", "namenode/qjfs"},
      {"haadmin", "failover/haadmin"},             {"namenode", "namenode/namenode"},
      {"journalnode", "journalnode/journalnode"},  {"failoverd", "failover/failoverd"},
  };
  return kAll;
}

struct CmdResult {
  int code;
  std::string out;
};

CmdResult Exec(const std::string& rel, std::vector<std::string> args) {
  args.insert(args.begin(), BinaryPath(rel));
  CmdResult r;
  r.code = RunCommand(args, &r.out, 30000);
  return r;
}

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

int Lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

TEST(ToolsCliTest, VersionPrintsBinaryAndVersion) {
  for (const auto& b : AllBinaries()) {
    CmdResult r = Exec(b.path, {"--version"});
    EXPECT_EQ(r.code, 0) << b.name << ": " << r.out;
    EXPECT_EQ(r.out, b.name + " " + cli::Version() + "\n") << b.name;
  }
  EXPECT_STRNE(cli::Version(), "");
}

TEST(ToolsCliTest, HelpExitsZero) {
  for (const auto& b : AllBinaries()) {
    for (const char* flag : {"--help", "-h", "--helpshort"}) {
      CmdResult r = Exec(b.path, {flag});
      EXPECT_EQ(r.code, 0) << b.name << " " << flag << ": " << r.out;
      EXPECT_TRUE(Contains(r.out, "sage")) << b.name << " " << flag << ": " << r.out;
    }
  }
  // The daemons list their own flags.
  EXPECT_TRUE(Contains(Exec("journalnode/journalnode", {"--help"}).out, "--journalnode_edits_dir"));
  EXPECT_TRUE(Contains(Exec("failover/failoverd", {"--help"}).out, "--namenode_id"));
  EXPECT_TRUE(Contains(Exec("namenode/namenode", {"--help"}).out, "--namenode_name_dir"));
}

TEST(ToolsCliTest, UnknownFlagIsUsageError) {
  for (const auto& b : AllBinaries()) {
    std::vector<std::string> args = {"--no_such_flag=1"};
    if (b.name == "qjournal") args.push_back("status");
    if (b.name == "qjfs") args.push_back("-ls");
    if (b.name == "haadmin") args.push_back("-getAllServiceState");
    CmdResult r = Exec(b.path, args);
    EXPECT_EQ(r.code, 2) << b.name << ": " << r.out;
    EXPECT_TRUE(Contains(r.out, "no_such_flag")) << b.name << ": " << r.out;
  }
}

class BadClusterFileTest : public ::testing::Test {
 protected:
  // Writes a valid cluster file with `extra` appended; returns its path.
  std::string Write(const std::string& extra) {
    const std::string path = dir_.path() + "/cluster.conf";
    std::ofstream f(path);
    f << "# test cluster\n"
         "namespace.id = 1\n"
         "cluster.id = c\n"
         "journal.uri = qjournal://127.0.0.1:1;127.0.0.1:2;127.0.0.1:3/ns1\n"
         "namenode.ids = nn1\n"
         "namenode.nn1.host = 127.0.0.1\n"
         "namenode.nn1.rpc_port = 9\n"
         "namenode.nn1.failoverd_port = 10\n"
      << extra;
    return path;
  }
  // {binary, args after --cluster_conf, expected exit code}
  struct Case {
    std::string name, path;
    std::vector<std::string> args;
    int code;
  };
  std::vector<Case> Cases() {
    return {
        {"qjournal", "journalnode/client/qjournal", {"status"}, 1},
        {"qjfs", "namenode/qjfs", {"-ls", "/"}, 1},
        {"haadmin", "failover/haadmin", {"-getAllServiceState"}, 1},
        {"namenode",
         "namenode/namenode",
         {"--namenode_id=nn1", "--namenode_name_dir=" + dir_.path() + "/name"},
         2},
        {"failoverd", "failover/failoverd", {"--namenode_id=nn1"}, 2},
    };
  }
  TempDir dir_;
};

TEST_F(BadClusterFileTest, UnknownKeyNamesLineAndKey) {
  const std::string conf = Write("lease.duraton_ms = 5000\n");
  for (const auto& c : Cases()) {
    std::vector<std::string> args = {"--cluster_conf=" + conf};
    args.insert(args.end(), c.args.begin(), c.args.end());
    CmdResult r = Exec(c.path, args);
    EXPECT_EQ(r.code, c.code) << c.name << ": " << r.out;
    EXPECT_TRUE(Contains(r.out, conf + ":9: unknown key 'lease.duraton_ms'"))
        << c.name << ": " << r.out;
    EXPECT_EQ(Lines(r.out), 1) << c.name << ": " << r.out;
  }
}

TEST_F(BadClusterFileTest, FailoverdSettingTypoIsOneLineNotACrash) {
  const std::string conf = Write("lease.renew_interval_ms = 5OO\n");
  CmdResult r = Exec("failover/failoverd", {"--cluster_conf=" + conf, "--namenode_id=nn1"});
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_TRUE(Contains(r.out, conf + ":9: lease.renew_interval_ms")) << r.out;
  EXPECT_EQ(Lines(r.out), 1) << r.out;
}

TEST_F(BadClusterFileTest, MissingFileIsAOneLineFailureForTools) {
  const std::string missing = dir_.path() + "/nope.conf";
  for (const auto& c : Cases()) {
    if (c.code != 1) continue;  // the tools
    std::vector<std::string> args = {"--cluster_conf=" + missing};
    args.insert(args.end(), c.args.begin(), c.args.end());
    CmdResult r = Exec(c.path, args);
    EXPECT_EQ(r.code, 1) << c.name << ": " << r.out;
    EXPECT_TRUE(Contains(r.out, "nope.conf")) << c.name << ": " << r.out;
    EXPECT_EQ(Lines(r.out), 1) << c.name << ": " << r.out;
  }
}

}  // namespace
}  // namespace qj::testing
