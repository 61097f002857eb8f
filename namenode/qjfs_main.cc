// qjfs: the file system shell, in the spirit of `hdfs dfs`.
//
//   qjfs [--cluster_conf=conf/cluster.conf] [--user=U] [--groups=a,b] COMMAND ARGS...
//
// Commands: -mkdir [-p] PATH..., -ls [-R] PATH..., -touch PATH..., -rm [-r] PATH...,
// -mv SRC DST, -stat [FORMAT] PATH..., -chmod MODE PATH..., -chown OWNER[:GROUP] PATH...,
// -du PATH..., -count PATH...
// Exit status: 0 on success (and --help, --version), 1 if any operation failed or the
// cluster file is unreadable or invalid, 2 on a usage error (unknown flag or command).
#include <gflags/gflags.h>
#include <glog/logging.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "common/cli.h"
#include "common/rpc/rpc.h"
#include "namenode/failover_proxy.h"
#include "common/thrift_log.h"

DEFINE_string(cluster_conf, "conf/cluster.conf", "The cluster file naming the namenodes.");
DEFINE_string(user, "", "Caller's user name (default: $USER, else the login name).");
DEFINE_string(tls_identity, "",
              "With TLS on: the certificate to present (tls.cert_dir/<id>.crt), which is "
              "also the user the namenode sees; default --user, else $USER.");
DEFINE_string(groups, "", "Caller's groups, comma separated (default: the user name).");
DEFINE_int64(qjfs_failover_budget_ms, 15000,
             "How long to look for an active namenode before giving up, per call.");
DEFINE_int64(qjfs_rpc_timeout_ms, 30000, "Timeout of one call to a namenode.");

namespace {

namespace th = qjournal::thrift;
using qj::FailoverProxy;
using qj::Status;

constexpr const char* kUsage =
    "Usage: qjfs [--cluster_conf=FILE] [--user=U] [--groups=g1,g2] COMMAND\n"
    "  -mkdir [-p] <path> ...\n"
    "  -ls [-R] <path> ...\n"
    "  -touch <path> ...\n"
    "  -rm [-r] <path> ...\n"
    "  -mv <src> <dst>\n"
    "  -stat [format] <path> ...   (format: %n %F %b %o %r %u %g %a %A %y %Y; default %y)\n"
    "  -chmod <octal mode> <path> ...\n"
    "  -chown <owner>[:<group>] <path> ...\n"
    "  -du <path> ...\n"
    "  -count <path> ...\n";

struct UsageError {
  std::string message;
};

// HDFS-style reason text for a failed call.
std::string Reason(const FailoverProxy& p, const Status& st) {
  switch (p.last_fs_error()) {
    case th::FsErrorCode::FILE_NOT_FOUND:
      return "No such file or directory";
    case th::FsErrorCode::FILE_ALREADY_EXISTS:
      return "File exists";
    case th::FsErrorCode::NOT_A_DIRECTORY:
      return "Not a directory";
    case th::FsErrorCode::IS_A_DIRECTORY:
      return "Is a directory";
    case th::FsErrorCode::DIRECTORY_NOT_EMPTY:
      return "Directory is not empty";
    case th::FsErrorCode::PERMISSION_DENIED:
      return "Permission denied: " + st.message();
    default:
      return st.ToString();
  }
}

std::string PermString(const th::FileStatus& f) {
  std::string s = f.isDir ? "d" : "-";
  const char* rwx = "rwxrwxrwx";
  for (int bit = 8; bit >= 0; --bit) s += (f.permission >> bit) & 1 ? rwx[8 - bit] : '-';
  if (f.permission & 01000) s[9] = (f.permission & 1) ? 't' : 'T';  // sticky bit
  return s;
}

std::string FormatTime(int64_t ms, const char* fmt) {
  time_t t = static_cast<time_t>(ms / 1000);
  struct tm tm;
  localtime_r(&t, &tm);
  char buf[64];
  strftime(buf, sizeof(buf), fmt, &tm);
  return buf;
}

class Shell {
 public:
  Shell(FailoverProxy* proxy, th::UserInfo ugi) : proxy_(proxy), ugi_(std::move(ugi)) {}

  int Run(const std::string& cmd, std::vector<std::string> args) {
    if (cmd == "-mkdir") return Mkdir(args);
    if (cmd == "-ls") return Ls(args);
    if (cmd == "-touch" || cmd == "-touchz") return Touch(args);
    if (cmd == "-rm") return Rm(args);
    if (cmd == "-mv") return Mv(args);
    if (cmd == "-stat") return Stat(args);
    if (cmd == "-chmod") return Chmod(args);
    if (cmd == "-chown") return Chown(args);
    if (cmd == "-du") return Du(args);
    if (cmd == "-count") return Count(args);
    throw UsageError{"unknown command " + cmd};
  }

 private:
  // Removes a leading option flag from args; true if it was there.
  static bool TakeFlag(std::vector<std::string>* args, const std::string& flag) {
    if (!args->empty() && args->front() == flag) {
      args->erase(args->begin());
      return true;
    }
    return false;
  }
  static void NeedPaths(const std::vector<std::string>& args, const std::string& cmd) {
    if (args.empty()) throw UsageError{cmd + ": missing path"};
  }
  int Fail(const std::string& cmd, const std::string& path, const Status& st) {
    std::cerr << cmd << ": `" << path << "': " << Reason(*proxy_, st) << "\n";
    return 1;
  }

  int Mkdir(std::vector<std::string> args) {
    bool parents = TakeFlag(&args, "-p");
    NeedPaths(args, "-mkdir");
    int rc = 0;
    for (const auto& p : args) {
      // Without -p an existing path is an error (the RPC itself succeeds on a directory).
      th::FileStatus f;
      if (!parents && proxy_->GetFileInfo(ugi_, p, &f).ok()) {
        std::cerr << "mkdir: `" << p << "': File exists\n";
        rc = 1;
        continue;
      }
      bool created = false;
      Status st = proxy_->Mkdirs(ugi_, p, 0755, parents, &created);
      if (!st.ok()) rc = Fail("mkdir", p, st);
    }
    return rc;
  }

  void PrintLsLine(const th::FileStatus& f) {
    char line[1024];
    std::string repl = f.isDir ? "-" : std::to_string(f.replication);
    snprintf(line, sizeof(line), "%s %3s %-8s %-10s %10lld %s %s", PermString(f).c_str(),
             repl.c_str(), f.owner.c_str(), f.group.c_str(), static_cast<long long>(f.length),
             FormatTime(f.modificationTime, "%Y-%m-%d %H:%M").c_str(), f.path.c_str());
    std::cout << line << "\n";
  }

  int LsDir(const std::string& path, bool recursive, bool header) {
    std::vector<th::FileStatus> entries;
    Status st = proxy_->ListAll(ugi_, path, &entries);
    if (!st.ok()) return Fail("ls", path, st);
    if (header) std::cout << "Found " << entries.size() << " items\n";
    int rc = 0;
    for (const auto& e : entries) {
      PrintLsLine(e);
      if (recursive && e.isDir && LsDir(e.path, true, false) != 0) rc = 1;
    }
    return rc;
  }

  int Ls(std::vector<std::string> args) {
    bool recursive = TakeFlag(&args, "-R");
    NeedPaths(args, "-ls");
    int rc = 0;
    for (const auto& p : args) {
      th::FileStatus f;
      Status st = proxy_->GetFileInfo(ugi_, p, &f);
      if (!st.ok()) {
        rc = Fail("ls", p, st);
      } else if (!f.isDir) {
        PrintLsLine(f);
      } else if (LsDir(p, recursive, !recursive) != 0) {
        rc = 1;
      }
    }
    return rc;
  }

  int Touch(std::vector<std::string> args) {
    NeedPaths(args, "-touch");
    int rc = 0;
    for (const auto& p : args) {
      th::FileStatus f;
      Status st = proxy_->GetFileInfo(ugi_, p, &f);
      if (st.ok()) {
        int64_t now = static_cast<int64_t>(time(nullptr)) * 1000;
        st = proxy_->SetTimes(ugi_, p, now, now);
      } else if (proxy_->last_fs_error() == th::FsErrorCode::FILE_NOT_FOUND) {
        st = proxy_->Create(ugi_, p, 0644, false, 3, 128ll << 20, &f);
        bool done = false;
        if (st.ok()) st = proxy_->Complete(ugi_, p, 0, &done);
      }
      if (!st.ok()) rc = Fail("touch", p, st);
    }
    return rc;
  }

  int Rm(std::vector<std::string> args) {
    bool recursive = TakeFlag(&args, "-r") || TakeFlag(&args, "-R");
    NeedPaths(args, "-rm");
    int rc = 0;
    for (const auto& p : args) {
      th::FileStatus f;
      Status st = proxy_->GetFileInfo(ugi_, p, &f);
      if (st.ok() && f.isDir && !recursive) {
        std::cerr << "rm: `" << p << "': Is a directory\n";
        rc = 1;
        continue;
      }
      bool deleted = false;
      if (st.ok()) st = proxy_->Delete(ugi_, p, recursive, &deleted);
      if (!st.ok()) {
        rc = Fail("rm", p, st);
      } else if (!deleted) {
        std::cerr << "rm: `" << p << "': No such file or directory\n";
        rc = 1;
      } else {
        std::cout << "Deleted " << p << "\n";
      }
    }
    return rc;
  }

  int Mv(std::vector<std::string> args) {
    if (args.size() != 2) throw UsageError{"-mv needs <src> <dst>"};
    bool renamed = false;
    Status st = proxy_->Rename(ugi_, args[0], args[1], &renamed);
    if (!st.ok()) return Fail("mv", args[0], st);
    if (!renamed) {
      std::cerr << "mv: `" << args[0] << "' to `" << args[1] << "': rename failed\n";
      return 1;
    }
    return 0;
  }

  static std::string StatFormat(const std::string& fmt, const th::FileStatus& f) {
    std::ostringstream out;
    for (size_t i = 0; i < fmt.size(); ++i) {
      if (fmt[i] != '%' || i + 1 == fmt.size()) {
        out << fmt[i];
        continue;
      }
      char c = fmt[++i];
      std::string name = f.path.substr(f.path.rfind('/') + 1);
      switch (c) {
        case 'n':
          out << (name.empty() ? "/" : name);
          break;
        case 'F':
          out << (f.isDir ? "directory" : (f.length == 0 ? "regular empty file" : "regular file"));
          break;
        case 'b':
          out << f.length;
          break;
        case 'o':
          out << f.blockSize;
          break;
        case 'r':
          out << f.replication;
          break;
        case 'u':
          out << f.owner;
          break;
        case 'g':
          out << f.group;
          break;
        case 'a':
          out << std::oct << f.permission << std::dec;
          break;
        case 'A':
          out << PermString(f).substr(1);
          break;
        case 'y':
          out << FormatTime(f.modificationTime, "%Y-%m-%d %H:%M:%S");
          break;
        case 'Y':
          out << f.modificationTime;
          break;
        case 'x':
          out << FormatTime(f.accessTime, "%Y-%m-%d %H:%M:%S");
          break;
        case 'X':
          out << f.accessTime;
          break;
        default:
          out << '%' << c;
      }
    }
    return out.str();
  }

  int Stat(std::vector<std::string> args) {
    std::string fmt = "%y";
    if (args.size() >= 2 && args[0].find('%') != std::string::npos) {
      fmt = args[0];
      args.erase(args.begin());
    }
    NeedPaths(args, "-stat");
    int rc = 0;
    for (const auto& p : args) {
      th::FileStatus f;
      Status st = proxy_->GetFileInfo(ugi_, p, &f);
      if (!st.ok()) {
        rc = Fail("stat", p, st);
      } else {
        std::cout << StatFormat(fmt, f) << "\n";
      }
    }
    return rc;
  }

  int Chmod(std::vector<std::string> args) {
    if (args.size() < 2) throw UsageError{"-chmod needs <mode> <path>..."};
    const std::string mode = args[0];
    char* end = nullptr;
    long bits = strtol(mode.c_str(), &end, 8);
    if (mode.empty() || *end != '\0' || bits < 0 || bits > 01777) {
      throw UsageError{"chmod: mode '" + mode + "' is not an octal mode 0..1777"};
    }
    int rc = 0;
    for (size_t i = 1; i < args.size(); ++i) {
      Status st = proxy_->SetPermission(ugi_, args[i], static_cast<int16_t>(bits));
      if (!st.ok()) rc = Fail("chmod", args[i], st);
    }
    return rc;
  }

  int Chown(std::vector<std::string> args) {
    if (args.size() < 2) throw UsageError{"-chown needs <owner>[:<group>] <path>..."};
    std::string owner = args[0], group;
    size_t colon = owner.find(':');
    if (colon != std::string::npos) {
      group = owner.substr(colon + 1);
      owner = owner.substr(0, colon);
    }
    if (owner.empty() && group.empty()) throw UsageError{"chown: empty owner and group"};
    int rc = 0;
    for (size_t i = 1; i < args.size(); ++i) {
      Status st = proxy_->SetOwner(ugi_, args[i], owner, group);
      if (!st.ok()) rc = Fail("chown", args[i], st);
    }
    return rc;
  }

  int Du(std::vector<std::string> args) {
    NeedPaths(args, "-du");
    int rc = 0;
    for (const auto& p : args) {
      th::FileStatus f;
      Status st = proxy_->GetFileInfo(ugi_, p, &f);
      std::vector<th::FileStatus> entries;
      if (st.ok() && f.isDir) {
        st = proxy_->ListAll(ugi_, p, &entries);
      } else if (st.ok()) {
        entries.push_back(f);
      }
      if (!st.ok()) {
        rc = Fail("du", p, st);
        continue;
      }
      for (const auto& e : entries) {
        th::ContentSummary cs;
        st = proxy_->GetContentSummary(ugi_, e.path, &cs);
        if (!st.ok()) {
          rc = Fail("du", e.path, st);
          continue;
        }
        char line[1024];
        snprintf(line, sizeof(line), "%-10lld %-10lld %s", static_cast<long long>(cs.length),
                 static_cast<long long>(cs.spaceConsumed), e.path.c_str());
        std::cout << line << "\n";
      }
    }
    return rc;
  }

  int Count(std::vector<std::string> args) {
    NeedPaths(args, "-count");
    int rc = 0;
    for (const auto& p : args) {
      th::ContentSummary cs;
      Status st = proxy_->GetContentSummary(ugi_, p, &cs);
      if (!st.ok()) {
        rc = Fail("count", p, st);
        continue;
      }
      char line[1024];
      snprintf(line, sizeof(line), "%12lld %12lld %18lld %s",
               static_cast<long long>(cs.directoryCount), static_cast<long long>(cs.fileCount),
               static_cast<long long>(cs.length), p.c_str());
      std::cout << line << "\n";
    }
    return rc;
  }

  FailoverProxy* proxy_;
  th::UserInfo ugi_;
};

std::string DefaultUser() {
  const char* u = getenv("USER");
  if (u != nullptr && *u != '\0') return u;
  const char* l = getlogin();
  return l != nullptr ? l : "root";
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage(kUsage);
  // Flags first, then the command and its arguments (which start with '-').
  std::vector<char*> flag_argv = {argv[0]};
  int i = 1;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (qj::cli::IsHelpArg(a)) {
      std::cout << kUsage;
      return qj::cli::kExitOk;
    }
    if (qj::cli::IsVersionArg(a)) {
      qj::cli::PrintVersion("qjfs");
      return qj::cli::kExitOk;
    }
    if (a.rfind("--", 0) != 0) break;
    // gflags would exit 1 on an unknown flag; a usage error is 2.
    if (!qj::cli::CheckGflagKnown(a, "qjfs")) return qj::cli::kExitUsage;
    flag_argv.push_back(argv[i]);
  }
  int flag_argc = static_cast<int>(flag_argv.size());
  char** flag_ptr = flag_argv.data();
  gflags::ParseCommandLineFlags(&flag_argc, &flag_ptr, false);
  FLAGS_logtostderr = true;
  FLAGS_minloglevel = std::max(FLAGS_minloglevel, 1);
  google::InitGoogleLogging(argv[0]);
  qj::RouteThriftLogsToGlog();
  if (i >= argc) {
    std::cerr << kUsage;
    return qj::cli::kExitUsage;
  }
  std::string cmd = argv[i++];
  std::vector<std::string> args(argv + i, argv + argc);

  auto conf = qj::LoadClusterConfig(FLAGS_cluster_conf);
  if (!conf.ok()) {
    // An unreadable or invalid cluster file is a failure, not a usage error.
    std::cerr << "qjfs: " << conf.status() << "\n";
    return qj::cli::kExitFailure;
  }
  std::string identity = FLAGS_tls_identity;
  if (identity.empty()) identity = FLAGS_user;
  if (identity.empty() && getenv("USER") != nullptr) identity = getenv("USER");
  if (qj::Status t = qj::rpc::InitProcessTls(*conf, identity); !t.ok()) {
    std::cerr << "qjfs: " << t << "\n";
    return qj::cli::kExitFailure;
  }
  qj::FailoverProxyOptions opts = qj::FailoverProxyOptionsFromConfig(*conf);
  opts.name = "qjfs";
  opts.total_budget_ms = FLAGS_qjfs_failover_budget_ms;
  opts.rpc_timeout_ms = FLAGS_qjfs_rpc_timeout_ms;
  FailoverProxy proxy(opts);
  th::UserInfo ugi;
  ugi.user = FLAGS_user.empty() ? DefaultUser() : FLAGS_user;
  std::stringstream groups(FLAGS_groups.empty() ? ugi.user : FLAGS_groups);
  for (std::string g; std::getline(groups, g, ',');) {
    if (!g.empty()) ugi.groups.push_back(g);
  }
  Shell shell(&proxy, ugi);
  try {
    return shell.Run(cmd, args);
  } catch (const UsageError& e) {
    std::cerr << "qjfs: " << e.message << "\n" << kUsage;
    return qj::cli::kExitUsage;
  }
}
