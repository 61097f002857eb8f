// qjfs: the file system shell, in the spirit of `hdfs dfs`.
//
//   qjfs [--cluster_conf=conf/cluster.conf] [--user=U] [--groups=a,b] COMMAND ARGS...
//
// Commands: see kUsage. A relative path is resolved against /user/<user>, as HDFS does,
// and shown relative in listings.
// Exit status: 0 on success (and --help, --version), 1 if any operation failed or the
// cluster file is unreadable or invalid, 2 on a usage error (unknown flag or command).
#include <fnmatch.h>
#include <gflags/gflags.h>
#include <glog/logging.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "common/cli.h"
#include "common/rpc/rpc.h"
#include "namenode/client/failover_proxy.h"

DEFINE_string(cluster_conf, "conf/cluster.conf", "The cluster file naming the namenodes.");
DEFINE_string(user, "", "Caller's user name (default: $USER, else the login name).");
DEFINE_string(tls_identity, "",
              "With TLS on: the certificate to present (tls.cert_dir/<id>.crt), which is "
              "also the user the namenode sees; default --user, else $USER.");
DEFINE_string(groups, "", "Caller's groups, comma separated (default: the user name).");
DEFINE_int64(qjfs_failover_budget_ms, 15000,
             "How long to look for an active namenode before giving up, per call.");
DEFINE_int64(qjfs_rpc_timeout_ms, 30000, "Timeout of one call to a namenode.");
DEFINE_bool(qjfs_standby_reads, false,
            "Send reads to the standby namenode first (consistent reads: this command's own "
            "writes and everything before an msync are seen; see README).");

namespace {

namespace th = qjournal::thrift;
using qj::Status;
using qj::nn::FailoverProxy;

constexpr const char* kUsage =
    "Usage: qjfs [--cluster_conf=FILE] [--user=U] [--groups=g1,g2] COMMAND\n"
    "  -mkdir [-p] <path> ...\n"
    "  -ls [-R] [-h] [<path> ...]       (no path: the home directory /user/<user>)\n"
    "  -touch <path> ...\n"
    "  -rm [-r] <path> ...\n"
    "  -rmdir [--ignore-fail-on-non-empty] <dir> ...\n"
    "  -mv <src> <dst>\n"
    "  -stat [format] <path> ...   (format: %n %F %b %o %r %u %g %a %A %y %Y; default %y)\n"
    "  -test -d|-e|-f|-s|-z <path>    (exit 0 if true, 1 if not)\n"
    "  -chmod [-R] <octal mode> <path> ...\n"
    "  -chown [-R] <owner>[:<group>] <path> ...\n"
    "  -chgrp [-R] <group> <path> ...\n"
    "  -setrep [-R] [-w] <replication> <path> ...   (a directory: every file under it)\n"
    "  -find <path> ... [-name <glob> | -iname <glob>] [-print]\n"
    "  -du [-s] [-h] <path> ...\n"
    "  -count <path> ...\n"
    "A relative path is resolved against /user/<user>.\n";

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

// HDFS's -h format (TraditionalBinaryPrefix.long2String(n, "", 1)): "1023", "1.5 K", "128 M".
std::string HumanSize(int64_t n) {
  if (n < 1024) return std::to_string(n);
  const char* units = "KMGTPE";
  double v = static_cast<double>(n);
  int u = -1;
  while (v >= 1024 && u < 5) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  snprintf(buf, sizeof(buf), "%.1f %c", v, units[u]);
  return buf;
}

class Shell {
 public:
  Shell(FailoverProxy* proxy, th::UserInfo ugi)
      : proxy_(proxy), ugi_(std::move(ugi)), home_("/user/" + ugi_.user) {}

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
    if (cmd == "-chgrp") return Chgrp(args);
    if (cmd == "-rmdir") return Rmdir(args);
    if (cmd == "-test") return Test(args);
    if (cmd == "-setrep") return Setrep(args);
    if (cmd == "-find") return Find(args);
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
  // An absolute path for what the user typed: relative to the home directory, as HDFS.
  std::string Abs(const std::string& p) const {
    if (p.empty() || p == ".") return home_;
    if (p[0] == '/') return p;
    if (p.rfind("./", 0) == 0) return home_ + p.substr(1);
    return home_ + "/" + p;
  }
  // How to show `path` (absolute) when the user typed `arg`: relative if arg was.
  std::string Shown(const std::string& arg, const std::string& path) const {
    if (!arg.empty() && arg[0] == '/') return path;
    if (path.rfind(home_ + "/", 0) == 0) return path.substr(home_.size() + 1);
    return path == home_ ? "." : path;
  }
  // Calls fn on `path` and, when recursive and it is a directory, on everything below it
  // (parents before children). Returns 1 if any step failed.
  int Walk(const std::string& cmd, const std::string& path, bool recursive,
           const std::function<int(const th::FileStatus&)>& fn) {
    th::FileStatus f;
    Status st = proxy_->GetFileInfo(ugi_, path, &f);
    if (!st.ok()) return Fail(cmd, path, st);
    int rc = fn(f);
    if (!recursive || !f.isDir) return rc;
    std::vector<th::FileStatus> entries;
    st = proxy_->ListAll(ugi_, path, &entries);
    if (!st.ok()) return Fail(cmd, path, st);
    for (const auto& e : entries) {
      if (Walk(cmd, e.path, true, fn) != 0) rc = 1;
    }
    return rc;
  }
  int Fail(const std::string& cmd, const std::string& path, const Status& st) {
    std::cerr << cmd << ": `" << path << "': " << Reason(*proxy_, st) << "\n";
    return 1;
  }

  int Mkdir(std::vector<std::string> args) {
    bool parents = TakeFlag(&args, "-p");
    NeedPaths(args, "-mkdir");
    int rc = 0;
    for (const auto& arg : args) {
      const std::string p = Abs(arg);
      // Without -p an existing path is an error (the RPC itself succeeds on a directory).
      th::FileStatus f;
      if (!parents && proxy_->GetFileInfo(ugi_, p, &f).ok()) {
        std::cerr << "mkdir: `" << arg << "': File exists\n";
        rc = 1;
        continue;
      }
      bool created = false;
      Status st = proxy_->Mkdirs(ugi_, p, 0755, parents, &created);
      if (!st.ok()) rc = Fail("mkdir", arg, st);
    }
    return rc;
  }

  void PrintLsLine(const th::FileStatus& f, const std::string& shown) {
    char line[1024];
    std::string repl = f.isDir ? "-" : std::to_string(f.replication);
    const std::string size = human_ ? HumanSize(f.length) : std::to_string(f.length);
    snprintf(line, sizeof(line), "%s %3s %-8s %-10s %10s %s %s", PermString(f).c_str(),
             repl.c_str(), f.owner.c_str(), f.group.c_str(), size.c_str(),
             FormatTime(f.modificationTime, "%Y-%m-%d %H:%M").c_str(), shown.c_str());
    std::cout << line << "\n";
  }

  int LsDir(const std::string& arg, const std::string& path, bool recursive, bool header) {
    std::vector<th::FileStatus> entries;
    Status st = proxy_->ListAll(ugi_, path, &entries);
    if (!st.ok()) return Fail("ls", Shown(arg, path), st);
    if (header) std::cout << "Found " << entries.size() << " items\n";
    int rc = 0;
    for (const auto& e : entries) {
      PrintLsLine(e, Shown(arg, e.path));
      if (recursive && e.isDir && LsDir(arg, e.path, true, false) != 0) rc = 1;
    }
    return rc;
  }

  // Leading option flags in any order and combination ("-R -h", "-Rh"); stops at the
  // first argument that is not one of `allowed`'s letters.
  static std::string TakeFlags(std::vector<std::string>* args, const std::string& allowed) {
    std::string got;
    while (!args->empty() && args->front().size() > 1 && args->front()[0] == '-' &&
           args->front().find_first_not_of(allowed, 1) == std::string::npos) {
      got += args->front().substr(1);
      args->erase(args->begin());
    }
    return got;
  }
  static bool Has(const std::string& flags, char c) { return flags.find(c) != std::string::npos; }

  int Ls(std::vector<std::string> args) {
    const std::string flags = TakeFlags(&args, "Rh");
    const bool recursive = Has(flags, 'R');
    human_ = Has(flags, 'h');
    if (args.empty()) args.push_back("");  // the home directory, as `hdfs dfs -ls`
    int rc = 0;
    for (const auto& arg : args) {
      const std::string p = Abs(arg);
      th::FileStatus f;
      Status st = proxy_->GetFileInfo(ugi_, p, &f);
      if (!st.ok()) {
        rc = Fail("ls", arg.empty() ? "." : arg, st);
      } else if (!f.isDir) {
        PrintLsLine(f, Shown(arg, f.path));
      } else if (LsDir(arg, p, recursive, !recursive) != 0) {
        rc = 1;
      }
    }
    return rc;
  }

  int Touch(std::vector<std::string> args) {
    NeedPaths(args, "-touch");
    int rc = 0;
    for (const auto& arg : args) {
      const std::string p = Abs(arg);
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
      if (!st.ok()) rc = Fail("touch", arg, st);
    }
    return rc;
  }

  int Rm(std::vector<std::string> args) {
    bool recursive = TakeFlag(&args, "-r") || TakeFlag(&args, "-R");
    NeedPaths(args, "-rm");
    int rc = 0;
    for (const auto& arg : args) {
      const std::string p = Abs(arg);
      th::FileStatus f;
      Status st = proxy_->GetFileInfo(ugi_, p, &f);
      if (st.ok() && f.isDir && !recursive) {
        std::cerr << "rm: `" << arg << "': Is a directory\n";
        rc = 1;
        continue;
      }
      bool deleted = false;
      if (st.ok()) st = proxy_->Delete(ugi_, p, recursive, &deleted);
      if (!st.ok()) {
        rc = Fail("rm", arg, st);
      } else if (!deleted) {
        std::cerr << "rm: `" << arg << "': No such file or directory\n";
        rc = 1;
      } else {
        std::cout << "Deleted " << arg << "\n";
      }
    }
    return rc;
  }

  int Mv(std::vector<std::string> args) {
    if (args.size() != 2) throw UsageError{"-mv needs <src> <dst>"};
    bool renamed = false;
    Status st = proxy_->Rename(ugi_, Abs(args[0]), Abs(args[1]), &renamed);
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
    for (const auto& arg : args) {
      const std::string p = Abs(arg);
      th::FileStatus f;
      Status st = proxy_->GetFileInfo(ugi_, p, &f);
      if (!st.ok()) {
        rc = Fail("stat", arg, st);
      } else {
        std::cout << StatFormat(fmt, f) << "\n";
      }
    }
    return rc;
  }

  int Chmod(std::vector<std::string> args) {
    const bool recursive = Has(TakeFlags(&args, "R"), 'R');
    if (args.size() < 2) throw UsageError{"-chmod needs <mode> <path>..."};
    const std::string mode = args[0];
    char* end = nullptr;
    long bits = strtol(mode.c_str(), &end, 8);
    if (mode.empty() || *end != '\0' || bits < 0 || bits > 01777) {
      throw UsageError{"chmod: mode '" + mode + "' is not an octal mode 0..1777"};
    }
    int rc = 0;
    for (size_t i = 1; i < args.size(); ++i) {
      if (Walk("chmod", Abs(args[i]), recursive, [&](const th::FileStatus& f) {
            Status st = proxy_->SetPermission(ugi_, f.path, static_cast<int16_t>(bits));
            return st.ok() ? 0 : Fail("chmod", f.path, st);
          }) != 0) {
        rc = 1;
      }
    }
    return rc;
  }

  int Chown(std::vector<std::string> args) {
    const bool recursive = Has(TakeFlags(&args, "R"), 'R');
    if (args.size() < 2) throw UsageError{"-chown needs <owner>[:<group>] <path>..."};
    std::string owner = args[0], group;
    size_t colon = owner.find(':');
    if (colon != std::string::npos) {
      group = owner.substr(colon + 1);
      owner = owner.substr(0, colon);
    }
    if (owner.empty() && group.empty()) throw UsageError{"chown: empty owner and group"};
    return SetOwners("chown", owner, group, recursive, args);
  }

  int Chgrp(std::vector<std::string> args) {
    const bool recursive = Has(TakeFlags(&args, "R"), 'R');
    if (args.size() < 2) throw UsageError{"-chgrp needs <group> <path>..."};
    if (args[0].empty()) throw UsageError{"chgrp: empty group"};
    return SetOwners("chgrp", "", args[0], recursive, args);
  }

  // args[1..]: the paths. An empty owner or group is left unchanged.
  int SetOwners(const std::string& cmd, const std::string& owner, const std::string& group,
                bool recursive, const std::vector<std::string>& args) {
    int rc = 0;
    for (size_t i = 1; i < args.size(); ++i) {
      if (Walk(cmd, Abs(args[i]), recursive, [&](const th::FileStatus& f) {
            Status st = proxy_->SetOwner(ugi_, f.path, owner, group);
            return st.ok() ? 0 : Fail(cmd, f.path, st);
          }) != 0) {
        rc = 1;
      }
    }
    return rc;
  }

  int Rmdir(std::vector<std::string> args) {
    const bool ignore_non_empty = TakeFlag(&args, "--ignore-fail-on-non-empty");
    NeedPaths(args, "-rmdir");
    int rc = 0;
    for (const auto& arg : args) {
      const std::string p = Abs(arg);
      th::FileStatus f;
      Status st = proxy_->GetFileInfo(ugi_, p, &f);
      if (!st.ok()) {
        rc = Fail("rmdir", arg, st);
        continue;
      }
      if (!f.isDir) {
        std::cerr << "rmdir: `" << arg << "': Is not a directory\n";
        rc = 1;
        continue;
      }
      // The non-recursive delete refuses a non-empty directory on the namenode itself, so
      // a child created meanwhile is never removed.
      bool deleted = false;
      st = proxy_->Delete(ugi_, p, false, &deleted);
      if (!st.ok() && proxy_->last_fs_error() == th::FsErrorCode::DIRECTORY_NOT_EMPTY) {
        if (!ignore_non_empty) {
          std::cerr << "rmdir: `" << arg << "': Directory is not empty\n";
          rc = 1;
        }
      } else if (!st.ok()) {
        rc = Fail("rmdir", arg, st);
      }
    }
    return rc;
  }

  // Exit 0 if the test holds, 1 if not (or the path cannot be read), as `hdfs dfs -test`.
  int Test(std::vector<std::string> args) {
    if (args.size() != 2 || args[0].size() != 2 || args[0][0] != '-' ||
        std::string("defsz").find(args[0][1]) == std::string::npos) {
      throw UsageError{"-test needs one of -d -e -f -s -z and one path"};
    }
    th::FileStatus f;
    Status st = proxy_->GetFileInfo(ugi_, Abs(args[1]), &f);
    if (!st.ok()) {
      if (proxy_->last_fs_error() == th::FsErrorCode::FILE_NOT_FOUND) return 1;
      return Fail("test", args[1], st);
    }
    switch (args[0][1]) {
      case 'd':
        return f.isDir ? 0 : 1;
      case 'e':
        return 0;
      case 'f':
        return f.isDir ? 1 : 0;
      case 's':
        return f.length > 0 ? 0 : 1;
      default:
        return f.length == 0 ? 0 : 1;  // -z
    }
  }

  int Setrep(std::vector<std::string> args) {
    // -R is accepted for compatibility: HDFS always descends into directories here.
    const std::string flags = TakeFlags(&args, "Rw");
    if (args.size() < 2) throw UsageError{"-setrep needs <replication> <path>..."};
    char* end = nullptr;
    const long repl = strtol(args[0].c_str(), &end, 10);
    if (args[0].empty() || *end != '\0' || repl < 1 || repl > 32767) {
      throw UsageError{"setrep: replication '" + args[0] + "' is not a number >= 1"};
    }
    if (Has(flags, 'w')) {
      std::cerr << "setrep: -w has nothing to wait for: this namenode tracks no datanodes\n";
    }
    int rc = 0;
    for (size_t i = 1; i < args.size(); ++i) {
      if (Walk("setrep", Abs(args[i]), true, [&](const th::FileStatus& f) {
            if (f.isDir) return 0;
            bool changed = false;
            Status st = proxy_->SetReplication(ugi_, f.path, static_cast<int16_t>(repl), &changed);
            if (!st.ok()) return Fail("setrep", f.path, st);
            std::cout << "Replication " << repl << " set: " << Shown(args[i], f.path) << "\n";
            return 0;
          }) != 0) {
        rc = 1;
      }
    }
    return rc;
  }

  // -find <path>... [-name|-iname <glob>] [-print]: every entry under each path (itself
  // included) whose name matches, one per line.
  int Find(std::vector<std::string> args) {
    std::vector<std::string> paths;
    std::string glob = "*";
    bool icase = false;
    size_t i = 0;
    for (; i < args.size() && (args[i].empty() || args[i][0] != '-'); ++i) paths.push_back(args[i]);
    for (; i < args.size(); ++i) {
      if ((args[i] == "-name" || args[i] == "-iname") && i + 1 < args.size()) {
        icase = args[i] == "-iname";
        glob = args[++i];
      } else if (args[i] != "-print") {
        throw UsageError{"find: unknown expression '" + args[i] + "'"};
      }
    }
    if (paths.empty()) paths.push_back("");
    int rc = 0;
    for (const auto& arg : paths) {
      if (Walk("find", Abs(arg), true, [&](const th::FileStatus& f) {
            std::string name = f.path.substr(f.path.rfind('/') + 1);
            if (name.empty()) name = "/";
            if (fnmatch(glob.c_str(), name.c_str(), icase ? FNM_CASEFOLD : 0) == 0) {
              std::cout << Shown(arg, f.path) << "\n";
            }
            return 0;
          }) != 0) {
        rc = 1;
      }
    }
    return rc;
  }

  int Du(std::vector<std::string> args) {
    const std::string flags = TakeFlags(&args, "sh");
    const bool summary = Has(flags, 's');
    const bool human = Has(flags, 'h');
    NeedPaths(args, "-du");
    int rc = 0;
    for (const auto& arg : args) {
      const std::string p = Abs(arg);
      th::FileStatus f;
      Status st = proxy_->GetFileInfo(ugi_, p, &f);
      std::vector<th::FileStatus> entries;
      if (st.ok() && f.isDir && !summary) {
        st = proxy_->ListAll(ugi_, p, &entries);
      } else if (st.ok()) {
        entries.push_back(f);
      }
      if (!st.ok()) {
        rc = Fail("du", arg, st);
        continue;
      }
      for (const auto& e : entries) {
        th::ContentSummary cs;
        st = proxy_->GetContentSummary(ugi_, e.path, &cs);
        if (!st.ok()) {
          rc = Fail("du", e.path, st);
          continue;
        }
        auto size = [&](int64_t n) { return human ? HumanSize(n) : std::to_string(n); };
        char line[1024];
        snprintf(line, sizeof(line), "%-10s %-10s %s", size(cs.length).c_str(),
                 size(cs.spaceConsumed).c_str(), Shown(arg, e.path).c_str());
        std::cout << line << "\n";
      }
    }
    return rc;
  }

  int Count(std::vector<std::string> args) {
    NeedPaths(args, "-count");
    int rc = 0;
    for (const auto& arg : args) {
      const std::string p = Abs(arg);
      th::ContentSummary cs;
      Status st = proxy_->GetContentSummary(ugi_, p, &cs);
      if (!st.ok()) {
        rc = Fail("count", arg, st);
        continue;
      }
      char line[1024];
      snprintf(line, sizeof(line), "%12lld %12lld %18lld %s",
               static_cast<long long>(cs.directoryCount), static_cast<long long>(cs.fileCount),
               static_cast<long long>(cs.length), arg.c_str());
      std::cout << line << "\n";
    }
    return rc;
  }

  FailoverProxy* proxy_;
  th::UserInfo ugi_;
  const std::string home_;  // /user/<user>: where relative paths start
  bool human_ = false;      // -ls -h
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
  qj::cli::SetClusterConfDefault();
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
  qj::nn::FailoverProxyOptions opts = qj::nn::FailoverProxyOptionsFromConfig(*conf);
  opts.name = "qjfs";
  opts.total_budget_ms = FLAGS_qjfs_failover_budget_ms;
  opts.rpc_timeout_ms = FLAGS_qjfs_rpc_timeout_ms;
  opts.standby_reads = FLAGS_qjfs_standby_reads;
  FailoverProxy proxy(opts);
  // A command run after another client's write must see it: with standby reads, ask the
  // active for its txid once before the first read.
  if (opts.standby_reads) {
    if (qj::Status st = proxy.Msync(); !st.ok()) {
      std::cerr << "qjfs: msync: " << st << "\n";
      return qj::cli::kExitFailure;
    }
  }
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
