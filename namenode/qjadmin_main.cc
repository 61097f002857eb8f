// qjadmin: namenode administration, with HDFS dfsadmin's verbs.
//
//   qjadmin [--cluster_conf=FILE] -report
//   qjadmin [--cluster_conf=FILE] -saveNamespace [<namenode id>]
//   qjadmin [--cluster_conf=FILE] -rollEdits
//   qjadmin [--cluster_conf=FILE] -fetchImage <local dir>
//
// -report         per namenode: HA state, last applied / written / committed txid, newest
//                 image txid and age, inode count; per journalnode: reachable, last
//                 written and committed txid.
// -saveNamespace  every namenode (or the one named) writes an image at its last applied
//                 txid now; the active first waits until its applied edits are committed.
// -rollEdits      the active finalizes its journal segment and opens the next one; prints
//                 the new segment's first txid.
// -fetchImage     downloads the newest image any namenode holds into the directory
//                 (verified, never left partial), as fsimage_<txid>.
// Exit 0 on success (and --help, --version); 2 on a usage error; 1 on a failure, with a
// one-line reason on stderr that keeps the namenode's error code.
#include <gflags/gflags.h>
#include <glog/logging.h>

#include <algorithm>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "ClientProtocol.h"
#include "common/cli.h"
#include "common/cluster_config.h"
#include "common/rpc/rpc.h"
#include "journalnode/client/journal_channel.h"
#include "journalnode/client/quorum_call.h"
#include "namenode/checkpointer.h"
#include "namenode/image.h"

DEFINE_string(cluster_conf, "conf/cluster.conf", "The cluster file.");
DEFINE_int64(qjadmin_rpc_timeout_ms, 60000,
             "Timeout of one call to a namenode (saveNamespace may write a large image).");
DEFINE_int64(qjadmin_connect_timeout_ms, 3000, "Timeout of connecting to a namenode.");
DEFINE_string(tls_identity, "admin",
              "With TLS on (tls.enabled in the cluster file): the certificate to present, "
              "tls.cert_dir/<identity>.crt; the namenode administration calls need an admin");

namespace {

namespace th = qjournal::thrift;
using qj::ClusterConfig;
using qj::NamenodeInfo;
using qj::cli::kExitFailure;
using qj::cli::kExitOk;
using qj::cli::kExitUsage;

int Usage(std::ostream& out = std::cerr, int rc = kExitUsage) {
  out << "Usage: qjadmin [--cluster_conf=FILE]\n"
         "    [-report]\n"
         "    [-saveNamespace [<namenode id>]]\n"
         "    [-rollEdits]\n"
         "    [-fetchImage <local directory>]\n";
  return rc;
}

int Fail(const std::string& reason) {
  std::cerr << "qjadmin: " << reason << "\n";
  return kExitFailure;
}

// One connection to one namenode, through the RPC layer (timeouts, frame bound, TLS).
qj::Result<std::unique_ptr<qj::rpc::Connection>> ConnectTo(const NamenodeInfo& nn) {
  qj::rpc::ClientOptions o;
  o.connect_timeout_ms = FLAGS_qjadmin_connect_timeout_ms;
  o.send_timeout_ms = FLAGS_qjadmin_rpc_timeout_ms;
  o.recv_timeout_ms = FLAGS_qjadmin_rpc_timeout_ms;
  return qj::rpc::Connect(nn.rpc(), o);
}

std::string CodeName(th::FsErrorCode::type c) {
  auto it = th::_FsErrorCode_VALUES_TO_NAMES.find(c);
  return it == th::_FsErrorCode_VALUES_TO_NAMES.end() ? std::to_string(c) : it->second;
}

std::string StateName(th::HAServiceState::type s) {
  switch (s) {
    case th::HAServiceState::ACTIVE:
      return "active";
    case th::HAServiceState::STANDBY:
      return "standby";
    case th::HAServiceState::INITIALIZING:
      return "initializing";
    case th::HAServiceState::STOPPING:
      return "stopping";
  }
  return "unknown";
}

// Runs `call` against namenode `nn`; on failure sets *error to a one-line reason that
// keeps the code (FsException code name, or the transport error).
template <typename Fn>
bool CallNamenode(const NamenodeInfo& nn, const Fn& call, std::string* error) {
  auto conn = ConnectTo(nn);
  if (!conn.ok()) {
    *error = nn.id + ": " + conn.status().ToString();
    return false;
  }
  try {
    th::ClientProtocolClient client((*conn)->in(), (*conn)->out());
    call(&client);
    return true;
  } catch (const th::FsException& e) {
    *error = nn.id + ": " + CodeName(e.code) + ": " + e.message;
  } catch (const std::exception& e) {
    *error = nn.id + ": " + qj::rpc::FromThrift(e, nn.rpc().ToString()).ToString();
  }
  return false;
}

std::string FormatAge(int64_t ms) {
  std::ostringstream o;
  if (ms < 120000) {
    o << ms / 1000 << " s";
  } else if (ms < 7200000) {
    o << ms / 60000 << " min";
  } else {
    o << ms / 3600000 << " h";
  }
  return o.str();
}

int Report(const ClusterConfig& conf) {
  int reachable = 0;
  std::cout << "Namenodes:\n";
  for (const NamenodeInfo& nn : conf.namenodes) {
    th::NamenodeReport r;
    std::string error;
    std::cout << "Name: " << nn.id << " (" << nn.rpc().ToString() << ")\n";
    if (!CallNamenode(
            nn, [&](th::ClientProtocolClient* c) { c->getNamenodeReport(r); }, &error)) {
      std::cout << "Reachable: no (" << error << ")\n\n";
      continue;
    }
    ++reachable;
    std::cout << "Reachable: yes\n"
              << "HA state: " << StateName(r.state) << "\n"
              << "Epoch: " << r.epoch << "\n"
              << "Last applied txid: " << r.lastAppliedTxId << "\n";
    if (r.__isset.lastWrittenTxId) std::cout << "Last written txid: " << r.lastWrittenTxId << "\n";
    if (r.__isset.committedTxId) std::cout << "Committed txid: " << r.committedTxId << "\n";
    std::cout << "Image txid: " << r.imageTxId;
    if (r.__isset.imageAgeMs) std::cout << " (written " << FormatAge(r.imageAgeMs) << " ago)";
    std::cout << "\nInodes: " << r.inodeCount << "\n\n";
  }
  qj::jn::QuorumOptions q;
  q.journalnodes = conf.journal.journalnodes;
  q.journal_id = conf.journal.journal_id;
  q.name = "qjadmin";
  q.rpc_timeout_ms = FLAGS_qjadmin_connect_timeout_ms;
  auto channels = qj::jn::MakeChannels(q);
  const auto chans = qj::jn::ChannelPointers(channels);
  auto states = qj::jn::CallQuorum<qj::jn::JournalState>(
      chans, static_cast<int>(chans.size()), q.rpc_timeout_ms, "qjadmin: getJournalState",
      [](qj::jn::JournalChannel& c, qj::jn::ReplyCallback<qj::jn::JournalState> cb) {
        c.GetJournalState(cb);
      },
      true);
  std::cout << "Journalnodes (journal " << q.journal_id << "):\n";
  for (size_t i = 0; i < states.replies.size(); ++i) {
    const auto& rep = states.replies[i];
    std::cout << "Name: " << q.journalnodes[i].ToString() << "\n";
    if (!rep || !rep->ok()) {
      std::cout << "Reachable: no (" << (rep ? rep->status.ToString() : std::string("no answer"))
                << ")\n\n";
      continue;
    }
    std::cout << "Reachable: yes\n"
              << "Last written txid: " << rep->value.last_written_txid << "\n"
              << "Committed txid: " << rep->value.committed_txid << "\n\n";
  }
  if (reachable == 0) return Fail("no namenode is reachable");
  return kExitOk;
}

int SaveNamespace(const ClusterConfig& conf, const std::string& only) {
  int done = 0;
  int failed = 0;
  for (const NamenodeInfo& nn : conf.namenodes) {
    if (!only.empty() && nn.id != only) continue;
    int64_t txid = -1;
    std::string error;
    if (CallNamenode(
            nn, [&](th::ClientProtocolClient* c) { txid = c->saveNamespace(); }, &error)) {
      std::cout << "Save namespace successful for " << nn.id << " (image at txid " << txid << ")\n";
      ++done;
    } else {
      std::cerr << "qjadmin: saveNamespace: " << error << "\n";
      ++failed;
    }
  }
  return failed == 0 && done > 0 ? kExitOk : kExitFailure;
}

int RollEdits(const ClusterConfig& conf) {
  std::vector<std::string> errors;
  for (const NamenodeInfo& nn : conf.namenodes) {
    int64_t first = -1;
    std::string error;
    if (CallNamenode(
            nn, [&](th::ClientProtocolClient* c) { first = c->rollEdits(); }, &error)) {
      std::cout << "Successfully rolled edit logs on " << nn.id << ".\n"
                << "New segment starts at txid " << first << "\n";
      return kExitOk;
    }
    errors.push_back(error);
  }
  std::string all;
  for (const std::string& e : errors) all += (all.empty() ? "" : "; ") + e;
  return Fail("rollEdits: no namenode rolled its edits: " + all);
}

int FetchImage(const ClusterConfig& conf, const std::string& dir) {
  const NamenodeInfo* best = nullptr;
  int64_t best_txid = -1;
  std::string errors;
  for (const NamenodeInfo& nn : conf.namenodes) {
    auto txid = qj::nn::PeerLatestImageTxId(nn.rpc(), FLAGS_qjadmin_connect_timeout_ms,
                                            qj::rpc::ProcessTls());
    if (!txid.ok()) {
      errors += (errors.empty() ? "" : "; ") + txid.status().ToString();
      continue;
    }
    if (*txid > best_txid) {
      best_txid = *txid;
      best = &nn;
    }
  }
  if (best == nullptr) return Fail("fetchImage: no namenode answered: " + errors);
  if (best_txid < 0) return Fail("fetchImage: no namenode holds an image");
  qj::Status st = qj::nn::DownloadImage(best->rpc(), best_txid, dir, FLAGS_qjadmin_rpc_timeout_ms,
                                        qj::rpc::ProcessTls());
  if (!st.ok()) return Fail("fetchImage: from " + best->id + ": " + st.ToString());
  std::cout << "Downloaded image " << qj::nn::ImageFileName(best_txid) << " (txid " << best_txid
            << ") from " << best->id << " into " << dir << "\n";
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  qj::cli::SetClusterConfDefault();
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (qj::cli::IsHelpArg(a)) return Usage(std::cout, kExitOk);
    if (qj::cli::IsVersionArg(a)) {
      qj::cli::PrintVersion("qjadmin");
      return kExitOk;
    }
  }
  std::vector<std::string> cmd;
  if (int rc = qj::cli::ParseToolArgs(argc, argv, "qjadmin", &cmd); rc >= 0) return rc;

  if (cmd.empty()) return Usage();
  const std::string& verb = cmd[0];
  const bool known =
      (verb == "-report" && cmd.size() == 1) || (verb == "-saveNamespace" && cmd.size() <= 2) ||
      (verb == "-rollEdits" && cmd.size() == 1) || (verb == "-fetchImage" && cmd.size() == 2);
  if (!known) return Usage();
  auto conf = qj::LoadClusterConfig(FLAGS_cluster_conf);
  if (!conf.ok()) return Fail(conf.status().ToString());
  if (qj::Status t = qj::rpc::InitProcessTls(*conf, FLAGS_tls_identity); !t.ok()) {
    return Fail(t.ToString());
  }

  if (verb == "-report") return Report(*conf);
  if (verb == "-saveNamespace") {
    const std::string only = cmd.size() == 2 ? cmd[1] : "";
    if (!only.empty() && conf->FindNamenode(only) == nullptr) {
      std::cerr << "qjadmin: unknown namenode '" << only << "'\n";
      return kExitUsage;
    }
    return SaveNamespace(*conf, only);
  }
  if (verb == "-rollEdits") return RollEdits(*conf);
  return FetchImage(*conf, cmd[1]);
}
