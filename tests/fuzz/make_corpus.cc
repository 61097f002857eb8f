// Writes the fuzzers' seed corpus with the real encoders (record encoder, segment writer,
// edit encoder, image writer, generated Thrift client), so that the seeds are valid
// inputs the fuzzers mutate from:
//
//   build/tests/fuzz/fuzz_make_corpus tests/fuzz/corpus [conf/cluster.conf]
//
// Output is deterministic (fixed timestamps and ids): rerunning it leaves the checked-in
// corpus unchanged unless an encoder changed.
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "ClientProtocol.h"
#include "FailoverController.h"
#include "JournalProtocol.h"
#include "common/edit_record.h"
#include "common/thrift_transport.h"
#include "journalnode/segment.h"
#include "namenode/edit_ops.h"
#include "namenode/image.h"
#include "namenode/namespace.h"
#include "tests/fuzz/fuzz_target.h"

namespace qj::fuzz {

using nn::AddBlockEdit;
using nn::BlockInfo;
using nn::CompleteEdit;
using nn::CreateEdit;
using nn::DeleteEdit;
using nn::DescribeEdit;
using nn::Edit;
using nn::EditOp;
using nn::EncodedEdit;
using nn::EncodeEdit;
using nn::FsNamespace;
using nn::ImageFileName;
using nn::kFirstBlockId;
using nn::kFirstGenerationStamp;
using nn::MkdirEdit;
using nn::NamespaceOptions;
using nn::NoopEdit;
using nn::RenameEdit;
using nn::SaveImage;
using nn::SetOwnerEdit;
using nn::SetPermissionEdit;
using nn::SetReplicationEdit;
using nn::SetTimesEdit;

namespace {

namespace fs = std::filesystem;
namespace th = qjournal::thrift;

std::string out_dir;

void Put(const std::string& target, const std::string& name, std::string_view bytes) {
  fs::create_directories(out_dir + "/" + target);
  WriteFileOrDie(out_dir + "/" + target + "/" + name, bytes);
}

std::string U16(uint16_t v) { return std::string{static_cast<char>(v), static_cast<char>(v >> 8)}; }
std::string Blob(std::string_view s) {
  return U16(static_cast<uint16_t>(s.size())) + std::string(s);
}

std::string Records(int64_t first, int64_t count) {
  std::string out;
  for (int64_t t = first; t < first + count; ++t) {
    AppendRecord(&out, t, static_cast<uint16_t>(EditOp::kNoop), "payload-" + std::to_string(t));
  }
  return out;
}

// A namespace history that Apply accepts, touching every op.
std::vector<Edit> History() {
  std::vector<Edit> h;
  h.push_back(NoopEdit{});
  MkdirEdit mk;
  mk.path = "/a/b";
  mk.new_inode_ids = {16386, 16387};
  mk.owner = "alice";
  mk.group = "staff";
  mk.permission = 0755;
  mk.parent_permission = 0755;
  mk.mtime_ms = 1000;
  h.push_back(mk);
  CreateEdit cr;
  cr.path = "/a/b/f";
  cr.inode_id = 16388;
  cr.owner = "alice";
  cr.group = "staff";
  cr.permission = 0644;
  cr.replication = 3;
  cr.block_size = 1 << 20;
  cr.mtime_ms = 2000;
  h.push_back(cr);
  AddBlockEdit ab;
  ab.path = "/a/b/f";
  ab.inode_id = 16388;
  ab.previous_block_length = -1;
  ab.block = BlockInfo{kFirstBlockId, 0, kFirstGenerationStamp};
  h.push_back(ab);
  CompleteEdit co;
  co.path = "/a/b/f";
  co.inode_id = 16388;
  co.last_block_length = 4096;
  co.mtime_ms = 3000;
  h.push_back(co);
  SetPermissionEdit sp;
  sp.path = "/a/b/f";
  sp.inode_id = 16388;
  sp.permission = 0600;
  h.push_back(sp);
  SetOwnerEdit so;
  so.path = "/a/b/f";
  so.inode_id = 16388;
  so.owner = "bob";
  so.group = "";
  h.push_back(so);
  SetTimesEdit st;
  st.path = "/a/b/f";
  st.inode_id = 16388;
  st.mtime_ms = 4000;
  st.atime_ms = -1;
  h.push_back(st);
  SetReplicationEdit sr;
  sr.path = "/a/b/f";
  sr.inode_id = 16388;
  sr.replication = 2;
  h.push_back(sr);
  RenameEdit rn;
  rn.src = "/a/b/f";
  rn.dst = "/a/g";
  rn.inode_id = 16388;
  rn.mtime_ms = 5000;
  h.push_back(rn);
  DeleteEdit de;
  de.path = "/a/b";
  de.inode_id = 16387;
  de.mtime_ms = 6000;
  h.push_back(de);
  return h;
}

void EditRecordSeeds() {
  Put("edit_record", "one", Records(1, 1));
  Put("edit_record", "three", Records(7, 3));
  std::string empty_payload;
  AppendRecord(&empty_payload, 1, 0, "");
  Put("edit_record", "empty_payload", empty_payload);
}

void SegmentSeeds() {
  FileOps* ops = FileOps::Posix();
  const std::string dir = ScratchDir() + "/segments";
  ResetDir(dir);
  auto w = jn::SegmentWriter::Create(ops, dir, 1, 4096);
  QJ_FUZZ_CHECK(w.ok(), w.status().ToString());
  const std::string recs = Records(1, 5);
  QJ_FUZZ_CHECK((*w)->Append(recs, 1, 5).ok(), "append");
  // In progress as written: records, then the preallocated zeros.
  std::ifstream in(dir + "/" + jn::InProgressName(1), std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string inprogress = ss.str();
  Put("segment", "inprogress_prealloc", inprogress);
  Put("segment", "finalized", recs);
  std::string torn = recs + Records(6, 1).substr(0, 25) + std::string(100, '\0');
  Put("segment", "torn_tail", torn);
}

void ClusterConfigSeeds(const std::string& conf_path) {
  Put("cluster_config", "minimal",
      "namespace.id = 1\n"
      "cluster.id = c1\n"
      "journal.uri = qjournal://127.0.0.1:1;127.0.0.1:2;127.0.0.1:3/ns1\n"
      "namenode.ids = nn1,nn2\n"
      "namenode.nn1.host = 127.0.0.1\n"
      "namenode.nn1.rpc_port = 4\n"
      "namenode.nn1.failoverd_port = 5\n"
      "namenode.nn2.host = 127.0.0.1\n"
      "namenode.nn2.rpc_port = 6\n"
      "namenode.nn2.failoverd_port = 7\n"
      "failover.automatic = false\n"
      "lease.duration_ms = 3000 # comment\n");
  std::ifstream in(conf_path, std::ios::binary);
  if (in) {
    std::stringstream ss;
    ss << in.rdbuf();
    Put("cluster_config", "cluster_conf", ss.str());
  }
}

std::string EditSequence(const std::vector<Edit>& edits) {
  std::string out;
  for (const Edit& e : edits) {
    EncodedEdit enc = EncodeEdit(e);
    out += U16(enc.op) + Blob(enc.payload);
  }
  return out;
}

void EditOpsAndImageSeeds() {
  const std::vector<Edit> history = History();
  NamespaceOptions options;
  options.namespace_id = 7;
  FsNamespace ns(options);
  int64_t txid = 1;
  for (const Edit& e : history) {
    Status s = ns.Apply(e, txid++);
    QJ_FUZZ_CHECK(s.ok(), DescribeEdit(e) + ": " + s.ToString());
    // Each op alone too: the decoder's every branch has a seed.
    EncodedEdit enc = EncodeEdit(e);
    Put("edit_ops", "op_" + std::to_string(enc.op), U16(enc.op) + Blob(enc.payload));
  }
  Put("edit_ops", "history", EditSequence(history));

  const std::string dir = ScratchDir() + "/images";
  ResetDir(dir);
  auto save = [&](const FsNamespace& n, const std::string& name) {
    QJ_FUZZ_CHECK(SaveImage(n, 1, dir).ok(), "save image");
    std::ifstream in(dir + "/" + ImageFileName(1), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    Put("image", name, ss.str());
  };
  FsNamespace empty(options);
  save(empty, "empty");
  // Stop before the delete so that the image holds a tree with a file and a block.
  FsNamespace tree(options);
  for (size_t i = 0; i + 1 < history.size(); ++i) {
    QJ_FUZZ_CHECK(tree.Apply(history[i], static_cast<int64_t>(i + 1)).ok(), "apply");
  }
  save(tree, "tree");
}

void JnMetadataSeeds() {
  auto entry = [](int kind, std::string_view content) {
    return std::string(1, static_cast<char>(kind)) + Blob(content);
  };
  auto named = [](int kind, std::string_view name, std::string_view content) {
    return std::string(1, static_cast<char>(kind)) + Blob(name) + Blob(content);
  };
  const std::string version = "namespaceId=7\nclusterId=c1\nlayoutVersion=1\n";
  Put("jn_metadata", "formatted_empty", entry(0, version));
  std::string full = entry(0, version) + entry(1, "3\n") + entry(2, "2\n") + entry(3, "5\n");
  full += named(6, jn::FinalizedName(1, 5), Records(1, 5));
  full += named(6, jn::InProgressName(6), Records(6, 3) + std::string(64, '\0'));
  full += named(7, "6", "startTxId=6\nendTxId=8\ninProgress=1\nacceptedInEpoch=3\nwriterEpoch=2\n");
  Put("jn_metadata", "segments_and_paxos", full);
  Put("jn_metadata", "inprogress_only",
      entry(0, version) + entry(1, "1\n") + entry(2, "1\n") + entry(5, Records(1, 2)) +
          entry(4, "startTxId=1\nendTxId=2\ninProgress=1\nacceptedInEpoch=1\n"));
}

// One connection's bytes: each call is one frame written by the generated client.
template <typename Client>
class CallWriter {
 public:
  CallWriter()
      : mem_(std::make_shared<apache::thrift::transport::TMemoryBuffer>()),
        client_(std::make_shared<apache::thrift::protocol::TBinaryProtocol>(
            NewFramedTransport(mem_, kDefaultMaxFrameBytes))) {}
  Client* operator->() { return &client_; }
  std::string bytes() { return mem_->getBufferAsString(); }

 private:
  std::shared_ptr<apache::thrift::transport::TMemoryBuffer> mem_;
  Client client_;
};
using JournalCalls = CallWriter<th::JournalProtocolClient>;
using NamenodeCalls = CallWriter<th::ClientProtocolClient>;
using FailoverCalls = CallWriter<th::FailoverControllerClient>;

void JournalServiceSeeds() {
  th::NamespaceInfo ns;
  ns.namespaceId = 7;
  ns.clusterId = "c1";
  ns.layoutVersion = 1;
  auto req = [](int64_t epoch, int64_t serial, int64_t committed) {
    th::RequestInfo r;
    r.journalId = "j";
    r.epoch = epoch;
    r.ipcSerialNumber = serial;
    r.committedTxId = committed;
    return r;
  };
  {
    JournalCalls c;
    c->send_format("j", ns, false);
    c->send_newEpoch("j", ns, 1);
    c->send_startLogSegment(req(1, 1, -1), 1, 1);
    c->send_journal(req(1, 2, -1), 1, 1, 3, Records(1, 3));
    c->send_journal(req(1, 3, 3), 1, 4, 2, Records(4, 2));
    c->send_finalizeLogSegment(req(1, 4, 5), 1, 5);
    c->send_getJournaledEdits("j", 1, 100);
    c->send_getEditLogManifest("j", 0, true);
    c->send_getSegmentChunk("j", 1, 5, 0, 1 << 16);
    c->send_getJournalState("j");
    c->send_purgeLogs(req(1, 5, 5), 3);
    Put("journal_service", "write_path", c.bytes());
  }
  {
    JournalCalls c;
    c->send_format("j", ns, false);
    c->send_newEpoch("j", ns, 1);
    c->send_startLogSegment(req(1, 1, -1), 1, 1);
    c->send_journal(req(1, 2, -1), 1, 1, 2, Records(1, 2));
    c->send_newEpoch("j", ns, 2);
    c->send_prepareRecovery(req(2, 1, -1), 1);
    th::SegmentInfo seg;
    seg.startTxId = 1;
    seg.endTxId = 2;
    seg.isInProgress = false;
    c->send_acceptRecovery(req(2, 2, -1), seg, "127.0.0.1:1", 1);
    c->send_finalizeLogSegment(req(2, 3, 2), 1, 2);
    c->send_heartbeat(req(2, 4, 2));
    Put("journal_service", "recovery", c.bytes());
  }
  {
    JournalCalls c;
    c->send_isFormatted("j");
    c->send_acquireLease("j", "nn1", 3000);
    c->send_acquireLease("j", "nn2", 3000);
    c->send_releaseLease("j", "nn1");
    Put("journal_service", "leases", c.bytes());
  }
}

// Retry ids of one made-up client (see RpcIds in namenode.thrift).
th::RpcIds Ids(int64_t call) {
  th::RpcIds ids;
  ids.clientId = "fuzz-seed-client";
  ids.callId = call;
  return ids;
}

void NamenodeServiceSeeds() {
  th::UserInfo alice;
  alice.user = "alice";
  alice.groups = {"staff"};
  th::UserInfo hdfs;
  hdfs.user = "hdfs";
  hdfs.groups = {"supergroup"};
  {
    // Each seed works in a directory of its own: the namenode's state is shared by every
    // input of a run (namenode_service_fuzz.cc).
    NamenodeCalls c;
    c->send_mkdirs(hdfs, "/w", 0777, true, Ids(1));
    c->send_create(hdfs, "/w/f", 0644, true, 3, 1 << 20, Ids(2));
    c->send_create(hdfs, "/w/f", 0644, true, 3, 1 << 20, Ids(2));  // a retry
    c->send_addBlock(hdfs, "/w/f", -1, Ids(3));
    c->send_addBlock(hdfs, "/w/f", 1 << 20, th::RpcIds());
    c->send_complete(hdfs, "/w/f", 4096, Ids(4));
    c->send_setPermission(hdfs, "/w/f", 0600);
    c->send_setOwner(hdfs, "/w/f", "alice", "staff");
    c->send_setTimes(hdfs, "/w/f", 5000, 6000);
    c->send_setReplication(hdfs, "/w/f", 2);
    c->send_getFileInfo(alice, "/w/f", 0);
    c->send_listStatus(alice, "/w", "", 100, 1);
    c->send_getContentSummary(hdfs, "/w", 0);
    c->send_msync();
    c->send_rename(hdfs, "/w/f", "/w/g", Ids(5));
    c->send_deletePath(hdfs, "/w", true, Ids(6));
    Put("namenode_service", "mutations", c.bytes());
  }
  {
    NamenodeCalls c;
    c->send_getServiceStatus();
    c->send_monitorHealth();
    c->send_latestImageTxId();
    c->send_fetchImage(0, 0, 1 << 16);
    c->send_mkdirs(alice, "/denied", 0755, false, th::RpcIds());
    c->send_getFileInfo(alice, "/", 0);
    th::HAStateChangeRequest req;
    req.source = th::RequestSource::REQUEST_BY_USER;
    c->send_transitionToStandby(req);
    c->send_getServiceStatus();
    c->send_transitionToActive(req);
    c->send_mkdirs(hdfs, "/after_failover", 0755, false, Ids(7));
    Put("namenode_service", "ha", c.bytes());
  }
}

// The first byte picks the controller (failover_service_fuzz.cc): 0 = nn1, automatic
// failover on; 1 = nn2, automatic failover off.
void FailoverServiceSeeds() {
  for (int which = 0; which < 2; ++which) {
    FailoverCalls c;
    c->send_getStatus();
    c->send_cedeActive(0);
    c->send_cedeActive(-1000);
    c->send_cedeActive(2147483647);
    c->send_cedeActive(50);
    c->send_getStatus();
    c->send_gracefulFailover();
    c->send_getStatus();
    Put("failover_service", which == 0 ? "automatic" : "manual",
        std::string(1, static_cast<char>(which)) + c.bytes());
  }
}

}  // namespace
}  // namespace qj::fuzz

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::cerr << "usage: fuzz_make_corpus <corpus dir> [cluster.conf]\n";
    return 2;
  }
  qj::fuzz::out_dir = argv[1];
  qj::fuzz::EditRecordSeeds();
  qj::fuzz::SegmentSeeds();
  qj::fuzz::ClusterConfigSeeds(argc == 3 ? argv[2] : "");
  qj::fuzz::EditOpsAndImageSeeds();
  qj::fuzz::JnMetadataSeeds();
  qj::fuzz::JournalServiceSeeds();
  qj::fuzz::NamenodeServiceSeeds();
  qj::fuzz::FailoverServiceSeeds();
  std::cout << "fuzz_make_corpus: wrote " << qj::fuzz::out_dir << "\n";
  return 0;
}
