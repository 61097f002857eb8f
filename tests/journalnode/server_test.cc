// The real journalnode binary on 127.0.0.1, driven by a Thrift client: the writer path,
// committed-only reads, typed errors, the storage lock, SIGTERM shutdown.
#include <gtest/gtest.h>
#include <signal.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "JournalProtocol.h"
#include "common/edit_record.h"
#include "tests/support/process.h"

namespace qj::jn {
namespace {

namespace at = apache::thrift;
namespace th = qjournal::thrift;
using qj::testing::BinaryPath;
using qj::testing::PickFreePorts;
using qj::testing::Process;
using qj::testing::RunCommand;
using qj::testing::TempDir;
using qj::testing::WaitForPort;

struct Client {
  explicit Client(int port) {
    auto sock = std::make_shared<at::transport::TSocket>("127.0.0.1", port);
    sock->setRecvTimeout(10000);
    transport = std::make_shared<at::transport::TFramedTransport>(sock);
    client = std::make_unique<th::JournalProtocolClient>(
        std::make_shared<at::protocol::TBinaryProtocol>(transport));
    transport->open();
  }
  std::shared_ptr<at::transport::TTransport> transport;
  std::unique_ptr<th::JournalProtocolClient> client;
};

th::RequestInfo Req(int64_t epoch, int64_t serial, int64_t committed) {
  th::RequestInfo r;
  r.journalId = "ns1";
  r.epoch = epoch;
  r.ipcSerialNumber = serial;
  r.committedTxId = committed;
  return r;
}

std::string Records(int64_t first, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) AppendRecord(&out, first + i, 7, "edit-" + std::to_string(first + i));
  return out;
}

class ServerTest : public ::testing::Test {
 protected:
  void StartNode() {
    jn_.Start(
        {BinaryPath("journalnode/journalnode"), "--journalnode_edits_dir=" + dir_.path() + "/jn",
         "--journalnode_rpc_port=" + std::to_string(port_), "--journalnode_name=jn1"},
        dir_.path() + "/jn1.log");
    ASSERT_TRUE(WaitForPort(port_, 20000)) << "journalnode did not start";
  }
  TempDir dir_;
  int port_ = PickFreePorts(1)[0];
  Process jn_;
};

// Regression: the frame bound was counted over the connection's life (Thrift
// 0.17's max message size is consumed by every binary read and never reset), so the 17th
// 1 MiB journal() call on one connection was dropped ("TSocket read 0 bytes").
TEST_F(ServerTest, FortyOneMiBJournalCallsOnOneConnection_AllSucceed) {
  StartNode();
  Client c(port_);
  th::NamespaceInfo ns;
  ns.namespaceId = 42;
  ns.clusterId = "c1";
  ns.layoutVersion = 1;
  c.client->format("ns1", ns, false);
  th::NewEpochResponse ne;
  c.client->newEpoch(ne, "ns1", ns, 1);
  c.client->startLogSegment(Req(1, 1, -1), 1, 1);
  constexpr int kPerCall = 16;  // 16 records of 64 KiB: 1 MiB per call
  const std::string payload(64 << 10, 'x');
  int64_t txid = 1;
  for (int call = 0; call < 40; ++call) {
    std::string recs;
    for (int i = 0; i < kPerCall; ++i) AppendRecord(&recs, txid + i, 7, payload);
    ASSERT_NO_THROW(c.client->journal(Req(1, 2 + call, txid - 1), 1, txid, kPerCall, recs))
        << "call " << call + 1 << " (" << call * recs.size() / (1 << 20) << " MiB sent before)";
    txid += kPerCall;
  }
  th::JournalState st;
  c.client->getJournalState(st, "ns1");
  EXPECT_EQ(st.lastWrittenTxId, txid - 1);
}

TEST_F(ServerTest, WritePath_ReadsOnlyCommitted_StaleEpochIsTyped) {
  StartNode();
  Client c(port_);
  th::NamespaceInfo ns;
  ns.namespaceId = 42;
  ns.clusterId = "c1";
  ns.layoutVersion = 1;
  EXPECT_FALSE(c.client->isFormatted("ns1"));
  c.client->format("ns1", ns, false);
  EXPECT_TRUE(c.client->isFormatted("ns1"));
  EXPECT_THROW(c.client->format("ns1", ns, false), th::InvalidRequestException);

  th::NewEpochResponse ne;
  c.client->newEpoch(ne, "ns1", ns, 3);
  EXPECT_EQ(ne.lastSegmentTxId, -1);
  c.client->startLogSegment(Req(3, 1, -1), 1, 1);
  c.client->journal(Req(3, 2, -1), 1, 1, 5, Records(1, 5));
  c.client->journal(Req(3, 3, 3), 1, 6, 5, Records(6, 5));  // committed: 3

  th::JournaledEdits edits;
  c.client->getJournaledEdits(edits, "ns1", 1, 100);
  EXPECT_EQ(edits.numTxns, 3);
  EXPECT_EQ(edits.committedTxId, 3);
  std::vector<EditRecord> recs;
  ASSERT_TRUE(DecodeAll(edits.records, &recs).ok());
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[2].txid, 3);
  EXPECT_EQ(recs[2].payload, "edit-3");

  c.client->heartbeat(Req(3, 4, 10));
  c.client->finalizeLogSegment(Req(3, 5, 10), 1, 10);
  c.client->getJournaledEdits(edits, "ns1", 4, 100);
  EXPECT_EQ(edits.firstTxId, 4);
  EXPECT_EQ(edits.numTxns, 7);

  th::JournalState st;
  c.client->getJournalState(st, "ns1");
  EXPECT_EQ(st.lastPromisedEpoch, 3);
  EXPECT_EQ(st.lastWriterEpoch, 3);
  EXPECT_EQ(st.lastWrittenTxId, 10);
  ASSERT_EQ(st.segments.size(), 1u);
  EXPECT_FALSE(st.segments[0].isInProgress);

  // A newer writer fences the old one; the error is typed and names the promised epoch.
  c.client->newEpoch(ne, "ns1", ns, 5);
  EXPECT_EQ(ne.lastSegmentTxId, 1);
  try {
    c.client->startLogSegment(Req(3, 6, 10), 11, 1);
    FAIL() << "stale epoch accepted";
  } catch (const th::StaleEpochException& e) {
    EXPECT_EQ(e.promisedEpoch, 5);
    EXPECT_NE(e.message.find("jn1 ns1"), std::string::npos) << e.message;
  }
  // Out of sync: a gap in txids, with the expected txid.
  c.client->startLogSegment(Req(5, 1, 10), 11, 1);
  try {
    c.client->journal(Req(5, 2, 10), 11, 13, 1, Records(13, 1));
    FAIL() << "gap accepted";
  } catch (const th::OutOfSyncException& e) {
    EXPECT_EQ(e.expectedTxId, 11);
  }
  // Bad records are InvalidRequest.
  std::string bad = Records(11, 2);
  bad[30] ^= 1;
  EXPECT_THROW(c.client->journal(Req(5, 3, 10), 11, 11, 2, bad), th::InvalidRequestException);
  EXPECT_THROW(c.client->getJournalState(st, "../x"), th::JournalUnavailableException);
  EXPECT_THROW(c.client->getJournalState(st, "other"), th::NotFormattedException);

  c.client->journal(Req(5, 4, 10), 11, 11, 2, Records(11, 2));
  c.client->heartbeat(Req(5, 5, 12));

  // SIGTERM: clean exit 0, the committed txid is persisted at shutdown, and the state
  // is there after a restart.
  ASSERT_EQ(::kill(jn_.pid(), SIGTERM), 0);
  EXPECT_EQ(jn_.Wait(20000), 0);
  StartNode();
  Client c2(port_);
  c2.client->getJournalState(st, "ns1");
  EXPECT_EQ(st.lastPromisedEpoch, 5);
  EXPECT_EQ(st.committedTxId, 12);
  EXPECT_EQ(st.lastWrittenTxId, 12);
  EXPECT_EQ(st.segments.size(), 2u);
}

TEST_F(ServerTest, SecondProcessOnSameDir_ExitsNonZeroWithClearMessage) {
  StartNode();
  std::string out;
  int port2 = PickFreePorts(1)[0];
  int rc = RunCommand(
      {BinaryPath("journalnode/journalnode"), "--journalnode_edits_dir=" + dir_.path() + "/jn",
       "--journalnode_rpc_port=" + std::to_string(port2)},
      &out, 20000);
  EXPECT_EQ(rc, 2);
  EXPECT_NE(out.find("in use by another journalnode"), std::string::npos) << out;
}

TEST_F(ServerTest, BadFlags_ExitTwo) {
  std::string out;
  EXPECT_EQ(RunCommand({BinaryPath("journalnode/journalnode")}, &out, 20000), 2);
  EXPECT_NE(out.find("--journalnode_edits_dir is required"), std::string::npos) << out;
  EXPECT_EQ(
      RunCommand({BinaryPath("journalnode/journalnode"), "--journalnode_edits_dir=/tmp/x",
                  "--journalnode_lease_grace_ms=10", "--journalnode_lease_max_duration_ms=100"},
                 &out, 20000),
      2);
  EXPECT_NE(out.find("lease_grace_ms"), std::string::npos) << out;
}

// Two real journalnodes: jn2 was down while jn1 took two finalized segments; started with
// --journalnode_peers it catches them up in the background (Thrift getEditLogManifest /
// getSegmentChunk), and acceptRecovery copies an in-progress segment from jn1.
TEST_F(ServerTest, PeerCatchUpAndAcceptRecoveryCopyOverThrift) {
  StartNode();
  const int port2 = PickFreePorts(1)[0];
  Client c(port_);
  th::NamespaceInfo ns;
  ns.namespaceId = 42;
  ns.clusterId = "c1";
  ns.layoutVersion = 1;
  c.client->format("ns1", ns, false);
  th::NewEpochResponse ne;
  c.client->newEpoch(ne, "ns1", ns, 1);
  c.client->startLogSegment(Req(1, 1, -1), 1, 1);
  c.client->journal(Req(1, 2, -1), 1, 1, 50, Records(1, 50));
  c.client->finalizeLogSegment(Req(1, 3, 50), 1, 50);
  c.client->startLogSegment(Req(1, 4, 50), 51, 1);
  c.client->journal(Req(1, 5, 50), 51, 51, 30, Records(51, 30));
  c.client->finalizeLogSegment(Req(1, 6, 80), 51, 80);
  c.client->startLogSegment(Req(1, 7, 80), 81, 1);
  c.client->journal(Req(1, 8, 80), 81, 81, 5, Records(81, 5));

  th::SegmentChunk chunk;
  c.client->getSegmentChunk(chunk, "ns1", 1, 50, 0, 100);
  EXPECT_FALSE(chunk.eof);
  EXPECT_GT(chunk.data.size(), 0u);
  EXPECT_LE(chunk.data.size(), 100u);
  std::vector<EditRecord> whole;
  ASSERT_TRUE(DecodeAll(chunk.data, &whole).ok());  // whole records only
  ASSERT_FALSE(whole.empty());
  EXPECT_EQ(whole[0].txid, 1);

  Process jn2;
  jn2.Start(
      {BinaryPath("journalnode/journalnode"), "--journalnode_edits_dir=" + dir_.path() + "/jn2",
       "--journalnode_rpc_port=" + std::to_string(port2), "--journalnode_name=jn2",
       "--journalnode_catchup_interval_ms=100",
       "--journalnode_peers=127.0.0.1:" + std::to_string(port_) +
           ",127.0.0.1:" + std::to_string(port2)},
      dir_.path() + "/jn2.log");
  ASSERT_TRUE(WaitForPort(port2, 20000));
  Client c2(port2);
  c2.client->format("ns1", ns, false);
  th::EditLogManifest m;
  for (int i = 0; i < 400; ++i) {  // poll (up to ~20 s) for the background catch-up
    c2.client->getEditLogManifest(m, "ns1", 1, true);
    if (m.segments.size() == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(m.segments.size(), 2u);
  EXPECT_EQ(m.segments[1].endTxId, 80);
  EXPECT_FALSE(m.segments[1].isInProgress);

  // Recovery of the open segment 81: jn2 lacks it and copies it from jn1.
  c2.client->newEpoch(ne, "ns1", ns, 2);
  c.client->newEpoch(ne, "ns1", ns, 2);
  th::PrepareRecoveryResponse p;
  c.client->prepareRecovery(p, Req(2, 1, 80), 81);
  ASSERT_TRUE(p.__isset.segmentState);
  EXPECT_EQ(p.segmentState.endTxId, 85);
  th::PrepareRecoveryResponse p2;  // fresh: Thrift leaves absent optionals untouched
  c2.client->prepareRecovery(p2, Req(2, 1, 80), 81);
  EXPECT_FALSE(p2.__isset.segmentState);
  th::SegmentInfo chosen;
  chosen.startTxId = 81;
  chosen.endTxId = 85;
  chosen.isInProgress = true;
  c2.client->acceptRecovery(Req(2, 2, 80), chosen, "127.0.0.1:" + std::to_string(port_), 0);
  c2.client->finalizeLogSegment(Req(2, 3, 85), 81, 85);
  th::JournaledEdits edits;
  c2.client->getJournaledEdits(edits, "ns1", 1, 1000);
  EXPECT_EQ(edits.numTxns, 85);
  std::vector<EditRecord> recs;
  ASSERT_TRUE(DecodeAll(edits.records, &recs).ok());
  ASSERT_EQ(recs.size(), 85u);
  EXPECT_EQ(recs[84].payload, "edit-85");
}

TEST_F(ServerTest, LeasesOverThrift_GraceThenGrantDenyRelease) {
  jn_.Start(
      {BinaryPath("journalnode/journalnode"), "--journalnode_edits_dir=" + dir_.path() + "/jn",
       "--journalnode_rpc_port=" + std::to_string(port_), "--journalnode_name=jn1",
       "--journalnode_lease_max_duration_ms=1000", "--journalnode_lease_grace_ms=1000"},
      dir_.path() + "/jn1.log");
  ASSERT_TRUE(WaitForPort(port_, 20000));
  Client c(port_);
  th::LeaseResponse r;
  c.client->acquireLease(r, "ns1", "fo1", 1000);
  EXPECT_FALSE(r.granted);  // restart grace
  EXPECT_EQ(r.holder, "");
  EXPECT_GT(r.remainingMs, 0);
  EXPECT_THROW(c.client->acquireLease(r, "ns1", "fo1", 1001), th::InvalidRequestException);
  for (int i = 0; i < 200 && !r.granted; ++i) {  // until the grace period ends (~1 s)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    c.client->acquireLease(r, "ns1", "fo1", 1000);
  }
  ASSERT_TRUE(r.granted);
  c.client->acquireLease(r, "ns1", "fo2", 1000);
  EXPECT_FALSE(r.granted);
  EXPECT_EQ(r.holder, "fo1");
  EXPECT_THROW(c.client->releaseLease("ns1", "fo2"), th::InvalidRequestException);
  c.client->releaseLease("ns1", "fo1");
  c.client->acquireLease(r, "ns1", "fo2", 1000);
  EXPECT_TRUE(r.granted);
}

// Corruption found at start-up stops that journal only: its calls fail with
// JournalUnavailableException naming file and offset, another journal goes on.
TEST_F(ServerTest, CorruptJournalStopsAloneWithFileAndOffset) {
  StartNode();
  {
    Client c(port_);
    th::NamespaceInfo ns;
    ns.namespaceId = 42;
    ns.clusterId = "c1";
    ns.layoutVersion = 1;
    th::NewEpochResponse ne;
    for (const char* id : {"ns1", "ns2"}) {
      c.client->format(id, ns, false);
      c.client->newEpoch(ne, id, ns, 1);
      th::RequestInfo r = Req(1, 1, -1);
      r.journalId = id;
      c.client->startLogSegment(r, 1, 1);
      r.ipcSerialNumber = 2;
      c.client->journal(r, 1, 1, 5, Records(1, 5));
    }
  }
  jn_.Terminate();
  const std::string seg = dir_.path() + "/jn/ns1/current/edits_inprogress_0000000000000000001";
  {
    std::fstream f(seg, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(Records(1, 1).size() + 3);  // inside txid 2
    f.put('\x33');
  }
  StartNode();
  Client c(port_);
  try {
    c.client->heartbeat(Req(1, 3, -1));
    FAIL() << "a corrupt journal served a call";
  } catch (const th::JournalUnavailableException& e) {
    EXPECT_NE(e.message.find(seg + " offset " + std::to_string(Records(1, 1).size())),
              std::string::npos)
        << e.message;
    EXPECT_EQ(e.message.find("jn1 ns1"), 0u) << e.message;
  }
  th::JournalState st;
  c.client->getJournalState(st, "ns1");
  EXPECT_TRUE(st.__isset.unavailableReason);
  th::RequestInfo r = Req(1, 3, 5);
  r.journalId = "ns2";
  c.client->journal(r, 1, 6, 1, Records(6, 1));
  th::JournaledEdits edits;
  c.client->getJournaledEdits(edits, "ns2", 1, 100);
  EXPECT_EQ(edits.numTxns, 5);
}

}  // namespace
}  // namespace qj::jn
