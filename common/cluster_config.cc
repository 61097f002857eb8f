#include "common/cluster_config.h"

#include <fstream>
#include <sstream>

namespace qj {
namespace {

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) out.push_back(Trim(cur));
  return out;
}

Result<int64_t> ParseInt(const std::string& v, const std::string& what) {
  try {
    size_t used = 0;
    long long x = std::stoll(v, &used);
    if (used != v.size()) throw std::invalid_argument(v);
    return static_cast<int64_t>(x);
  } catch (const std::exception&) {
    return Status::InvalidArgument(what + ": '" + v + "' is not an integer");
  }
}

}  // namespace

Result<HostPort> ParseHostPort(const std::string& s) {
  size_t colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Status::InvalidArgument("'" + s + "' is not host:port");
  }
  HostPort hp;
  hp.host = s.substr(0, colon);
  QJ_ASSIGN_OR_RETURN(int64_t port, ParseInt(s.substr(colon + 1), "port in '" + s + "'"));
  if (port < 1 || port > 65535) {
    return Status::InvalidArgument("port in '" + s + "' is out of range 1..65535");
  }
  hp.port = static_cast<int>(port);
  return hp;
}

Result<JournalUri> ParseJournalUri(const std::string& uri) {
  const std::string scheme = "qjournal://";
  if (uri.compare(0, scheme.size(), scheme) != 0) {
    return Status::InvalidArgument("journal URI '" + uri + "' does not start with qjournal://");
  }
  std::string rest = uri.substr(scheme.size());
  size_t slash = rest.find('/');
  if (slash == std::string::npos || slash + 1 == rest.size()) {
    return Status::InvalidArgument("journal URI '" + uri + "' has no /<journal id>");
  }
  JournalUri out;
  out.journal_id = rest.substr(slash + 1);
  for (char c : out.journal_id) {
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
      return Status::InvalidArgument("journal id '" + out.journal_id +
                                     "' may hold only letters, digits, '-', '_' and '.'");
    }
  }
  for (const std::string& part : Split(rest.substr(0, slash), ';')) {
    QJ_ASSIGN_OR_RETURN(HostPort hp, ParseHostPort(part));
    out.journalnodes.push_back(hp);
  }
  if (out.journalnodes.empty() || out.journalnodes.size() % 2 == 0) {
    return Status::InvalidArgument("journal URI '" + uri +
                                   "' must name an odd number of journalnodes");
  }
  return out;
}

const NamenodeInfo* ClusterConfig::FindNamenode(const std::string& id) const {
  for (const auto& nn : namenodes) {
    if (nn.id == id) return &nn;
  }
  return nullptr;
}

Result<ClusterConfig> ParseClusterConfig(const std::string& text, const std::string& origin) {
  std::map<std::string, std::string> kv;
  std::map<std::string, int> line_of;  // key -> the line that set it
  std::istringstream in(text);
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    size_t hash = line.find('#');
    if (hash != std::string::npos) line = line.substr(0, hash);
    line = Trim(line);
    if (line.empty()) continue;
    size_t eq = line.find('=');
    if (eq == std::string::npos) {
      return Status::InvalidArgument(origin + ":" + std::to_string(lineno) +
                                     ": expected 'key = value', got '" + line + "'");
    }
    const std::string key = Trim(line.substr(0, eq));
    if (line_of.count(key)) {
      return Status::InvalidArgument(origin + ":" + std::to_string(lineno) + ": duplicate key '" +
                                     key + "' (first set on line " + std::to_string(line_of[key]) +
                                     ")");
    }
    line_of[key] = lineno;
    kv[key] = Trim(line.substr(eq + 1));
  }
  // "file:line: key" for errors about a key's value.
  auto at = [&](const std::string& key) {
    auto it = line_of.find(key);
    return origin + (it == line_of.end() ? "" : ":" + std::to_string(it->second)) + ": " + key;
  };
  ClusterConfig c;
  c.values = kv;
  auto take = [&](const std::string& key) -> Result<std::string> {
    auto it = kv.find(key);
    if (it == kv.end()) return Status::InvalidArgument(origin + ": missing key '" + key + "'");
    std::string v = it->second;
    kv.erase(it);
    return v;
  };
  auto take_int = [&](const std::string& key, int64_t* dst) -> Status {
    auto it = kv.find(key);
    if (it == kv.end()) return Status::OK();  // keep default
    auto r = ParseInt(it->second, at(key));
    kv.erase(it);
    if (!r.ok()) return r.status();
    *dst = *r;
    return Status::OK();
  };
  auto take_positive = [&](const std::string& key, int64_t* dst) -> Status {
    const bool present = kv.count(key) > 0;
    QJ_RETURN_IF_ERROR(take_int(key, dst));
    if (present && *dst <= 0) return Status::InvalidArgument(at(key) + " must be > 0");
    return Status::OK();
  };
  QJ_ASSIGN_OR_RETURN(std::string ns, take("namespace.id"));
  QJ_ASSIGN_OR_RETURN(c.namespace_id, ParseInt(ns, at("namespace.id")));
  QJ_ASSIGN_OR_RETURN(c.cluster_id, take("cluster.id"));
  QJ_ASSIGN_OR_RETURN(std::string uri, take("journal.uri"));
  auto ju = ParseJournalUri(uri);
  if (!ju.ok()) return ju.status().Prepend(at("journal.uri"));
  c.journal = *ju;
  if (kv.count("namenode.ids")) {
    std::string ids = kv["namenode.ids"];
    kv.erase("namenode.ids");
    for (const std::string& id : Split(ids, ',')) {
      NamenodeInfo nn;
      nn.id = id;
      QJ_ASSIGN_OR_RETURN(nn.host, take("namenode." + id + ".host"));
      int64_t port = 0;
      QJ_RETURN_IF_ERROR(take_int("namenode." + id + ".rpc_port", &port));
      nn.rpc_port = static_cast<int>(port);
      port = 0;
      QJ_RETURN_IF_ERROR(take_int("namenode." + id + ".failoverd_port", &port));
      nn.failoverd_port = static_cast<int>(port);
      port = 0;
      QJ_RETURN_IF_ERROR(take_int("namenode." + id + ".http_port", &port));
      nn.http_port = static_cast<int>(port);
      if (nn.rpc_port <= 0 || nn.rpc_port > 65535) {
        return Status::InvalidArgument(origin + ": namenode." + id +
                                       ".rpc_port is missing or out of range");
      }
      c.namenodes.push_back(nn);
    }
  }
  // --- HTTP status pages and metrics (0 or absent = none): every namenode's http_port
  // (read above), its failoverd's failoverd_http_port, and journal.http_ports, one per
  // journalnode in journal.uri order (start-cluster.sh passes each to its journalnode).
  for (NamenodeInfo& nn : c.namenodes) {
    int64_t port = 0;
    QJ_RETURN_IF_ERROR(take_int("namenode." + nn.id + ".failoverd_http_port", &port));
    nn.failoverd_http_port = static_cast<int>(port);
    for (int p : {nn.http_port, nn.failoverd_http_port}) {
      if (p < 0 || p > 65535) {
        return Status::InvalidArgument(origin + ": namenode." + nn.id + " HTTP port " +
                                       std::to_string(p) + " is out of range");
      }
    }
  }
  if (kv.count("journal.http_ports")) {
    const std::string key = "journal.http_ports";
    for (const std::string& p : Split(kv[key], ',')) {
      auto port = ParseInt(p, at(key));
      if (!port.ok()) return port.status();
      if (*port < 0 || *port > 65535)
        return Status::InvalidArgument(at(key) + ": port out of range");
      c.journal_http_ports.push_back(static_cast<int>(*port));
    }
    if (c.journal_http_ports.size() != c.journal.journalnodes.size()) {
      return Status::InvalidArgument(at(key) + ": " + std::to_string(c.journal_http_ports.size()) +
                                     " ports for " + std::to_string(c.journal.journalnodes.size()) +
                                     " journalnodes in journal.uri");
    }
    kv.erase(key);
  }
  // --- end of HTTP ports.
  if (kv.count("failover.automatic")) {
    const std::string v = kv["failover.automatic"];
    kv.erase("failover.automatic");
    if (v != "true" && v != "false") {
      return Status::InvalidArgument(at("failover.automatic") + " must be true or false");
    }
    c.automatic_failover = v == "true";
  }
  QJ_RETURN_IF_ERROR(take_int("lease.duration_ms", &c.lease_duration_ms));
  QJ_RETURN_IF_ERROR(take_int("lease.margin_ms", &c.lease_margin_ms));
  QJ_RETURN_IF_ERROR(take_positive("lease.renew_interval_ms", &c.lease_renew_interval_ms));
  QJ_RETURN_IF_ERROR(take_positive("lease.acquire_interval_ms", &c.lease_acquire_interval_ms));
  QJ_RETURN_IF_ERROR(take_int("health.interval_ms", &c.health_interval_ms));
  QJ_RETURN_IF_ERROR(take_int("health.timeout_ms", &c.health_timeout_ms));
  QJ_RETURN_IF_ERROR(take_positive("health.journal_stall_ms", &c.health_journal_stall_ms));
  if (kv.count("lease.drift")) {
    try {
      size_t used = 0;
      c.lease_drift = std::stod(kv["lease.drift"], &used);
      if (used != kv["lease.drift"].size()) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      return Status::InvalidArgument(at("lease.drift") + " is not a number");
    }
    kv.erase("lease.drift");
    if (c.lease_drift < 0 || c.lease_drift >= 0.5) {
      return Status::InvalidArgument(at("lease.drift") + " must be in [0, 0.5)");
    }
  }
  // Security. Relative paths are relative to the cluster file's directory.
  const size_t slash = origin.rfind('/');
  const std::string base = slash == std::string::npos ? "" : origin.substr(0, slash + 1);
  auto take_path = [&](const std::string& key, std::string* dst) -> Status {
    auto it = kv.find(key);
    if (it == kv.end()) return Status::OK();
    std::string v = it->second;
    kv.erase(it);
    if (v.empty()) return Status::InvalidArgument(at(key) + " is empty");
    *dst = v[0] == '/' ? v : base + v;
    return Status::OK();
  };
  auto take_list = [&](const std::string& key, std::vector<std::string>* dst) -> Status {
    auto it = kv.find(key);
    if (it == kv.end()) return Status::OK();
    const std::string v = it->second;
    kv.erase(it);
    dst->clear();
    for (const std::string& id : Split(v, ',')) {
      if (id.empty()) return Status::InvalidArgument(at(key) + ": empty name in '" + v + "'");
      dst->push_back(id);
    }
    return Status::OK();
  };
  if (kv.count("tls.enabled")) {
    const std::string v = kv["tls.enabled"];
    if (v != "true" && v != "false") {
      return Status::InvalidArgument(at("tls.enabled") + " must be true or false");
    }
    kv.erase("tls.enabled");
    c.security.tls_enabled = v == "true";
  }
  QJ_RETURN_IF_ERROR(take_path("tls.ca_file", &c.security.ca_file));
  QJ_RETURN_IF_ERROR(take_path("tls.cert_dir", &c.security.cert_dir));
  QJ_RETURN_IF_ERROR(take_list("security.admins", &c.security.admins));
  QJ_RETURN_IF_ERROR(take_list("security.superusers", &c.security.superusers));
  int64_t max_conn = c.security.max_connections;
  QJ_RETURN_IF_ERROR(take_positive("rpc.max_connections", &max_conn));
  if (max_conn > 100000) {
    return Status::InvalidArgument(at("rpc.max_connections") + " must be <= 100000");
  }
  c.security.max_connections = static_cast<int>(max_conn);
  QJ_RETURN_IF_ERROR(take_positive("rpc.idle_timeout_ms", &c.security.idle_timeout_ms));
  int64_t workers = c.security.worker_threads;
  QJ_RETURN_IF_ERROR(take_positive("rpc.worker_threads", &workers));
  if (workers > 4096) {
    return Status::InvalidArgument(at("rpc.worker_threads") + " must be <= 4096");
  }
  c.security.worker_threads = static_cast<int>(workers);
  int64_t io_threads = c.security.io_threads;
  QJ_RETURN_IF_ERROR(take_positive("rpc.io_threads", &io_threads));
  if (io_threads > 64) return Status::InvalidArgument(at("rpc.io_threads") + " must be <= 64");
  c.security.io_threads = static_cast<int>(io_threads);
  if (c.security.tls_enabled && (c.security.ca_file.empty() || c.security.cert_dir.empty())) {
    return Status::InvalidArgument(origin +
                                   ": tls.enabled = true needs tls.ca_file and tls.cert_dir");
  }
  if (c.lease_duration_ms <= 2 * c.lease_margin_ms) {
    return Status::InvalidArgument(origin + ": lease.duration_ms must exceed 2 x lease.margin_ms");
  }
  // Strict: a key nobody reads is a typo (lease.duraton_ms) or a namenode missing from
  // namenode.ids; name the first one in file order.
  if (!kv.empty()) {
    std::string first;
    for (const auto& [k, v] : kv) {
      if (first.empty() || line_of[k] < line_of[first]) first = k;
    }
    std::string hint;
    if (first.rfind("namenode.", 0) == 0) hint = " (is its id in namenode.ids?)";
    return Status::InvalidArgument(origin + ":" + std::to_string(line_of[first]) +
                                   ": unknown key '" + first + "'" + hint);
  }
  return c;
}

Result<ClusterConfig> LoadClusterConfig(const std::string& path) {
  std::ifstream f(path);
  if (!f) return Status::NotFound("cannot open cluster file '" + path + "'");
  std::stringstream ss;
  ss << f.rdbuf();
  return ParseClusterConfig(ss.str(), path);
}

}  // namespace qj
