// qjournal: operator CLI for a journal quorum. See Usage() below.
// Exit codes (common/cli.h): 0 success, 1 failure (unreachable quorum, failed operation,
// unreadable cluster file, refused append) with a one-line reason, 2 bad arguments (with
// the usage text).
#include <glog/logging.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "common/cli.h"
#include "common/cluster_config.h"
#include "common/rpc/rpc.h"
#include "journalnode/client/qjournal_tool.h"

namespace {

constexpr int kBadArgs = qj::cli::kExitUsage;
constexpr char kForceAppend[] = "force_unsafe_append_to_cluster_journal";

const char* kUsage =
    R"(usage: qjournal [--journal_uri=qjournal://h:p;h:p;h:p/ns1 | --cluster_conf=FILE] <command>

commands:
  format [--force] [--namespace_id=N --cluster_id=S]
                  format the journal on every journalnode (refuses to clobber a
                  formatted journal unless --force; the ids default to the cluster file's)
  status [--json] a table per journalnode: reachable, formatted, promised and writer
                  epochs, committed txid, last written txid, lag, segments
  health [--json] one line per journalnode: healthy or unhealthy (unreachable, not
                  formatted, journal stopped) and the answer's latency; exit 1 if any
                  journalnode is unhealthy
  append --count=N [--size=B] [--force_unsafe_append_to_cluster_journal]
                  become writer with a new epoch, recover, write N test edits of B
                  payload bytes (default 32) in a new segment, finalize it. For
                  scratch journals only: refuses the journal id that the cluster file
                  (--cluster_conf, else ./conf/cluster.conf if present) names in
                  journal.uri, since the new epoch fences the active namenode and the
                  test edits are not namenode edits; the flag overrides (never do that
                  on a live cluster)
  dump [--from=TXID] [--max=N]
                  print committed edits ("txid op len payload-prefix") and a summary
  conf get KEY    validate the whole cluster file, then print KEY's value as the file
                  sets it (an empty line when the file leaves it unset: the default
                  applies). Scripts read the cluster file this way
  conf list       validate the cluster file, then print every key it sets, "key = value"

options:
  --journal_uri=URI     the quorum (default: journal.uri of --cluster_conf)
  --tls_identity=ID     with TLS on (tls.enabled in --cluster_conf): the certificate to
                        present, tls.cert_dir/ID.crt (default admin)
  --cluster_conf=FILE   cluster file (default $QJ_CONF_DIR/cluster.conf when QJ_CONF_DIR
                        is set; conf/cluster.conf is consulted only by append's guard)
  --rpc_timeout_ms=MS   per-call timeout (default 2000)
  --verbose             log client internals to stderr
  --help                this text
  --version             print "qjournal <version>"

exit codes: 0 success, 1 failure (one-line reason), 2 usage error
)";

int BadArgs(const std::string& msg) {
  std::cerr << "qjournal: " << msg << "\n\n" << kUsage;
  return kBadArgs;
}

// A failure: one line, no usage text.
int Fail(const std::string& msg) {
  std::cerr << "qjournal: " << msg << "\n";
  return qj::cli::kExitFailure;
}

// `conf get KEY` / `conf list`: the cluster file through the daemons' own parser. Needs no
// journalnode and no certificate (make-certs.sh reads the file before any exists).
int RunConf(const std::map<std::string, std::string>& flags,
            const std::vector<std::string>& words) {
  for (const auto& [k, v] : flags) {
    if (k != "cluster_conf" && k != "verbose")
      return BadArgs("unknown option --" + k + " for 'conf'");
  }
  const bool get = words.size() == 3 && words[1] == "get";
  const bool list = words.size() == 2 && words[1] == "list";
  if (!get && !list)
    return BadArgs("usage: qjournal [--cluster_conf=FILE] conf get KEY | conf list");
  auto it = flags.find("cluster_conf");
  const std::string path = it != flags.end() ? it->second : qj::cli::DefaultClusterConf();
  auto conf = qj::LoadClusterConfig(path);
  if (!conf.ok()) return Fail(conf.status().ToString());
  if (get) {
    auto v = conf->values.find(words[2]);
    std::cout << (v == conf->values.end() ? std::string() : v->second) << "\n";
    return qj::cli::kExitOk;
  }
  for (const auto& [k, v] : conf->values) std::cout << k << " = " << v << "\n";
  return qj::cli::kExitOk;
}

bool ParseInt(const std::string& s, int64_t* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  long long v = strtoll(s.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') return false;
  *out = v;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  google::InitGoogleLogging(argv[0]);
  FLAGS_logtostderr = true;
  FLAGS_minloglevel = 2;  // errors only, unless --verbose

  // --help / -h / --helpshort and --version, anywhere, as for every binary (common/cli.h).
  for (int i = 1; i < argc; ++i) {
    if (qj::cli::IsHelpArg(argv[i])) {
      std::cout << kUsage;
      return qj::cli::kExitOk;
    }
    if (qj::cli::IsVersionArg(argv[i])) {
      qj::cli::PrintVersion("qjournal");
      return qj::cli::kExitOk;
    }
  }

  // 1. Split arguments into --key[=value] options and positional words.
  std::map<std::string, std::string> flags;
  std::vector<std::string> words;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) == 0) {
      const size_t eq = a.find('=');
      flags[a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2)] =
          eq == std::string::npos ? std::string("\x01") : a.substr(eq + 1);
    } else {
      words.push_back(a);
    }
  }
  if (!words.empty() && words[0] == "help") {
    std::cout << kUsage;
    return qj::cli::kExitOk;
  }
  if (flags.count("verbose")) {
    FLAGS_minloglevel = 0;
    FLAGS_v = 1;
  }
  if (!words.empty() && words[0] == "conf") return RunConf(flags, words);
  const std::map<std::string, std::vector<std::string>> kCommandFlags = {
      {"format", {"force", "namespace_id", "cluster_id"}},
      {"status", {"json"}},
      {"health", {"json"}},
      {"append", {"count", "size", "namespace_id", "cluster_id", kForceAppend}},
      {"dump", {"from", "max"}},
  };
  if (words.empty()) return BadArgs("missing command");
  if (words.size() > 1) return BadArgs("unexpected argument '" + words[1] + "'");
  const std::string cmd = words[0];
  auto cmd_it = kCommandFlags.find(cmd);
  if (cmd_it == kCommandFlags.end()) return BadArgs("unknown command '" + cmd + "'");
  const std::vector<std::string> common = {"journal_uri", "cluster_conf", "rpc_timeout_ms",
                                           "verbose", "tls_identity"};
  for (const auto& [k, v] : flags) {
    bool known = false;
    for (const auto& c : common) known |= k == c;
    for (const auto& c : cmd_it->second) known |= k == c;
    if (!known) return BadArgs("unknown option --" + k + " for '" + cmd + "'");
    const bool boolean = k == "force" || k == "verbose" || k == "json" || k == kForceAppend;
    if (boolean && v != "\x01" && v != "true") return BadArgs("--" + k + " takes no value");
    if (!boolean && v == "\x01") return BadArgs("--" + k + " needs a value (--" + k + "=...)");
  }

  // 2. The quorum and namespace identity.
  qj::jn::ToolOptions o;
  o.quorum.name = "qjournal";
  std::string cluster_journal_id;  // the namenodes' journal, when a cluster file is known
  std::string cluster_conf_path;
  // QJ_CONF_DIR names the cluster file when neither --cluster_conf nor --journal_uri does.
  const char* conf_dir = std::getenv("QJ_CONF_DIR");
  if (!flags.count("cluster_conf") && !flags.count("journal_uri") && conf_dir && *conf_dir) {
    flags["cluster_conf"] = qj::cli::DefaultClusterConf();
  }
  if (flags.count("cluster_conf")) {
    cluster_conf_path = flags["cluster_conf"];
    auto conf = qj::LoadClusterConfig(cluster_conf_path);
    if (!conf.ok()) return Fail(conf.status().ToString());
    cluster_journal_id = conf->journal.journal_id;
    o.quorum.journalnodes = conf->journal.journalnodes;
    o.quorum.journal_id = conf->journal.journal_id;
    o.ns.namespace_id = conf->namespace_id;
    o.ns.cluster_id = conf->cluster_id;
    o.has_ns = true;
    // With TLS on, calls are made as --tls_identity (default admin: format and reads).
    const std::string identity = flags.count("tls_identity") ? flags["tls_identity"] : "admin";
    auto tls = qj::rpc::TlsFor(*conf, identity);
    if (!tls.ok()) return Fail(tls.status().ToString());
    o.quorum.tls = *tls;
    qj::rpc::SetProcessTls(*tls);
  }
  if (flags.count("journal_uri")) {
    auto uri = qj::ParseJournalUri(flags["journal_uri"]);
    if (!uri.ok()) return BadArgs(uri.status().ToString());
    o.quorum.journalnodes = uri->journalnodes;
    o.quorum.journal_id = uri->journal_id;
  }
  if (o.quorum.journalnodes.empty())
    return BadArgs("need --journal_uri or --cluster_conf (or QJ_CONF_DIR)");
  auto get_int = [&](const char* name, int64_t min, int64_t* dst) -> bool {
    if (!flags.count(name)) return true;
    return ParseInt(flags[name], dst) && *dst >= min;
  };
  int64_t ns_id = o.ns.namespace_id;
  if (!get_int("namespace_id", 1, &ns_id)) return BadArgs("--namespace_id must be a number >= 1");
  if (flags.count("namespace_id") != flags.count("cluster_id") && !o.has_ns) {
    return BadArgs("--namespace_id and --cluster_id go together");
  }
  if (flags.count("namespace_id")) {
    o.ns.namespace_id = ns_id;
    o.ns.cluster_id = flags["cluster_id"];
    if (o.ns.cluster_id.empty()) return BadArgs("--cluster_id must not be empty");
    o.has_ns = true;
  }
  o.force = flags.count("force") > 0;
  o.json = flags.count("json") > 0;
  if (!get_int("rpc_timeout_ms", 1, &o.quorum.rpc_timeout_ms)) {
    return BadArgs("--rpc_timeout_ms must be a number >= 1");
  }
  if (!get_int("count", 1, &o.count)) return BadArgs("--count must be a number >= 1");
  if (!get_int("size", 0, &o.size) || o.size > (1 << 20)) {
    return BadArgs("--size must be a number in [0, 1048576]");
  }
  if (!get_int("from", 1, &o.from)) return BadArgs("--from must be a txid >= 1");
  if (!get_int("max", 0, &o.max)) return BadArgs("--max must be a number >= 0");

  // 3. Run.
  if (cmd == "format") {
    if (!o.has_ns)
      return BadArgs("format needs --namespace_id and --cluster_id (or --cluster_conf)");
    return qj::jn::RunFormat(o, std::cout, std::cerr);
  }
  if (cmd == "append") {
    if (!flags.count("count")) return BadArgs("append needs --count=N");
    // Guard: the cluster's own journal is the namenodes'. A new writer epoch there fences
    // the active namenode, and the test edits stop the standby's tailer.
    if (cluster_conf_path.empty() && access(qj::cli::DefaultClusterConf().c_str(), F_OK) == 0) {
      cluster_conf_path = qj::cli::DefaultClusterConf();
      auto conf = qj::LoadClusterConfig(cluster_conf_path);
      if (!conf.ok()) {
        return Fail(conf.status().ToString() +
                    " (append checks that it is not the cluster's journal)");
      }
      cluster_journal_id = conf->journal.journal_id;
    }
    if (!cluster_journal_id.empty() && o.quorum.journal_id == cluster_journal_id &&
        !flags.count(kForceAppend)) {
      return Fail("refusing to append to journal '" + o.quorum.journal_id +
                  "': " + cluster_conf_path +
                  " names it as the namenodes' journal (a new epoch would fence the active "
                  "namenode); use a scratch journal id, or --" +
                  kForceAppend);
    }
    return qj::jn::RunAppend(o, std::cout, std::cerr);
  }
  if (cmd == "dump") return qj::jn::RunDump(o, std::cout, std::cerr);
  if (cmd == "health") return qj::jn::RunHealth(o, std::cout, std::cerr);
  return qj::jn::RunStatus(o, std::cout, std::cerr);
}
