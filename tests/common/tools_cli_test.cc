// Every binary behaves alike on the command line (common/cli.h, README "Tools"):
// --version prints "<binary> <version>" and exits 0; --help exits 0; an unknown flag is a
// usage error (2) naming the flag; a cluster file with an unknown key is an error naming
// the file, line and key (tools: failure 1; daemons: configuration error 2), never a
// stack trace.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
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
      {"qjournal", "journalnode/client/qjournal"},
      {"qjfs", "namenode/qjfs"},
      {"haadmin", "failover/haadmin"},
      {"namenode", "namenode/namenode"},
      {"journalnode", "journalnode/journalnode"},
      {"failoverd", "failover/failoverd"},
      {"qjview", "tools/qjview"},
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
    if (b.name == "qjview") args = {"segment", "f", "--no_such_flag=1"};
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

// QJ_CONF_DIR names the directory of the cluster file for every binary that reads one,
// when --cluster_conf is not given; --cluster_conf still wins.
TEST_F(BadClusterFileTest, QjConfDirEnvironmentNamesTheClusterFile) {
  const std::string conf = Write("lease.duraton_ms = 5000\n");  // dir_/cluster.conf
  ASSERT_EQ(setenv("QJ_CONF_DIR", dir_.path().c_str(), 1), 0);
  for (const auto& c : Cases()) {
    CmdResult r = Exec(c.path, c.args);
    EXPECT_EQ(r.code, c.code) << c.name << ": " << r.out;
    EXPECT_TRUE(Contains(r.out, conf + ":9: unknown key")) << c.name << ": " << r.out;
  }
  // An explicit --cluster_conf is read instead.
  const std::string missing = dir_.path() + "/other.conf";
  CmdResult r = Exec("namenode/qjfs", {"--cluster_conf=" + missing, "-ls", "/"});
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(Contains(r.out, "other.conf")) << r.out;
  EXPECT_TRUE(Contains(Exec("failover/failoverd", {"--help"}).out, dir_.path() + "/cluster.conf"));
  unsetenv("QJ_CONF_DIR");
}

// A flag in a --flagfile is checked like one on the command line: an unknown one is a
// usage error (2) naming the file and line, not gflags' exit 1.
TEST_F(BadClusterFileTest, UnknownFlagInFlagfileIsUsageError) {
  const std::string flags = dir_.path() + "/bad.flags";
  std::ofstream(flags) << "# comment\n--v=0\n  --no_such_flag=3\n";
  for (const auto& b : AllBinaries()) {
    if (b.name == "qjournal" || b.name == "qjview") continue;  // no gflags, no --flagfile
    std::vector<std::string> args = {"--flagfile=" + flags};
    if (b.name == "qjfs") args.push_back("-ls");
    if (b.name == "haadmin") args.push_back("-getAllServiceState");
    CmdResult r = Exec(b.path, args);
    EXPECT_EQ(r.code, 2) << b.name << ": " << r.out;
    EXPECT_TRUE(Contains(r.out, flags + ":3")) << b.name << ": " << r.out;
    EXPECT_TRUE(Contains(r.out, "no_such_flag")) << b.name << ": " << r.out;
  }
}

// --log_dir puts a daemon's glog files there (namenode and failoverd logged to stderr only).
TEST_F(BadClusterFileTest, LogDirIsHonouredByEveryDaemon) {
  const std::vector<int> ports = PickFreePorts(6);
  const std::string conf = dir_.path() + "/ports.conf";
  std::ofstream(conf) << "namespace.id = 1\ncluster.id = c\n"
                      << "journal.uri = qjournal://127.0.0.1:" << ports[0]
                      << ";127.0.0.1:" << ports[4] << ";127.0.0.1:" << ports[5] << "/ns1\n"
                      << "namenode.ids = nn1\nnamenode.nn1.host = 127.0.0.1\n"
                      << "namenode.nn1.rpc_port = " << ports[1] << "\n"
                      << "namenode.nn1.failoverd_port = " << ports[2] << "\n";
  struct Daemon {
    std::string name, path;
    std::vector<std::string> args;
  };
  const std::vector<Daemon> daemons = {
      {"journalnode",
       "journalnode/journalnode",
       {"--journalnode_edits_dir=" + dir_.path() + "/jn",
        "--journalnode_rpc_port=" + std::to_string(ports[3])}},
      {"namenode",
       "namenode/namenode",
       {"--cluster_conf=" + conf, "--namenode_id=nn1",
        "--namenode_name_dir=" + dir_.path() + "/nn"}},
      {"failoverd", "failover/failoverd", {"--cluster_conf=" + conf, "--namenode_id=nn1"}},
  };
  for (const auto& d : daemons) {
    const std::string logs = dir_.path() + "/logs-" + d.name;
    ASSERT_EQ(::mkdir(logs.c_str(), 0755), 0);
    std::vector<std::string> argv = {BinaryPath(d.path), "--log_dir=" + logs};
    argv.insert(argv.end(), d.args.begin(), d.args.end());
    Process p;
    p.Start(argv, dir_.path() + "/" + d.name + ".stderr");
    const std::string info = logs + "/" + d.name + ".INFO";
    EXPECT_TRUE(WaitFor(
        [&] {
          std::ifstream f(info);
          std::string line;
          return static_cast<bool>(std::getline(f, line));
        },
        20000))
        << d.name << ": nothing in " << info;
    if (p.running()) p.Terminate();
    // A --log_dir that does not exist is a configuration error, said in one line.
    CmdResult bad = Exec(d.path, {"--log_dir=" + dir_.path() + "/nodir", d.args[0], d.args[1]});
    EXPECT_EQ(bad.code, 2) << d.name << ": " << bad.out;
    EXPECT_TRUE(Contains(bad.out, "nodir is not a writable directory"))
        << d.name << ": " << bad.out;
  }
}

// Scripts read the cluster file through `qjournal conf`: the daemons' own parser, so a file
// the daemons would refuse is refused here too, naming file, line and key.
TEST_F(BadClusterFileTest, ConfGetPrintsWhatTheFileSets) {
  const std::string conf = Write("failover.automatic = false   # manual\n");
  CmdResult r =
      Exec("journalnode/client/qjournal", {"--cluster_conf=" + conf, "conf", "get", "journal.uri"});
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out, "qjournal://127.0.0.1:1;127.0.0.1:2;127.0.0.1:3/ns1\n");
  r = Exec("journalnode/client/qjournal",
           {"--cluster_conf=" + conf, "conf", "get", "failover.automatic"});
  EXPECT_EQ(r.out, "false\n");
  // Unset: an empty line (the default applies).
  r = Exec("journalnode/client/qjournal",
           {"--cluster_conf=" + conf, "conf", "get", "lease.duration_ms"});
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out, "\n");
  r = Exec("journalnode/client/qjournal", {"--cluster_conf=" + conf, "conf", "list"});
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(Contains(r.out, "namenode.nn1.rpc_port = 9\n")) << r.out;
  EXPECT_TRUE(Contains(r.out, "namenode.ids = nn1\n")) << r.out;
  // QJ_CONF_DIR names the file when --cluster_conf does not.
  setenv("QJ_CONF_DIR", dir_.path().c_str(), 1);
  r = Exec("journalnode/client/qjournal", {"conf", "get", "cluster.id"});
  unsetenv("QJ_CONF_DIR");
  EXPECT_EQ(r.out, "c\n");
  // A file the daemons refuse is refused: exit 1, file and line.
  const std::string bad = Write("lease.duraton_ms = 5000\n");
  r = Exec("journalnode/client/qjournal", {"--cluster_conf=" + bad, "conf", "get", "cluster.id"});
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(Contains(r.out, bad + ":9: unknown key 'lease.duraton_ms'")) << r.out;
  // Usage errors: exit 2.
  for (const std::vector<std::string>& args : {std::vector<std::string>{"conf"},
                                               {"conf", "get"},
                                               {"conf", "set", "a", "b"},
                                               {"--json", "conf", "list"}}) {
    std::vector<std::string> a = {"--cluster_conf=" + conf};
    a.insert(a.end(), args.begin(), args.end());
    EXPECT_EQ(Exec("journalnode/client/qjournal", a).code, 2) << args.back();
  }
}

// qjfs tells "nothing answered" from "none is active".
TEST_F(BadClusterFileTest, QjfsSaysNoNamenodeReachable) {
  const std::string conf = Write("");  // namenode at 127.0.0.1:9, where nothing listens
  CmdResult r = Exec("namenode/qjfs",
                     {"--cluster_conf=" + conf, "--qjfs_failover_budget_ms=200", "-ls", "/"});
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(Contains(r.out, "no namenode reachable (nn1: unreachable")) << r.out;
  EXPECT_FALSE(Contains(r.out, "is active")) << r.out;
}

}  // namespace
}  // namespace qj::testing
