// Recovery on the journal class: prepareRecovery / acceptRecovery answers, durability of
// the accepted proposal, crashes between the steps of an accept (simulated by leaving
// the files a crash would leave and reopening), and background catch-up. Journals copy
// from each other through their real GetSegmentChunk, in-process.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <set>
#include <thread>

#include "common/file_util.h"
#include "journalnode/journal.h"
#include "tests/journalnode/journal_test_util.h"
#include "tests/support/process.h"
#include "tests/support/status_macros.h"

namespace qj::jn {
namespace {

using namespace qj::jn::testutil;  // NOLINT(build/namespaces)
using qj::testing::TempDir;

// The in-process peers, counting the bytes fetched, and able to hold chosen calls (by
// their 1-based number) until released, to interleave concurrent accepts.
class GatedPeers final : public PeerClient {
 public:
  explicit GatedPeers(PeerClient* inner) : inner_(inner) {}
  Result<SegmentChunkData> GetSegmentChunk(const std::string& peer, const std::string& jid,
                                           int64_t start, int64_t end, int64_t offset,
                                           int32_t max_bytes) override {
    {
      std::unique_lock<std::mutex> l(mu_);
      const int me = ++calls_;
      if (hold_.count(me) != 0) {
        held_.insert(me);
        cv_.notify_all();
        cv_.wait(l, [&] { return hold_.count(me) == 0; });
      }
    }
    auto r = inner_->GetSegmentChunk(peer, jid, start, end, offset, max_bytes);
    if (r.ok()) bytes_ += static_cast<int64_t>(r->data.size());
    return r;
  }
  Result<Manifest> GetManifest(const std::string& peer, const std::string& jid) override {
    return inner_->GetManifest(peer, jid);
  }
  void Hold(int call) {
    std::lock_guard<std::mutex> l(mu_);
    hold_.insert(call);
  }
  void Release(int call) {
    std::lock_guard<std::mutex> l(mu_);
    hold_.erase(call);
    cv_.notify_all();
  }
  // Waits until call number `call` is being held.
  bool WaitHeld(int call) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, std::chrono::seconds(10), [&] { return held_.count(call) != 0; });
  }
  int64_t bytes() const { return bytes_.load(); }
  void ResetBytes() { bytes_ = 0; }

 private:
  PeerClient* const inner_;
  std::atomic<int64_t> bytes_{0};
  std::mutex mu_;
  std::condition_variable cv_;  // notified by Hold/Release and when a call is held
  int calls_ = 0;
  std::set<int> hold_, held_;
};

// POSIX files; once armed, the first open of a recovery download for reading (the
// verification after the download) waits until released, holding the open file.
class VerifyHookFileOps final : public PosixFileOps {
 public:
  void Arm() { armed_ = true; }
  bool WaitHeld() {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, std::chrono::seconds(10), [&] { return held_; });
  }
  void Release() {
    std::lock_guard<std::mutex> l(mu_);
    released_ = true;
    cv_.notify_all();
  }
  Result<std::unique_ptr<SegmentFile>> Open(const std::string& path, Mode mode) override {
    auto f = PosixFileOps::Open(path, mode);
    if (mode == Mode::kRead && path.find("edits_recovery_") != std::string::npos &&
        armed_.exchange(false)) {
      std::unique_lock<std::mutex> l(mu_);
      held_ = true;
      cv_.notify_all();
      cv_.wait(l, [&] { return released_; });
    }
    return f;
  }

 private:
  std::atomic<bool> armed_{false};
  std::mutex mu_;
  std::condition_variable cv_;  // notified when held and on Release
  bool held_ = false, released_ = false;
};

class RecoveryTest : public ::testing::Test {
 protected:
  std::unique_ptr<Journal> Open(const std::string& node) {
    JournalOptions o;
    o.node_name = node;
    o.journal_id = "ns1";
    o.dir = dir_.path() + "/" + node + "/ns1";
    o.peers = &gated_;
    if (node == "b") o.file_ops = &b_ops_;
    o.self_address = node;
    o.preallocate_bytes = 4096;
    o.transfer_chunk_bytes = 100;  // several chunks per segment
    auto j = Journal::Open(o);
    peers_.Add(node, j.get());
    return j;
  }
  // A formatted journal that took epoch 1 and wrote txids 1..n into in-progress segment 1.
  std::unique_ptr<Journal> WithEdits(const std::string& node, int n) {
    auto j = Open(node);
    EXPECT_TRUE(j->Format(Ns(), false).ok());
    EXPECT_TRUE(j->NewEpoch(Ns(), 1).ok());
    EXPECT_TRUE(j->StartLogSegment(Hdr(1, 1), 1, 1).ok());
    if (n > 0) {
      EXPECT_TRUE(j->JournalEdits(Hdr(1, 2), 1, 1, n, Records(1, n)).ok());
    }
    return j;
  }
  std::string Cur(const std::string& node) { return dir_.path() + "/" + node + "/ns1/current"; }

  TempDir dir_;
  LocalPeers peers_;
  GatedPeers gated_{&peers_};
  VerifyHookFileOps b_ops_;  // node "b"'s files
};

TEST_F(RecoveryTest, Prepare_ReportsSegmentAcceptedEpochWriterEpochCommitted) {
  auto a = WithEdits("a", 5);
  ASSERT_OK(a->Heartbeat(Hdr(1, 3, 3)));
  ASSERT_TRUE(a->NewEpoch(Ns(), 2).ok());
  auto p = a->PrepareRecovery(Hdr(2, 1), 1);
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_TRUE(p->segment.has_value());
  EXPECT_EQ(*p->segment, (SegmentState{1, 5, true}));
  EXPECT_FALSE(p->accepted_in_epoch.has_value());
  EXPECT_EQ(p->last_writer_epoch, 1);
  EXPECT_EQ(p->committed_txid, 3);
  // No segment at that txid; an empty in-progress segment also counts as none.
  auto none = a->PrepareRecovery(Hdr(2, 2), 100);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->segment.has_value());
  auto b = WithEdits("b", 0);
  ASSERT_TRUE(b->NewEpoch(Ns(), 2).ok());
  auto empty = b->PrepareRecovery(Hdr(2, 1), 1);
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->segment.has_value());
  // Prepare closes the writer's segment: the old writer cannot append any more.
  EXPECT_TRUE(a->JournalEdits(Hdr(1, 9), 1, 6, 1, Records(6, 1)).IsStaleEpoch());
}

TEST_F(RecoveryTest, Accept_CopiesLongerSegmentFromPeer_PersistsProposal_ThenFinalize) {
  auto a = WithEdits("a", 20);
  auto b = WithEdits("b", 7);  // missed txids 8..20
  for (Journal* j : {a.get(), b.get()}) {
    ASSERT_TRUE(j->NewEpoch(Ns(), 2).ok());
    ASSERT_TRUE(j->PrepareRecovery(Hdr(2, 1), 1).ok());
  }
  const SegmentState chosen{1, 20, true};
  ASSERT_OK(b->AcceptRecovery(Hdr(2, 2), chosen, "a"));
  ASSERT_OK(a->AcceptRecovery(Hdr(2, 2), chosen, "a"));  // its own copy: nothing to copy
  b.reset();
  b = Open("b");  // the acceptance is durable
  auto p = b->PrepareRecovery(Hdr(2, 3), 1);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(*p->segment, chosen);
  ASSERT_TRUE(p->accepted_in_epoch.has_value());
  EXPECT_EQ(*p->accepted_in_epoch, 2);
  // Finalize in the recovering epoch, then the data is served.
  ASSERT_OK(b->FinalizeLogSegment(Hdr(2, 4, 20), 1, 20));
  auto e = b->GetJournaledEdits(1, 100);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->num_txns, 20);
  std::vector<EditRecord> recs;
  ASSERT_OK(DecodeAll(e->records, &recs));
  EXPECT_EQ(recs[19].payload, "op-20");
  // The proposal is dropped once finalized; prepare now reports the finalized segment.
  p = b->PrepareRecovery(Hdr(2, 5), 1);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p->segment, (SegmentState{1, 20, false}));
  EXPECT_FALSE(p->accepted_in_epoch.has_value());
}

TEST_F(RecoveryTest, Accept_ShorterChoice_ReplacesLongerUncommittedCopy) {
  auto a = WithEdits("a", 10);
  auto b = WithEdits("b", 6);
  ASSERT_TRUE(a->NewEpoch(Ns(), 2).ok());
  ASSERT_TRUE(b->NewEpoch(Ns(), 2).ok());
  ASSERT_OK(a->AcceptRecovery(Hdr(2, 1), SegmentState{1, 6, true}, "b"));
  auto st = a->GetState();
  EXPECT_EQ(st->last_written_txid, 6);
  auto p = a->PrepareRecovery(Hdr(2, 2), 1);
  EXPECT_EQ(*p->segment, (SegmentState{1, 6, true}));
}

TEST_F(RecoveryTest, Accept_RefusesToDropCommittedTxids) {
  auto a = WithEdits("a", 10);
  auto b = WithEdits("b", 6);
  ASSERT_OK(a->Heartbeat(Hdr(1, 3, 9)));  // a heard txid 9 is committed
  ASSERT_TRUE(a->NewEpoch(Ns(), 2).ok());
  Status s = a->AcceptRecovery(Hdr(2, 1), SegmentState{1, 6, true}, "b");
  ASSERT_TRUE(s.IsOutOfSync()) << s;
  EXPECT_NE(s.message().find("committed"), std::string::npos) << s;
  EXPECT_EQ(a->GetState()->last_written_txid, 10);
}

// The copy was downloaded (and verified) but the node crashed before persisting the
// proposal: on restart the download is discarded and prepare answers the old state.
TEST_F(RecoveryTest, CrashBetweenCopyAndPersistingProposal_PrepareAnswersOldState) {
  auto a = WithEdits("a", 12);
  auto b = WithEdits("b", 4);
  ASSERT_TRUE(a->NewEpoch(Ns(), 2).ok());
  ASSERT_TRUE(b->NewEpoch(Ns(), 2).ok());
  // What step 2 of acceptRecovery leaves on b's disk: the verified temp copy.
  std::string seg;
  ASSERT_OK(ReadFileToString(Cur("a") + "/" + InProgressName(1), &seg));
  seg.resize(Records(1, 12).size());
  ASSERT_OK(AtomicWriteFile(
      Cur("b") + "/edits_recovery_0000000000000000001-0000000000000000012.tmp", seg));
  b.reset();  // crash
  b = Open("b");
  auto p = b->PrepareRecovery(Hdr(2, 1), 1);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(*p->segment, (SegmentState{1, 4, true}));
  EXPECT_FALSE(p->accepted_in_epoch.has_value());
  EXPECT_FALSE(std::filesystem::exists(
      Cur("b") + "/edits_recovery_0000000000000000001-0000000000000000012.tmp"));
  // A later accept of the same proposal works from scratch.
  ASSERT_OK(b->AcceptRecovery(Hdr(2, 2), SegmentState{1, 12, true}, "a"));
  EXPECT_EQ(b->GetState()->last_written_txid, 12);
}

// The proposal was persisted but the node crashed before renaming the copy into place:
// start-up completes the install, so prepare answers the accepted state consistently.
TEST_F(RecoveryTest, CrashAfterPersistingProposalBeforeInstall_StartupCompletesIt) {
  auto a = WithEdits("a", 12);
  auto b = WithEdits("b", 4);
  ASSERT_TRUE(b->NewEpoch(Ns(), 2).ok());
  std::string seg;
  ASSERT_OK(ReadFileToString(Cur("a") + "/" + InProgressName(1), &seg));
  seg.resize(Records(1, 12).size());
  ASSERT_OK(AtomicWriteFile(
      Cur("b") + "/edits_recovery_0000000000000000001-0000000000000000012.tmp", seg));
  ASSERT_OK(AtomicWriteFile(Cur("b") + "/paxos/1",
                            "startTxId=1\nendTxId=12\ninProgress=1\nacceptedInEpoch=2\n"));
  b.reset();
  b = Open("b");
  auto p = b->PrepareRecovery(Hdr(2, 1), 1);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(*p->segment, (SegmentState{1, 12, true}));
  ASSERT_TRUE(p->accepted_in_epoch.has_value());
  EXPECT_EQ(*p->accepted_in_epoch, 2);
  ASSERT_OK(b->FinalizeLogSegment(Hdr(2, 2, 12), 1, 12));
}

// A first accept failed half-way (the source vanished mid-copy); a later accept, even
// of another proposal in a higher epoch, starts over cleanly.
TEST_F(RecoveryTest, AcceptAfterEarlierPartialAccept) {
  auto a = WithEdits("a", 15);
  auto b = WithEdits("b", 3);
  auto c = WithEdits("c", 15);
  ASSERT_TRUE(b->NewEpoch(Ns(), 2).ok());
  peers_.Remove("a");
  Status failed = b->AcceptRecovery(Hdr(2, 1), SegmentState{1, 15, true}, "a");
  EXPECT_FALSE(failed.ok());
  auto p = b->PrepareRecovery(Hdr(2, 2), 1);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p->segment, (SegmentState{1, 3, true}));
  EXPECT_FALSE(p->accepted_in_epoch.has_value());
  ASSERT_TRUE(b->NewEpoch(Ns(), 3).ok());
  ASSERT_OK(b->AcceptRecovery(Hdr(3, 1), SegmentState{1, 15, true}, "c"));
  ASSERT_OK(b->AcceptRecovery(Hdr(3, 2), SegmentState{1, 15, false}, "c"));  // re-accept
  p = b->PrepareRecovery(Hdr(3, 3), 1);
  EXPECT_EQ(*p->segment, (SegmentState{1, 15, false}));
  auto e = b->GetJournaledEdits(1, 100);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->num_txns, 0);  // committed txid not yet heard
  // A recovering writer's hint is not enough (it has not started a segment here)...
  ASSERT_OK(b->Heartbeat(Hdr(3, 4, 15)));
  EXPECT_EQ(b->GetJournaledEdits(1, 100)->num_txns, 0);
  // ...its finalize of the recovered segment is: a writer finalizes only what is committed.
  ASSERT_OK(b->FinalizeLogSegment(Hdr(3, 5, 15), 1, 15));
  EXPECT_EQ(b->GetJournaledEdits(1, 100)->num_txns, 15);
}

TEST_F(RecoveryTest, AcceptFromCorruptPeer_FailsVerification_NothingPersisted) {
  auto a = WithEdits("a", 8);
  auto b = WithEdits("b", 2);
  ASSERT_TRUE(b->NewEpoch(Ns(), 2).ok());
  // The peer claims more than it holds durably.
  Status s = b->AcceptRecovery(Hdr(2, 1), SegmentState{1, 9, true}, "a");
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(std::filesystem::exists(Cur("b") + "/paxos/1"));
  EXPECT_EQ(b->GetState()->last_written_txid, 2);
}

TEST_F(RecoveryTest, Finalize_OnlyForCopiesThisEpochVouchesFor) {
  auto a = WithEdits("a", 5);
  ASSERT_TRUE(a->NewEpoch(Ns(), 2).ok());
  // Epoch 2 neither wrote nor accepted segment 1 here.
  Status s = a->FinalizeLogSegment(Hdr(2, 1, 5), 1, 5);
  EXPECT_TRUE(s.IsOutOfSync()) << s;
  ASSERT_OK(a->AcceptRecovery(Hdr(2, 2), SegmentState{1, 5, true}, "a"));
  ASSERT_OK(a->FinalizeLogSegment(Hdr(2, 3, 5), 1, 5));
  ASSERT_OK(a->FinalizeLogSegment(Hdr(2, 4, 5), 1, 5));  // idempotent
}

TEST_F(RecoveryTest, CatchUp_DownloadsMissingFinalizedSegmentsUpToCommitted) {
  auto a = WithEdits("a", 10);
  ASSERT_OK(a->FinalizeLogSegment(Hdr(1, 3, 10), 1, 10));
  ASSERT_OK(a->StartLogSegment(Hdr(1, 4, 10), 11, 1));
  ASSERT_OK(a->JournalEdits(Hdr(1, 5, 10), 11, 11, 10, Records(11, 10)));
  // A writer finalizes only committed edits, so finalize raises the committed txid.
  ASSERT_OK(a->FinalizeLogSegment(Hdr(1, 6, 15), 11, 20));
  EXPECT_EQ(a->GetState()->committed_txid, 20);
  ASSERT_OK(a->StartLogSegment(Hdr(1, 7, 20), 21, 1));
  auto b = Open("b");  // was down all along
  ASSERT_OK(b->Format(Ns(), false));
  auto n = b->CatchUpFrom("a");
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 2);  // [1,10] and [11,20]; never the open segment 21
  auto m = b->GetEditLogManifest(1, true);
  ASSERT_EQ(m->segments.size(), 2u);
  EXPECT_EQ(m->segments[0], (SegmentState{1, 10, false}));
  EXPECT_EQ(m->segments[1], (SegmentState{11, 20, false}));
  EXPECT_EQ(*b->CatchUpFrom("a"), 0);  // nothing more to fetch
  b.reset();
  b = Open("b");
  m = b->GetEditLogManifest(1, true);
  ASSERT_EQ(m->segments.size(), 2u);
  EXPECT_EQ(m->segments[1], (SegmentState{11, 20, false}));
  EXPECT_EQ(b->GetJournaledEdits(1, 100)->num_txns, 0);  // b's own committed txid: none
}

// Issue 8 item 4: two accepts of the same proposal at different epochs overlap (a writer
// retried at a higher epoch while the first download was still running). The older one
// must neither unlink nor overwrite the newer one's download.
TEST_F(RecoveryTest, ConcurrentAcceptsAtDifferentEpochs_DoNotSabotageEachOther) {
  auto a = WithEdits("a", 30);
  auto b = WithEdits("b", 2);
  ASSERT_TRUE(b->NewEpoch(Ns(), 2).ok());
  const SegmentState chosen{1, 30, true};
  gated_.Hold(2);  // epoch 2's second chunk
  Status s2;
  std::thread t2([&] { s2 = b->AcceptRecovery(Hdr(2, 1), chosen, "a"); });
  ASSERT_TRUE(gated_.WaitHeld(2));
  gated_.Hold(4);  // epoch 3's second chunk (its first is call 3)
  Status s3;
  std::thread t3([&] { s3 = b->AcceptRecovery(Hdr(3, 1), chosen, "a"); });
  ASSERT_TRUE(gated_.WaitHeld(4));
  gated_.Release(2);  // epoch 2 goes on while epoch 3 is mid-download
  t2.join();
  EXPECT_TRUE(s2.IsStaleEpoch()) << s2;
  gated_.Release(4);
  t3.join();
  ASSERT_OK(s3);
  auto st = b->GetState();
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->unavailable_reason, "");
  EXPECT_EQ(st->last_written_txid, 30);
  auto p = b->PrepareRecovery(Hdr(3, 2), 1);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(*p->segment, chosen);
  EXPECT_EQ(*p->accepted_in_epoch, 3);
  for (const auto& e : std::filesystem::directory_iterator(Cur("b"))) {
    EXPECT_EQ(e.path().filename().string().find("edits_recovery_"), std::string::npos) << e.path();
  }
}

// Issue 8: format --force while an acceptRecovery is downloading. The download predates
// the format and must never be installed over the new journal's segment (nor stop it).
TEST_F(RecoveryTest, FormatDuringAccept_PreFormatDownloadIsNotInstalled) {
  auto a = WithEdits("a", 30);
  auto b = WithEdits("b", 2);
  ASSERT_TRUE(b->NewEpoch(Ns(), 5).ok());
  b_ops_.Arm();  // hold the accept after its download, while it verifies the copy
  Status s5;
  std::thread t([&] { s5 = b->AcceptRecovery(Hdr(5, 1), SegmentState{1, 30, true}, "a"); });
  ASSERT_TRUE(b_ops_.WaitHeld());
  ASSERT_OK(b->Format(Ns(), true));
  ASSERT_TRUE(b->NewEpoch(Ns(), 1).ok());
  ASSERT_OK(b->StartLogSegment(Hdr(1, 1), 1, 1));
  std::string fresh;
  for (int64_t t = 1; t <= 3; ++t) AppendRecord(&fresh, t, 4, "after-format-" + std::to_string(t));
  ASSERT_OK(b->JournalEdits(Hdr(1, 2), 1, 1, 3, fresh));
  b_ops_.Release();
  t.join();
  EXPECT_FALSE(s5.ok());
  auto st = b->GetState();
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->unavailable_reason, "");
  EXPECT_EQ(st->last_written_txid, 3);
  EXPECT_FALSE(std::filesystem::exists(Cur("b") + "/paxos/1"));
  auto chunk = b->GetSegmentChunk(1, 3, 0, 1 << 20);
  ASSERT_TRUE(chunk.ok()) << chunk.status();
  EXPECT_EQ(chunk->data, fresh);
  ASSERT_OK(b->JournalEdits(Hdr(1, 3), 1, 4, 1, Records(4, 1)));  // the writer goes on
}

// --- Issue 8 item 4: copies of the same origin (the same writer's records) fetch only
// what they lack. ---

TEST_F(RecoveryTest, Accept_SameOriginSameLength_DownloadsNothing) {
  auto a = WithEdits("a", 12);
  auto b = WithEdits("b", 12);
  for (Journal* j : {a.get(), b.get()}) ASSERT_TRUE(j->NewEpoch(Ns(), 2).ok());
  auto pa = a->PrepareRecovery(Hdr(2, 1), 1);
  ASSERT_TRUE(pa.ok()) << pa.status();
  EXPECT_EQ(pa->origin_epoch, 1);  // the newest in-progress segment: the writer's epoch
  auto pb = b->PrepareRecovery(Hdr(2, 1), 1);
  ASSERT_TRUE(pb.ok()) << pb.status();
  EXPECT_EQ(pb->origin_epoch, 1);
  gated_.ResetBytes();
  ASSERT_OK(b->AcceptRecovery(Hdr(2, 2), *pa->segment, "a", pa->origin_epoch));
  EXPECT_EQ(gated_.bytes(), 0);
  // The accepted proposal records the origin: a retry at a higher epoch copies nothing.
  pb = b->PrepareRecovery(Hdr(3, 1), 1);
  ASSERT_TRUE(pb.ok()) << pb.status();
  EXPECT_EQ(*pb->accepted_in_epoch, 2);
  EXPECT_EQ(pb->origin_epoch, 1);
  std::string paxos;
  ASSERT_OK(ReadFileToString(Cur("b") + "/paxos/1", &paxos));
  EXPECT_NE(paxos.find("writerEpoch=1\n"), std::string::npos) << paxos;
  ASSERT_OK(b->AcceptRecovery(Hdr(3, 2), *pa->segment, "a", 1));
  EXPECT_EQ(gated_.bytes(), 0);
  // Unknown origin (a writer that does not send it): copied in full, as before.
  ASSERT_OK(b->AcceptRecovery(Hdr(4, 1), *pa->segment, "a", 0));
  EXPECT_EQ(gated_.bytes(), static_cast<int64_t>(Records(1, 12).size()));
}

TEST_F(RecoveryTest, Accept_SameOriginShorter_DownloadsOnlyTheDifference) {
  auto a = WithEdits("a", 40);
  auto b = WithEdits("b", 25);
  for (Journal* j : {a.get(), b.get()}) {
    ASSERT_TRUE(j->NewEpoch(Ns(), 2).ok());
    ASSERT_TRUE(j->PrepareRecovery(Hdr(2, 1), 1).ok());
  }
  gated_.ResetBytes();
  ASSERT_OK(b->AcceptRecovery(Hdr(2, 2), SegmentState{1, 40, true}, "a", 1));
  // Its own last record (to check that the copies line up) and then txids 26..40.
  EXPECT_EQ(gated_.bytes(), static_cast<int64_t>(Records(25, 16).size()));
  std::string mine;
  ASSERT_OK(ReadFileToString(Cur("b") + "/" + InProgressName(1), &mine));
  EXPECT_EQ(mine.substr(0, Records(1, 40).size()), Records(1, 40));
  ASSERT_OK(b->FinalizeLogSegment(Hdr(2, 3, 40), 1, 40));
  EXPECT_EQ(b->GetJournaledEdits(1, 100)->num_txns, 40);
}

// An origin recorded wrongly (the copies do not line up) must not splice two writers'
// records: the node notices at the overlap and copies everything.
TEST_F(RecoveryTest, Accept_SameClaimedOriginButDifferentRecords_CopiesEverything) {
  auto a = WithEdits("a", 20);
  auto b = Open("b");
  ASSERT_OK(b->Format(Ns(), false));
  ASSERT_TRUE(b->NewEpoch(Ns(), 1).ok());
  ASSERT_OK(b->StartLogSegment(Hdr(1, 1), 1, 1));
  std::string other;
  for (int64_t t = 1; t <= 8; ++t)
    AppendRecord(&other, t, 9, "another-writer-" + std::to_string(t));
  ASSERT_OK(b->JournalEdits(Hdr(1, 2), 1, 1, 8, other));
  ASSERT_TRUE(b->NewEpoch(Ns(), 2).ok());
  ASSERT_OK(b->AcceptRecovery(Hdr(2, 1), SegmentState{1, 20, true}, "a", 1));
  std::string mine;
  ASSERT_OK(ReadFileToString(Cur("b") + "/" + InProgressName(1), &mine));
  EXPECT_EQ(mine.substr(0, Records(1, 20).size()), Records(1, 20));
}

// A crash after the proposal was persisted: start-up completes the download of the
// accepting epoch named in paxos/<start> and deletes a concurrent accept's download.
TEST_F(RecoveryTest, CrashBeforeInstall_CompletesOnlyTheAcceptedEpochsDownload) {
  auto a = WithEdits("a", 12);
  auto b = WithEdits("b", 4);
  ASSERT_TRUE(b->NewEpoch(Ns(), 3).ok());
  std::string seg;
  ASSERT_OK(ReadFileToString(Cur("a") + "/" + InProgressName(1), &seg));
  seg.resize(Records(1, 12).size());
  const std::string base = Cur("b") + "/edits_recovery_0000000000000000001-0000000000000000012";
  ASSERT_OK(AtomicWriteFile(base + ".epoch3.tmp", seg));
  ASSERT_OK(AtomicWriteFile(base + ".epoch2.tmp", seg.substr(0, 100)));  // partial, older
  ASSERT_OK(AtomicWriteFile(Cur("b") + "/paxos/1",
                            "startTxId=1\nendTxId=12\ninProgress=1\nacceptedInEpoch=3\n"
                            "writerEpoch=1\n"));
  b.reset();
  b = Open("b");
  auto p = b->PrepareRecovery(Hdr(3, 1), 1);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(*p->segment, (SegmentState{1, 12, true}));
  EXPECT_EQ(*p->accepted_in_epoch, 3);
  EXPECT_EQ(p->origin_epoch, 1);
  EXPECT_FALSE(std::filesystem::exists(base + ".epoch3.tmp"));
  EXPECT_FALSE(std::filesystem::exists(base + ".epoch2.tmp"));
}

}  // namespace
}  // namespace qj::jn
