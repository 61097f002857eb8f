// The journal state machine on real files: formatting, the epoch rules of DESIGN §3,
// durability across reopen, torn tails and corruption, failed fsyncs, and reads.
#include "journalnode/journal.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "common/file_util.h"
#include "tests/journalnode/journal_test_util.h"
#include "tests/support/process.h"
#include "tests/support/status_macros.h"

namespace qj::jn {
namespace {

using namespace qj::jn::testutil;  // NOLINT(build/namespaces)
using qj::testing::TempDir;

class JournalTest : public ::testing::Test {
 protected:
  std::unique_ptr<Journal> Open(const std::string& id = "ns1") {
    JournalOptions o;
    o.node_name = "jn1";
    o.journal_id = id;
    o.dir = dir_.path() + "/" + id;
    o.file_ops = &ops_;
    o.preallocate_bytes = 4096;
    return Journal::Open(o);
  }
  // Formats, takes epoch 1 and opens segment 1.
  std::unique_ptr<Journal> Writing() {
    auto j = Open();
    EXPECT_TRUE(j->Format(Ns(), false).ok());
    EXPECT_TRUE(j->NewEpoch(Ns(), 1).ok());
    EXPECT_TRUE(j->StartLogSegment(Hdr(1, 1), 1, 1).ok());
    return j;
  }
  std::string SegPath(const std::string& name) { return dir_.path() + "/ns1/current/" + name; }

  TempDir dir_;
  FaultyFileOps ops_;
};

TEST_F(JournalTest, Unformatted_RefusesCalls_FormatTwiceNeedsForce) {
  auto j = Open();
  EXPECT_FALSE(*j->IsFormatted());
  EXPECT_EQ(j->NewEpoch(Ns(), 1).status().code(), StatusCode::kNotFormatted);
  EXPECT_EQ(j->Heartbeat(Hdr(1, 1)).code(), StatusCode::kNotFormatted);
  ASSERT_OK(j->Format(Ns(), false));
  EXPECT_TRUE(*j->IsFormatted());
  Status again = j->Format(Ns(), false);
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(again.message().find("jn1 ns1"), std::string::npos) << again;
  ASSERT_OK(j->Format(NamespaceInfo{7, "other", 1}, true));
  auto st = j->GetState();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->ns->namespace_id, 7);
  // newEpoch for another namespace is refused.
  EXPECT_EQ(j->NewEpoch(Ns(), 1).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(JournalTest, CorruptVersionFile_IsNotUnformatted_FormatNeedsForce) {
  {
    auto j = Writing();
    ASSERT_OK(j->JournalEdits(Hdr(1, 2), 1, 1, 2, Records(1, 2)));
  }
  ASSERT_OK(AtomicWriteFile(SegPath("VERSION"), "garbage"));
  auto j = Open();
  auto f = j->IsFormatted();
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(f.status().message().find("VERSION"), std::string::npos) << f.status();
  EXPECT_EQ(j->Format(Ns(), false).code(), StatusCode::kUnavailable);
  EXPECT_TRUE(std::ifstream(SegPath(InProgressName(1))).good());  // nothing wiped
  ASSERT_OK(j->Format(Ns(), true));
  EXPECT_TRUE(*j->IsFormatted());
}

// Rule 1: newEpoch needs e > promised, durable before the reply.
TEST_F(JournalTest, NewEpoch_MustExceedPromise_AndIsDurable) {
  {
    auto j = Open();
    ASSERT_OK(j->Format(Ns(), false));
    ASSERT_TRUE(j->NewEpoch(Ns(), 5).ok());
    auto again = j->NewEpoch(Ns(), 5);
    ASSERT_TRUE(again.status().IsStaleEpoch());
    EXPECT_EQ(again.status().promised_epoch(), 5);
    EXPECT_TRUE(j->NewEpoch(Ns(), 4).status().IsStaleEpoch());
  }
  auto j = Open();  // reopen: the promise survived
  EXPECT_EQ(j->GetState()->promised_epoch, 5);
  EXPECT_TRUE(j->NewEpoch(Ns(), 5).status().IsStaleEpoch());
  EXPECT_TRUE(j->NewEpoch(Ns(), 6).ok());
}

// Rule 2: every call below the promise fails naming the promised epoch.
TEST_F(JournalTest, EveryWriterCallBelowPromise_IsStaleEpochNamingPromise) {
  auto j = Writing();
  ASSERT_OK(j->JournalEdits(Hdr(1, 2), 1, 1, 2, Records(1, 2)));
  ASSERT_TRUE(j->NewEpoch(Ns(), 9).ok());
  std::vector<Status> results = {
      j->Heartbeat(Hdr(1, 10)),
      j->StartLogSegment(Hdr(1, 11), 3, 1),
      j->JournalEdits(Hdr(1, 12), 1, 3, 1, Records(3, 1)),
      j->FinalizeLogSegment(Hdr(1, 13), 1, 2),
      j->PurgeLogs(Hdr(1, 14), 1),
      j->PrepareRecovery(Hdr(1, 15), 1).status(),
      j->AcceptRecovery(Hdr(1, 16), SegmentState{1, 2, false}, ""),
  };
  for (const Status& s : results) {
    ASSERT_TRUE(s.IsStaleEpoch()) << s;
    EXPECT_EQ(s.promised_epoch(), 9);
    EXPECT_NE(s.message().find("promised epoch 9"), std::string::npos) << s;
    EXPECT_NE(s.message().find("jn1 ns1"), std::string::npos) << s;
  }
}

// Rule 3: a higher epoch on any call is a promise, persisted before the reply.
TEST_F(JournalTest, HigherEpochOnAnyCall_IsPersistedBeforeReply) {
  {
    auto j = Writing();
    ASSERT_OK(j->Heartbeat(Hdr(4, 1)));
    EXPECT_EQ(j->GetState()->promised_epoch, 4);
  }
  {
    auto j = Open();
    EXPECT_EQ(j->GetState()->promised_epoch, 4);
    EXPECT_TRUE(j->NewEpoch(Ns(), 4).status().IsStaleEpoch());
    ASSERT_OK(j->StartLogSegment(Hdr(6, 1), 1, 1));
  }
  auto j = Open();
  EXPECT_EQ(j->GetState()->promised_epoch, 6);
  EXPECT_EQ(j->GetState()->writer_epoch, 6);
}

// Rule 4: journal needs the writer epoch and the next txid.
TEST_F(JournalTest, Journal_NeedsWriterEpochAndNextTxid) {
  auto j = Writing();
  ASSERT_OK(j->JournalEdits(Hdr(1, 2), 1, 1, 3, Records(1, 3)));
  Status gap = j->JournalEdits(Hdr(1, 3), 1, 5, 1, Records(5, 1));
  ASSERT_TRUE(gap.IsOutOfSync()) << gap;
  EXPECT_NE(gap.message().find("expected 4"), std::string::npos) << gap;
  EXPECT_EQ(j->NextExpectedTxId(), 4);
  Status replay = j->JournalEdits(Hdr(1, 4), 1, 2, 1, Records(2, 1));
  EXPECT_TRUE(replay.IsOutOfSync()) << replay;
  Status wrong_seg = j->JournalEdits(Hdr(1, 5), 7, 4, 1, Records(4, 1));
  EXPECT_TRUE(wrong_seg.IsOutOfSync()) << wrong_seg;
  // A higher epoch that did not start a segment is not the writer.
  Status not_writer = j->JournalEdits(Hdr(2, 1), 1, 4, 1, Records(4, 1));
  ASSERT_TRUE(not_writer.IsOutOfSync()) << not_writer;
  EXPECT_NE(not_writer.message().find("writer epoch 1"), std::string::npos) << not_writer;
  // Records that are not what the call says: InvalidArgument, nothing written.
  ASSERT_OK(j->StartLogSegment(Hdr(2, 2), 4, 1));
  std::string bad = Records(4, 2);
  bad[bad.size() - 1] ^= 1;
  EXPECT_EQ(j->JournalEdits(Hdr(2, 3), 4, 4, 2, bad).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(j->JournalEdits(Hdr(2, 4), 4, 4, 3, Records(4, 2)).code(),
            StatusCode::kInvalidArgument);
  ASSERT_OK(j->JournalEdits(Hdr(2, 5), 4, 4, 2, Records(4, 2)));
  EXPECT_EQ(j->GetState()->last_written_txid, 5);
}

// Rule 5: serial numbers increase within an epoch.
TEST_F(JournalTest, SerialNumbers_MustIncreaseWithinEpoch) {
  auto j = Writing();  // used serial 1 in epoch 1
  ASSERT_OK(j->Heartbeat(Hdr(1, 5)));
  EXPECT_TRUE(j->Heartbeat(Hdr(1, 5)).IsOutOfSync());
  EXPECT_TRUE(j->JournalEdits(Hdr(1, 3), 1, 1, 1, Records(1, 1)).IsOutOfSync());
  ASSERT_OK(j->JournalEdits(Hdr(1, 6), 1, 1, 1, Records(1, 1)));
  ASSERT_OK(j->Heartbeat(Hdr(2, 1)));  // a new epoch starts its own serials
}

TEST_F(JournalTest, Metadata_SurvivesReopen) {
  {
    auto j = Writing();
    ASSERT_OK(j->JournalEdits(Hdr(1, 2), 1, 1, 10, Records(1, 10)));
    ASSERT_OK(j->FinalizeLogSegment(Hdr(1, 3, 10), 1, 10));
    ASSERT_OK(j->StartLogSegment(Hdr(1, 4, 10), 11, 1));
    ASSERT_OK(j->JournalEdits(Hdr(1, 5, 10), 11, 11, 3, Records(11, 3)));
    ASSERT_OK(j->FlushCommittedTxId());
  }
  auto j = Open();
  auto st = j->GetState();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->promised_epoch, 1);
  EXPECT_EQ(st->writer_epoch, 1);
  EXPECT_EQ(st->committed_txid, 10);
  EXPECT_EQ(st->last_written_txid, 13);
  ASSERT_EQ(st->segments.size(), 2u);
  EXPECT_EQ(st->segments[0], (SegmentState{1, 10, false}));
  EXPECT_EQ(st->segments[1], (SegmentState{11, 13, true}));
  // The same writer goes on in the reopened segment (a restarted node rejoins).
  ASSERT_OK(j->JournalEdits(Hdr(1, 6, 13), 11, 14, 2, Records(14, 2)));
  ASSERT_OK(j->FinalizeLogSegment(Hdr(1, 7, 15), 11, 15));
}

TEST_F(JournalTest, TornTailOfInProgressSegment_IsTruncatedOnReopen) {
  {
    auto j = Writing();
    ASSERT_OK(j->JournalEdits(Hdr(1, 2), 1, 1, 4, Records(1, 4)));
  }
  // A crash tore the next batch: half a record where preallocated zeros were.
  const std::string path = SegPath(InProgressName(1));
  const std::string next = Records(5, 1);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(Records(1, 4).size()));
    f.write(next.data(), static_cast<std::streamsize>(next.size() / 2));
  }
  auto j = Open();
  auto st = j->GetState();
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_TRUE(st->unavailable_reason.empty()) << st->unavailable_reason;
  EXPECT_EQ(st->last_written_txid, 4);
  ASSERT_OK(j->JournalEdits(Hdr(1, 3), 1, 5, 1, next));
}

TEST_F(JournalTest, FlippedByteMidInProgressSegment_StopsOnlyThatJournal) {
  {
    auto j = Writing();
    ASSERT_OK(j->JournalEdits(Hdr(1, 2), 1, 1, 4, Records(1, 4)));
  }
  auto other = Open("ns2");
  ASSERT_OK(other->Format(Ns(), false));
  const std::string path = SegPath(InProgressName(1));
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(30);  // inside txid 2, which starts at offset 24
    f.put('\x7f');
  }
  auto j = Open();
  auto st = j->GetState();
  ASSERT_TRUE(st.ok());
  EXPECT_NE(st->unavailable_reason.find(path + " offset 24"), std::string::npos)
      << st->unavailable_reason;
  // FORMAT.md's promise: the text callers get says "Corruption: <path> offset <N>".
  EXPECT_NE(st->unavailable_reason.find("Corruption: " + path + " offset 24"), std::string::npos)
      << st->unavailable_reason;
  Status s = j->Heartbeat(Hdr(1, 3));
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find(path), std::string::npos) << s;
  EXPECT_EQ(j->GetJournaledEdits(1, 10).status().code(), StatusCode::kUnavailable);
  // The other journal is unaffected.
  auto o2 = Open("ns2");
  EXPECT_TRUE(o2->NewEpoch(Ns(), 1).ok());
}

TEST_F(JournalTest, FlippedByteInFinalizedSegment_IsCorruptionWhenRead) {
  {
    auto j = Writing();
    ASSERT_OK(j->JournalEdits(Hdr(1, 2), 1, 1, 5, Records(1, 5)));
    ASSERT_OK(j->FinalizeLogSegment(Hdr(1, 3, 5), 1, 5));
  }
  const std::string path = SegPath(FinalizedName(1, 5));
  const size_t offset = Records(1, 3).size() + 5;  // inside txid 4
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(offset));
    f.put('\x55');
  }
  auto j = Open();  // finalized segments are trusted by name at start-up
  auto first = j->GetJournaledEdits(1, 2);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->num_txns, 2);
  auto bad = j->GetJournaledEdits(3, 10);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(bad.status().message().find(path + " offset " + std::to_string(Records(1, 3).size())),
            std::string::npos)
      << bad.status();
  EXPECT_EQ(j->Heartbeat(Hdr(1, 9)).code(), StatusCode::kUnavailable);
}

TEST_F(JournalTest, FailedFdatasync_StopsJournalForGood) {
  auto j = Writing();
  ASSERT_OK(j->JournalEdits(Hdr(1, 2), 1, 1, 2, Records(1, 2)));
  ops_.fail_syncs = true;
  Status s = j->JournalEdits(Hdr(1, 3), 1, 3, 1, Records(3, 1));
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("injected: fdatasync"), std::string::npos) << s;
  ops_.fail_syncs = false;
  EXPECT_EQ(j->JournalEdits(Hdr(1, 4), 1, 3, 1, Records(3, 1)).code(), StatusCode::kUnavailable);
  EXPECT_EQ(j->Heartbeat(Hdr(1, 5)).code(), StatusCode::kUnavailable);
  EXPECT_FALSE(j->GetState()->unavailable_reason.empty());
}

TEST_F(JournalTest, FailedPromisePersist_StopsJournalAndPromisesNothing) {
  auto j = Writing();
  ops_.fail_syncs = true;
  EXPECT_EQ(j->NewEpoch(Ns(), 2).status().code(), StatusCode::kUnavailable);
  ops_.fail_syncs = false;
  auto again = Open();
  EXPECT_EQ(again->GetState()->promised_epoch, 1);
}

TEST_F(JournalTest, GetJournaledEdits_OnlyCommitted_FromCacheAndFiles) {
  auto j = Writing();
  ASSERT_OK(j->JournalEdits(Hdr(1, 2, -1), 1, 1, 10, Records(1, 10)));
  auto none = j->GetJournaledEdits(1, 100);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->num_txns, 0);  // nothing committed yet
  ASSERT_OK(j->Heartbeat(Hdr(1, 3, 6)));
  auto six = j->GetJournaledEdits(1, 100);
  ASSERT_TRUE(six.ok());
  EXPECT_EQ(six->num_txns, 6);
  EXPECT_EQ(six->committed_txid, 6);
  std::vector<EditRecord> recs;
  ASSERT_OK(DecodeAll(six->records, &recs));
  EXPECT_EQ(recs.back().txid, 6);
  ASSERT_OK(j->FinalizeLogSegment(Hdr(1, 4, 10), 1, 10));
  ASSERT_OK(j->StartLogSegment(Hdr(1, 5, 10), 11, 1));
  ASSERT_OK(j->JournalEdits(Hdr(1, 6, 10), 11, 11, 10, Records(11, 10)));
  ASSERT_OK(j->FinalizeLogSegment(Hdr(1, 7, 20), 11, 20));
  ASSERT_OK(j->StartLogSegment(Hdr(1, 8, 20), 21, 1));
  ASSERT_OK(j->JournalEdits(Hdr(1, 9, 20), 21, 21, 5, Records(21, 5)));
  ASSERT_OK(j->Heartbeat(Hdr(1, 10, 25)));

  // After a restart the cache is empty: reads come from the files, across segments.
  j.reset();
  j = Open();
  auto across = j->GetJournaledEdits(5, 10);
  ASSERT_TRUE(across.ok()) << across.status();
  EXPECT_EQ(across->first_txid, 5);
  EXPECT_EQ(across->num_txns, 10);
  recs.clear();
  ASSERT_OK(DecodeAll(across->records, &recs));
  ASSERT_EQ(recs.size(), 10u);
  for (size_t i = 0; i < recs.size(); ++i) EXPECT_EQ(recs[i].txid, 5 + static_cast<int64_t>(i));
  // The in-progress segment of a writer not yet heard from since restart is not served.
  auto tail = j->GetJournaledEdits(15, 100);
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(tail->num_txns, 6);  // 15..20
  ASSERT_OK(j->JournalEdits(Hdr(1, 11, 25), 21, 26, 1, Records(26, 1)));
  auto all = j->GetJournaledEdits(15, 100);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->num_txns, 11);  // 15..25 (26 not committed)
}

TEST_F(JournalTest, PurgeAndManifest) {
  auto j = Writing();
  ASSERT_OK(j->JournalEdits(Hdr(1, 2), 1, 1, 5, Records(1, 5)));
  ASSERT_OK(j->FinalizeLogSegment(Hdr(1, 3, 5), 1, 5));
  ASSERT_OK(j->StartLogSegment(Hdr(1, 4, 5), 6, 1));
  ASSERT_OK(j->JournalEdits(Hdr(1, 5, 5), 6, 6, 5, Records(6, 5)));
  ASSERT_OK(j->FinalizeLogSegment(Hdr(1, 6, 10), 6, 10));
  ASSERT_OK(j->StartLogSegment(Hdr(1, 7, 10), 11, 1));
  auto m = j->GetEditLogManifest(1, false);
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->segments.size(), 2u);
  EXPECT_EQ(m->committed_txid, 10);
  EXPECT_EQ(j->GetEditLogManifest(1, true)->segments.size(), 3u);
  ASSERT_OK(j->PurgeLogs(Hdr(1, 8, 10), 6));
  m = j->GetEditLogManifest(1, true);
  ASSERT_EQ(m->segments.size(), 2u);
  EXPECT_EQ(m->segments[0].start_txid, 6);
  EXPECT_FALSE(qj::testing::TempDir().path().empty());
  std::string unused;
  EXPECT_TRUE(ReadFileToString(SegPath(FinalizedName(1, 5)), &unused).IsNotFound());
}

TEST_F(JournalTest, StartSegment_OverUncommittedLeftover_MovesItAside_OverCommitted_Refuses) {
  {
    auto j = Writing();
    ASSERT_OK(j->JournalEdits(Hdr(1, 2, -1), 1, 1, 3, Records(1, 3)));
  }
  auto j = Open();
  // Recovery by epoch 2 chose "no segment" (the edits were never committed).
  ASSERT_TRUE(j->NewEpoch(Ns(), 2).ok());
  ASSERT_OK(j->StartLogSegment(Hdr(2, 1, -1), 1, 1));
  ASSERT_OK(j->JournalEdits(Hdr(2, 2, 1), 1, 1, 1, Records(1, 1)));
  EXPECT_TRUE(std::ifstream(SegPath(InProgressName(1) + ".discarded")).good());
  // The same writer restarting its own segment keeps the edits it sent.
  ASSERT_OK(j->JournalEdits(Hdr(2, 3, 1), 1, 2, 2, Records(2, 2)));
  EXPECT_TRUE(j->StartLogSegment(Hdr(2, 4, 1), 1, 1).IsOutOfSync());
  Status resend = j->JournalEdits(Hdr(2, 5, 1), 1, 2, 1, Records(2, 1));
  ASSERT_TRUE(resend.IsOutOfSync());
  EXPECT_EQ(j->NextExpectedTxId(), 4);
  // Now txid 1 is committed: a new writer may not start over it.
  ASSERT_TRUE(j->NewEpoch(Ns(), 3).ok());
  EXPECT_TRUE(j->StartLogSegment(Hdr(3, 1, 1), 1, 1).IsOutOfSync());
}

// Reads and state queries never wait behind a batch's fdatasync.
TEST_F(JournalTest, ReadsDoNotWaitBehindAnFdatasync) {
  auto j = Writing();
  ASSERT_OK(j->JournalEdits(Hdr(1, 2, -1), 1, 1, 5, Records(1, 5)));
  ASSERT_OK(j->Heartbeat(Hdr(1, 3, 5)));
  ops_.block_syncs = true;
  std::thread writer(
      [&] { EXPECT_TRUE(j->JournalEdits(Hdr(1, 4, 5), 1, 6, 1, Records(6, 1)).ok()); });
  while (ops_.blocked.load() == 0) std::this_thread::yield();  // the writer is in fdatasync
  auto e = j->GetJournaledEdits(1, 100);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->num_txns, 5);
  EXPECT_TRUE(j->GetState().ok());
  EXPECT_TRUE(j->GetEditLogManifest(1, true).ok());
  EXPECT_EQ(j->GetState()->last_written_txid, 5);  // 6 is not durable yet
  ops_.Unblock();
  writer.join();
  EXPECT_EQ(j->GetState()->last_written_txid, 6);
}

// Start-up trusts finalized names: it opens only the in-progress segment.
TEST_F(JournalTest, StartupDoesNotReadFinalizedSegments) {
  {
    auto j = Writing();
    int64_t txid = 1;
    for (int seg = 0; seg < 20; ++seg) {
      if (seg > 0) ASSERT_OK(j->StartLogSegment(Hdr(1, 100 + 3 * seg, txid - 1), txid, 1));
      ASSERT_OK(j->JournalEdits(Hdr(1, 101 + 3 * seg, txid - 1), txid, txid, 3, Records(txid, 3)));
      ASSERT_OK(j->FinalizeLogSegment(Hdr(1, 102 + 3 * seg, txid + 2), txid, txid + 2));
      txid += 3;
    }
    ASSERT_OK(j->StartLogSegment(Hdr(1, 200, 60), 61, 1));
  }
  const int before = ops_.opens_of("/edits_0");
  auto j = Open();
  EXPECT_EQ(ops_.opens_of("/edits_0"), before);
  EXPECT_EQ(j->GetState()->segments.size(), 21u);
  EXPECT_EQ(j->GetJournaledEdits(1, 1000)->num_txns, 60);  // read (and verified) on demand
  EXPECT_GT(ops_.opens_of("/edits_0"), before);
}

// Issue 8: a cluster id with a newline used to inject keys into VERSION (after a restart
// the journal reported another namespace). Ids are printable ASCII, and VERSION is read
// back strictly.
TEST_F(JournalTest, ClusterIdWithControlCharacters_IsRefused_VersionReadBackStrictly) {
  auto j = Open();
  for (const std::string& bad :
       {std::string("c\nnamespaceId=7"), std::string("c d"), std::string("c\x01"), std::string()}) {
    Status s = j->Format(NamespaceInfo{42, bad, 1}, false);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s;
  }
  ASSERT_OK(j->Format(Ns(), false));
  j.reset();
  // A VERSION with a repeated key (what the injection produced) is corruption, not a
  // silently different namespace.
  ASSERT_OK(AtomicWriteFile(dir_.path() + "/ns1/current/VERSION",
                            "namespaceId=42\nclusterId=c\nnamespaceId=7\nlayoutVersion=1\n"));
  j = Open();
  auto st = j->GetState();
  ASSERT_TRUE(st.ok());
  EXPECT_NE(st->unavailable_reason.find("VERSION"), std::string::npos) << st->unavailable_reason;
}

// startLogSegment sets an older writer's copy aside, then drops its accepted proposal; a
// crash between the two leaves a proposal with no copy, which start-up removes (else
// every prepareRecovery of that segment would fail: "does not match the copy on disk").
TEST_F(JournalTest, AcceptedProposalWithNoCopyLeft_IsDroppedAtStartup) {
  {
    auto j = Writing();
    ASSERT_OK(j->JournalEdits(Hdr(1, 2), 1, 1, 3, Records(1, 3)));
    ASSERT_OK(j->FinalizeLogSegment(Hdr(1, 3, 3), 1, 3));
  }
  ASSERT_OK(AtomicWriteFile(dir_.path() + "/ns1/current/paxos/4",
                            "startTxId=4\nendTxId=6\ninProgress=1\nacceptedInEpoch=2\n"));
  auto j = Open();
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/ns1/current/paxos/4"));
  ASSERT_TRUE(j->NewEpoch(Ns(), 3).ok());
  auto p = j->PrepareRecovery(Hdr(3, 1), 4);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_FALSE(p->segment.has_value());
}

}  // namespace
}  // namespace qj::jn
