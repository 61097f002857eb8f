// The namenode daemon.
//
//   namenode --cluster_conf=conf/cluster.conf --namenode_id=nn1 --namenode_name_dir=DIR
//            [--format [--force] | --bootstrap_standby [--force] |
//             --initialize_shared_edits [--force] | --recover [--force]]
//
// Modes:
//   --format             creates an empty namespace image at txid 0 in the name dir and
//                        formats the journal on every journalnode; refuses when the name
//                        dir holds images or the journal is formatted, unless --force.
//   --bootstrap_standby  copies the newest image of the other namenode(s) into the name
//                        dir (verified), then exits; refuses to overwrite images unless
//                        --force.
//   --initialize_shared_edits
//                        (HDFS -initializeSharedEdits) formats the journal on every
//                        journalnode and starts it right after this name dir's newest
//                        valid image (txid T: one finalized segment holding a NOOP at
//                        T + 1), so that a namenode whose image outlived its journal (or a
//                        new journal) can serve again; refuses when the journal is
//                        formatted, unless --force (which destroys its edits).
//   --recover            (HDFS -recover, non-interactive) loads the newest image, replays
//                        the committed journal over it and reports the first record that
//                        does not decode or apply (txid, op, reason); exit 1 then. With
//                        --force it truncates the log there: saves an image at the last
//                        good txid and restarts the journal after it (the bad record and
//                        every later edit are destroyed).
//   (default)            loads the newest valid image, starts as STANDBY (tailing the
//                        journal) and serves RPCs until SIGTERM/SIGINT; becomes active
//                        on transitionToActive (haadmin or failoverd).
// Exit status: 0 success (and clean shutdown), 1 failure, 2 bad flags or configuration.
// Shutdown order on SIGTERM: stop serving, finalize the open segment if active, stop the
// tailer and checkpoint threads, close the RPC port.
#include <gflags/gflags.h>
#include <glog/logging.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "common/cli.h"
#include "common/cluster_config.h"
#include "common/file_ops.h"
#include "common/rpc/authz.h"
#include "common/rpc/rpc.h"
#include "journalnode/client/quorum_writer.h"
#include "namenode/checkpointer.h"
#include "namenode/edit_ops.h"
#include "namenode/image.h"
#include "namenode/namenode_server.h"
#include "namenode/namenode_web.h"
#include "namenode/service_handler.h"

DEFINE_string(cluster_conf, "conf/cluster.conf", "The cluster file.");
DEFINE_string(namenode_id, "", "This namenode's id in the cluster file (e.g. nn1).");
DEFINE_string(namenode_name_dir, "", "Directory holding this namenode's images.");
DEFINE_string(tls_identity, "",
              "With TLS on: the certificate this process presents (tls.cert_dir/<id>.crt); "
              "default the namenode id. Formatting the journal needs an admin identity.");
DEFINE_bool(format, false, "Format a new namespace (image at txid 0 + the journal), then exit.");
DEFINE_bool(force, false,
            "With --format / --bootstrap_standby / --initialize_shared_edits: overwrite "
            "existing data.");
DEFINE_bool(bootstrap_standby, false,
            "Copy the other namenode's newest image into the name dir, then exit.");
DEFINE_bool(initialize_shared_edits, false,
            "Format the journal so that it continues this namenode's newest image, then exit.");
DEFINE_bool(recover, false,
            "Replay the journal over the newest image and report the first bad record; with "
            "--force, truncate the log there. Then exit.");
DEFINE_string(namenode_superuser, "",
              "User that bypasses permission checks (HDFS: the namenode process's user). "
              "Empty = the user running this process.");
DEFINE_string(namenode_supergroup, "supergroup", "Members of this group are superusers too.");
DEFINE_bool(namenode_permissions_enabled, true, "Check HDFS permission bits.");
DEFINE_int64(namenode_segment_txns, 100000, "Edits per journal segment before rolling.");
DEFINE_int64(namenode_checkpoint_txns, 100000, "Standby checkpoints after this many txids.");
DEFINE_int64(namenode_checkpoint_period_s, 600, "... or after this many seconds.");
DEFINE_int64(namenode_checkpoint_check_interval_ms, 1000,
             "How often the checkpoint thread looks for work (and pulls the peer's images).");
DEFINE_int32(namenode_images_retained, 2, "Images kept in the name dir.");
DEFINE_int64(namenode_extra_edits_retained, 1000000,
             "Journal txids kept below the oldest retained image.");
DEFINE_bool(namenode_read_barrier, true,
            "Without a lease (manual mode), confirm every read with a journal barrier so a "
            "deposed active never answers from stale state.");
DEFINE_int64(namenode_commit_timeout_ms, 30000,
             "How long a client call waits for its edit to commit.");
DEFINE_int64(namenode_journal_rpc_timeout_ms, 2000, "Per-call timeout to one journalnode.");
DEFINE_int64(namenode_journal_write_timeout_ms, 10000,
             "A batch not acked by a majority within this time fails the writer.");
DEFINE_int64(namenode_journal_recovery_timeout_ms, 20000,
             "Time allowed for the epoch/recovery phases of becoming active.");
DEFINE_int64(namenode_journal_accept_recovery_timeout_ms, 120000,
             "Time allowed for acceptRecovery, during which a journalnode may copy the whole "
             "last segment (HDFS dfs.qjournal.accept-recovery.timeout.ms).");
DEFINE_int64(namenode_retry_cache_expiry_ms, 600000,
             "How long the retry cache keeps the answer of a non-idempotent call, so that a "
             "client retrying it (after a timeout or failover) gets that answer instead of "
             "having the call applied twice (HDFS dfs.namenode.retrycache.expirytime.millis).");
DEFINE_int64(namenode_retry_cache_max_entries, 500000,
             "At most this many answers in the retry cache (oldest evicted first; ~100 bytes "
             "each, ~400 for a create). 0 turns the retry cache off.");
DEFINE_bool(namenode_standby_reads, true,
            "While standby, serve consistent reads (clients that send the txid they have "
            "seen; HDFS-12943 observer reads). Off: a standby refuses every read.");
DEFINE_int64(namenode_standby_read_wait_ms, 200,
             "How long a standby read waits for the standby to apply the client's txid before "
             "the standby refuses it (the client then reads from the active).");
DEFINE_int64(namenode_tail_poll_ms, 10,
             "How long a standby's tailer that found no new committed edit waits before it "
             "asks the journalnodes again (HDFS dfs.ha.tail-edits.period). A standby that has "
             "not read from a journal majority for health.journal_stall_ms is unhealthy: keep "
             "it well below that.");
DEFINE_string(namenode_test_stall_before_marker, "",
              "Test only: the first mutation on a path containing this string sleeps "
              "--namenode_test_stall_ms before it runs. Never set in production.");
DEFINE_string(namenode_test_stall_after_marker, "",
              "Test only: the first mutation on a path containing this string sleeps "
              "--namenode_test_stall_ms after its edit is committed, before it answers.");
DEFINE_int64(namenode_test_stall_ms, 0, "Test only: see --namenode_test_stall_*_marker.");
DEFINE_int64(namenode_activation_hold_ms, 1000,
             "A client call that arrives while this namenode is becoming active waits up to "
             "this long for the transition to end before it is refused NOT_ACTIVE (so HA "
             "clients do not back off during a failover). 0: refuse at once. Keep it below "
             "the clients' attempt timeout (client.attempt_timeout_ms, 2000).");
DEFINE_int64(namenode_test_activation_delay_ms, 0,
             "Test only: delay the end of every transition to active by this long (models a "
             "slow catch-up). Never set in production.");

namespace {

using qj::cli::kExitFailure;
using qj::cli::kExitOk;
using qj::cli::kExitUsage;

std::string ProcessUser() {
  struct passwd* pw = getpwuid(geteuid());
  return pw != nullptr ? pw->pw_name : "root";
}

bool HasImages(const std::string& dir, qj::FileOps* fs) {
  auto images = qj::nn::FindImages(dir, fs);
  return images.ok() && !images->empty();
}

// Removes every image in `dir` (format --force). Fails on the first one that stays.
qj::Status RemoveImages(const std::string& dir, qj::FileOps* fs) {
  QJ_ASSIGN_OR_RETURN(std::vector<qj::nn::ImageInfo> images, qj::nn::FindImages(dir, fs));
  for (const qj::nn::ImageInfo& img : images) QJ_RETURN_IF_ERROR(fs->Unlink(img.path));
  return fs->SyncDir(dir);
}

int Format(const qj::nn::NamenodeOptions& o) {
  const std::string& id = o.namenode_id;
  if (HasImages(o.name_dir, o.file_ops) && !FLAGS_force) {
    LOG(ERROR) << id << ": refusing to format: " << o.name_dir
               << " already holds images (use --force to destroy them)";
    return kExitFailure;
  }
  auto formatted = qj::jn::IsJournalFormatted(o.quorum);
  if (!formatted.ok()) {
    LOG(ERROR) << id << ": cannot tell whether the journal is formatted: " << formatted.status();
    return kExitFailure;
  }
  if (*formatted && !FLAGS_force) {
    LOG(ERROR) << id << ": refusing to format: journal " << o.quorum.journal_id
               << " is already formatted (use --force to destroy it)";
    return kExitFailure;
  }
  qj::jn::NamespaceInfo ns;
  ns.namespace_id = o.cluster.namespace_id;
  ns.cluster_id = o.cluster.cluster_id;
  qj::Status st = qj::jn::FormatJournal(o.quorum, ns, FLAGS_force);
  if (!st.ok()) {
    LOG(ERROR) << id << ": formatting the journal: " << st;
    return kExitFailure;
  }
  st = o.file_ops->CreateDirs(o.name_dir);
  if (!st.ok()) {
    LOG(ERROR) << id << ": creating the name directory: " << st;
    return kExitFailure;
  }
  if (FLAGS_force) {
    // The old images go: a namenode starting on this directory must load the new one.
    st = RemoveImages(o.name_dir, o.file_ops);
    if (!st.ok()) {
      LOG(ERROR) << id << ": formatted the journal, but cannot remove the old images (remove "
                 << "them by hand, or format again): " << st;
      return kExitFailure;
    }
  }
  qj::nn::FsNamespace empty(o.ns_options);
  st = qj::nn::SaveImage(empty, 0, o.name_dir, o.file_ops);
  if (!st.ok()) {
    LOG(ERROR) << id << ": writing the initial image: " << st;
    return kExitFailure;
  }
  LOG(INFO) << id << ": formatted namespace " << ns.namespace_id << " (cluster " << ns.cluster_id
            << "): journal " << o.quorum.journal_id << ", image at txid 0 in " << o.name_dir;
  return kExitOk;
}

int BootstrapStandby(const qj::nn::NamenodeOptions& o) {
  const std::string& id = o.namenode_id;
  if (HasImages(o.name_dir, o.file_ops) && !FLAGS_force) {
    LOG(ERROR) << id << ": refusing to bootstrap: " << o.name_dir
               << " already holds images (use --force)";
    return kExitFailure;
  }
  const qj::NamenodeInfo* best = nullptr;
  int64_t best_txid = -1;
  for (const qj::NamenodeInfo& nn : o.cluster.namenodes) {
    if (nn.id == id) continue;
    auto txid = qj::nn::PeerLatestImageTxId(nn.rpc(), 5000, o.tls);
    if (!txid.ok()) {
      LOG(WARNING) << id << ": " << nn.id << ": " << txid.status();
      continue;
    }
    if (*txid > best_txid) {
      best_txid = *txid;
      best = &nn;
    }
  }
  if (best == nullptr || best_txid < 0) {
    LOG(ERROR) << id << ": no other namenode has an image to bootstrap from";
    return kExitFailure;
  }
  qj::Status st = qj::nn::DownloadImage(best->rpc(), best_txid, o.name_dir, 60000, o.tls);
  if (!st.ok()) {
    LOG(ERROR) << id << ": bootstrapping from " << best->id << ": " << st;
    return kExitFailure;
  }
  LOG(INFO) << id << ": bootstrapped: image at txid " << best_txid << " copied from " << best->id
            << " into " << o.name_dir;
  return kExitOk;
}

int ResetJournalAfter(const qj::nn::NamenodeOptions& o, int64_t txid, bool force);

int InitializeSharedEdits(const qj::nn::NamenodeOptions& o) {
  const std::string& id = o.namenode_id;
  auto image = qj::nn::LoadNewestValidImage(o.name_dir, o.ns_options);
  if (!image.ok()) {
    LOG(ERROR) << id << ": initializeSharedEdits needs an image in " << o.name_dir << ": "
               << image.status();
    return kExitFailure;
  }
  const int64_t txid = image->txid;
  auto formatted = qj::jn::IsJournalFormatted(o.quorum);
  if (!formatted.ok()) {
    LOG(ERROR) << id << ": cannot tell whether the journal is formatted: " << formatted.status();
    return kExitFailure;
  }
  if (*formatted && !FLAGS_force) {
    LOG(ERROR) << id << ": refusing to initialize shared edits: journal " << o.quorum.journal_id
               << " is already formatted (use --force to destroy its edits)";
    return kExitFailure;
  }
  return ResetJournalAfter(o, txid, FLAGS_force);
}

// Formats the journal (force: even if formatted) and makes txid + 1 its first txid.
int ResetJournalAfter(const qj::nn::NamenodeOptions& o, int64_t txid, bool force) {
  const std::string& id = o.namenode_id;
  qj::jn::NamespaceInfo ns;
  ns.namespace_id = o.cluster.namespace_id;
  ns.cluster_id = o.cluster.cluster_id;
  qj::Status st = qj::jn::FormatJournal(o.quorum, ns, force);
  if (!st.ok()) {
    LOG(ERROR) << id << ": formatting the journal: " << st;
    return kExitFailure;
  }
  // One finalized segment whose NOOP is txid T + 1: the journal continues the image, and
  // a namenode loading it catches up from T + 1 as after any checkpoint.
  auto writer = qj::jn::QuorumWriter::Open(o.quorum, ns);
  if (writer.ok()) {
    qj::jn::QuorumWriter* w = writer->get();
    if (w->last_txid() != 0) {
      st = qj::Status::IllegalState("the journal is not empty after formatting (last txid " +
                                    std::to_string(w->last_txid()) + ")");
    }
    if (st.ok()) st = w->StartSegment(txid + 1);
    qj::nn::EncodedEdit noop = qj::nn::EncodeEdit(qj::nn::NoopEdit{});
    if (st.ok()) st = w->Append(txid + 1, noop.op, noop.payload);
    if (st.ok()) st = w->FinalizeSegment();
    w->Close();
  } else {
    st = writer.status();
  }
  if (!st.ok()) {
    LOG(ERROR) << id << ": starting the journal at txid " << txid + 1 << ": " << st;
    return kExitFailure;
  }
  LOG(INFO) << id << ": journal " << o.quorum.journal_id << " continues the image at txid " << txid
            << " (first txid " << txid + 1 << ")";
  return kExitOk;
}

int Recover(const qj::nn::NamenodeOptions& o) {
  const std::string& id = o.namenode_id;
  auto image = qj::nn::LoadNewestValidImage(o.name_dir, o.ns_options);
  if (!image.ok()) {
    LOG(ERROR) << id << ": recover: no image to start from in " << o.name_dir << ": "
               << image.status();
    return kExitFailure;
  }
  std::unique_ptr<qj::nn::FsNamespace> ns = std::move(image->ns);
  const int64_t image_txid = image->txid;
  std::unique_ptr<qj::jn::QuorumReader> reader = qj::jn::QuorumReader::Create(o.quorum);
  auto committed = reader->CommittedTxId();
  if (!committed.ok()) {
    LOG(ERROR) << id << ": recover: reading the journal: " << committed.status();
    return kExitFailure;
  }
  int64_t next = image_txid + 1;
  int64_t bad_txid = -1;
  qj::Status why;
  while (bad_txid < 0 && next <= *committed) {
    auto batch = reader->ReadCommitted(next, 1000);
    if (!batch.ok()) {
      LOG(ERROR) << id << ": recover: reading txid " << next << ": " << batch.status();
      return kExitFailure;
    }
    if (batch->empty()) break;
    for (const qj::EditRecord& r : *batch) {
      if (r.txid < next) continue;
      if (r.txid != next) {
        bad_txid = next;
        why = qj::Status::Corruption("gap in the edit log: next record is txid " +
                                     std::to_string(r.txid));
        break;
      }
      auto edit = qj::nn::DecodeEdit(r.op, r.payload);
      why = edit.ok() ? ns->Apply(*edit, r.txid) : edit.status();
      if (!why.ok()) {
        bad_txid = r.txid;
        char op[16];
        snprintf(op, sizeof(op), "0x%04x", r.op);
        why = why.Prepend(std::string("op ") + op);
        break;
      }
      ++next;
    }
  }
  if (bad_txid < 0) {
    std::cout << id << ": recover: image at txid " << image_txid << " and edits up to txid "
              << next - 1 << " replay cleanly; nothing to recover\n";
    return kExitOk;
  }
  std::cout << id << ": recover: first bad record at txid " << bad_txid << ": " << why << "\n"
            << id << ": recover: edits " << image_txid + 1 << ".." << bad_txid - 1
            << " replay cleanly; " << *committed - bad_txid + 1 << " committed edits from txid "
            << bad_txid << " on would be discarded\n";
  if (!FLAGS_force) {
    std::cout << id << ": recover: rerun with --force to truncate the log before txid " << bad_txid
              << "\n";
    return kExitFailure;
  }
  // Truncate: an image at the last good txid, and a journal that goes on from the bad
  // one (which becomes a NOOP). The journal's later edits are destroyed.
  qj::Status st = qj::nn::SaveImage(*ns, bad_txid - 1, o.name_dir);
  if (!st.ok()) {
    LOG(ERROR) << id << ": recover: saving the image at txid " << bad_txid - 1 << ": " << st;
    return kExitFailure;
  }
  if (int rc = ResetJournalAfter(o, bad_txid - 1, /*force=*/true); rc != kExitOk) return rc;
  std::cout << id << ": recover: log truncated before txid " << bad_txid << "; image at txid "
            << bad_txid - 1 << " in " << o.name_dir
            << "; bootstrap the other namenodes again (--bootstrap_standby --force)\n";
  return kExitOk;
}

int Run(const qj::nn::NamenodeOptions& o, const qj::NamenodeInfo& me) {
  // Signals are taken by sigwait below; block them before any thread starts.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);

  qj::nn::NamenodeServer server(o);
  qj::Status st = server.Start();
  if (!st.ok()) {
    LOG(ERROR) << st;
    return kExitFailure;
  }
  qj::rpc::ServerOptions ro = qj::nn::NamenodeRpcServerOptions();
  ro.bind_host = me.host;
  ro.port = me.rpc_port;
  st = ro.ApplyCluster(o.cluster, o.namenode_id, qj::rpc::NamenodePolicy(o.cluster));
  if (!st.ok()) {
    LOG(ERROR) << o.namenode_id << ": " << st;
    server.Stop();
    return kExitFailure;
  }
  qj::nn::NamenodeRpcServer rpc(&server, ro);
  st = rpc.Start();
  if (!st.ok()) {
    LOG(ERROR) << o.namenode_id << ": " << st;
    server.Stop();
    return kExitFailure;
  }
  std::unique_ptr<qj::DaemonWeb> web;
  if (me.http_port > 0) {
    web = qj::nn::MakeNamenodeWeb(&server, {me.host, me.http_port, 32, 10000, o.namenode_id});
    if (st = web->Start(); !st.ok()) {
      LOG(ERROR) << o.namenode_id << ": " << st;
      rpc.Stop();
      server.Stop();
      return kExitFailure;
    }
  }
  LOG(INFO) << o.namenode_id << ": serving on " << me.rpc().ToString() << " as standby";
  int sig = 0;
  sigwait(&sigs, &sig);
  LOG(INFO) << o.namenode_id << ": signal " << sig << ": shutting down";
  if (web) web->Stop();
  server.Stop();
  rpc.Stop();
  LOG(INFO) << o.namenode_id << ": bye";
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  constexpr char kUsage[] =
      "namenode --cluster_conf=FILE --namenode_id=ID --namenode_name_dir=DIR "
      "[--format [--force] | --bootstrap_standby | --initialize_shared_edits [--force] | "
      "--recover [--force]]";
  gflags::SetUsageMessage(kUsage);
  qj::cli::SetClusterConfDefault();
  if (int rc = qj::cli::PreParseGflags(argc, argv, "namenode", kUsage); rc >= 0) return rc;
  for (int i = 1; i < argc; ++i) {
    if (argv[i][0] != '-') {
      std::cerr << "namenode: unexpected argument '" << argv[i] << "'\n";
      return kExitUsage;
    }
  }
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  if (!qj::cli::InitDaemonLogging(argv[0], "namenode")) return kExitUsage;

  if (FLAGS_namenode_id.empty() || FLAGS_namenode_name_dir.empty()) {
    std::cerr << "namenode: --namenode_id and --namenode_name_dir are required\n";
    return kExitUsage;
  }
  if (static_cast<int>(FLAGS_format) + static_cast<int>(FLAGS_bootstrap_standby) +
          static_cast<int>(FLAGS_initialize_shared_edits) + static_cast<int>(FLAGS_recover) >
      1) {
    std::cerr << "namenode: --format, --bootstrap_standby, --initialize_shared_edits and "
                 "--recover exclude each other\n";
    return kExitUsage;
  }
  if (FLAGS_namenode_segment_txns < 1 || FLAGS_namenode_images_retained < 1 ||
      FLAGS_namenode_checkpoint_txns < 1 || FLAGS_namenode_checkpoint_period_s < 1 ||
      FLAGS_namenode_extra_edits_retained < 0) {
    std::cerr << "namenode: segment/checkpoint/retention flags must be positive\n";
    return kExitUsage;
  }
  auto conf = qj::LoadClusterConfig(FLAGS_cluster_conf);
  if (!conf.ok()) {
    std::cerr << "namenode: " << conf.status() << "\n";
    return kExitUsage;
  }
  const qj::NamenodeInfo* me = conf->FindNamenode(FLAGS_namenode_id);
  if (me == nullptr) {
    std::cerr << "namenode: no namenode '" << FLAGS_namenode_id << "' in " << FLAGS_cluster_conf
              << "\n";
    return kExitUsage;
  }

  qj::nn::NamenodeOptions o;
  o.namenode_id = FLAGS_namenode_id;
  o.cluster = *conf;
  o.name_dir = FLAGS_namenode_name_dir;
  o.ns_options.namespace_id = conf->namespace_id;
  o.ns_options.superuser =
      FLAGS_namenode_superuser.empty() ? ProcessUser() : FLAGS_namenode_superuser;
  o.ns_options.supergroup = FLAGS_namenode_supergroup;
  o.ns_options.permissions_enabled = FLAGS_namenode_permissions_enabled;
  if (qj::Status st = qj::nn::ValidateNamespaceOptions(o.ns_options); !st.ok()) {
    std::cerr << "namenode: " << st.ToString() << "\n";
    return kExitUsage;
  }
  const std::string identity = FLAGS_tls_identity.empty() ? FLAGS_namenode_id : FLAGS_tls_identity;
  auto tls = qj::rpc::TlsFor(*conf, identity);
  if (!tls.ok()) {
    std::cerr << "namenode: " << tls.status() << "\n";
    return kExitUsage;
  }
  qj::rpc::SetProcessTls(*tls);
  o.tls = *tls;
  o.quorum.tls = *tls;
  o.quorum.journalnodes = conf->journal.journalnodes;
  o.quorum.journal_id = conf->journal.journal_id;
  o.quorum.name = FLAGS_namenode_id;
  o.quorum.rpc_timeout_ms = FLAGS_namenode_journal_rpc_timeout_ms;
  o.quorum.write_timeout_ms = FLAGS_namenode_journal_write_timeout_ms;
  o.quorum.recovery_timeout_ms = FLAGS_namenode_journal_recovery_timeout_ms;
  o.quorum.accept_recovery_timeout_ms = FLAGS_namenode_journal_accept_recovery_timeout_ms;
  o.segment_txns = FLAGS_namenode_segment_txns;
  o.checkpoint_txns = FLAGS_namenode_checkpoint_txns;
  o.checkpoint_period_s = FLAGS_namenode_checkpoint_period_s;
  o.checkpoint_check_interval_ms = FLAGS_namenode_checkpoint_check_interval_ms;
  o.images_retained = FLAGS_namenode_images_retained;
  o.extra_edits_retained = FLAGS_namenode_extra_edits_retained;
  o.read_barrier = FLAGS_namenode_read_barrier;
  o.commit_timeout_ms = FLAGS_namenode_commit_timeout_ms;
  o.test_activation_delay_ms = FLAGS_namenode_test_activation_delay_ms;
  if (FLAGS_namenode_retry_cache_expiry_ms <= 0 || FLAGS_namenode_retry_cache_max_entries < 0) {
    std::cerr << "namenode: --namenode_retry_cache_expiry_ms must be > 0 and "
                 "--namenode_retry_cache_max_entries >= 0\n";
    return kExitUsage;
  }
  if (FLAGS_namenode_standby_read_wait_ms < 0) {
    std::cerr << "namenode: --namenode_standby_read_wait_ms must be >= 0\n";
    return kExitUsage;
  }
  if (FLAGS_namenode_activation_hold_ms < 0) {
    std::cerr << "namenode: --namenode_activation_hold_ms must be >= 0\n";
    return kExitUsage;
  }
  o.activation_hold_ms = FLAGS_namenode_activation_hold_ms;
  if (FLAGS_namenode_tail_poll_ms < 1) {
    std::cerr << "namenode: --namenode_tail_poll_ms must be >= 1\n";
    return kExitUsage;
  }
  o.tail_poll_ms = FLAGS_namenode_tail_poll_ms;
  o.standby_reads = FLAGS_namenode_standby_reads;
  o.standby_read_wait_ms = FLAGS_namenode_standby_read_wait_ms;
  o.retry_cache.expiry_ms = FLAGS_namenode_retry_cache_expiry_ms;
  o.retry_cache.max_entries = FLAGS_namenode_retry_cache_max_entries;
  o.test_stall_before_marker = FLAGS_namenode_test_stall_before_marker;
  o.test_stall_after_marker = FLAGS_namenode_test_stall_after_marker;
  o.test_stall_ms = FLAGS_namenode_test_stall_ms;

  if (FLAGS_format) return Format(o);
  if (FLAGS_bootstrap_standby) return BootstrapStandby(o);
  if (FLAGS_initialize_shared_edits) return InitializeSharedEdits(o);
  if (FLAGS_recover) return Recover(o);
  return Run(o, *me);
}
