// Randomized crashes of one journal: batches are acknowledged, then the process "dies"
// leaving a torn, unacknowledged batch at the end of the in-progress segment (a random
// prefix of its bytes, the rest zeros or end of file); sometimes a new writer recovers
// and finalizes the segment. After every restart the journal must hold every
// acknowledged edit, in order, without gaps, and accept the next batch where it stopped.
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "journalnode/journal.h"
#include "tests/journalnode/journal_test_util.h"
#include "tests/support/process.h"

namespace qj::jn {
namespace {

using namespace qj::jn::testutil;  // NOLINT(build/namespaces)
using qj::testing::TempDir;

std::string Payload(int64_t txid) {
  return std::string(static_cast<size_t>(txid * 7919 % 300), static_cast<char>('a' + txid % 26));
}

std::string Batch(int64_t first, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) AppendRecord(&out, first + i, 1, Payload(first + i));
  return out;
}

TEST(JournalCrashTest, TornUnackedBatchesAndRestarts_KeepEveryAckedEdit) {
  int seeds = 0, crashes = 0;
  int64_t edits = 0;
  for (uint32_t seed = 1; seed <= 25; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    TempDir dir;
    JournalOptions o;
    o.node_name = "jn1";
    o.journal_id = "ns1";
    o.dir = dir.path() + "/ns1";
    o.self_address = "jn1";
    o.preallocate_bytes = 1 << (10 + rng() % 4);  // 1..8 KiB: crosses chunk edges often
    auto j = Journal::Open(o);
    ASSERT_TRUE(j->Format(Ns(), false).ok());
    int64_t epoch = 1, serial = 0, acked = 0, seg_start = 1;
    uint64_t seg_bytes = 0;  // data bytes in the open segment
    ASSERT_TRUE(j->NewEpoch(Ns(), epoch).ok());
    ASSERT_TRUE(j->StartLogSegment(Hdr(epoch, ++serial, acked), 1, 1).ok());
    for (int step = 0; step < 60; ++step) {
      const uint32_t r = rng() % 10;
      if (r < 7) {
        const int n = 1 + static_cast<int>(rng() % 20);
        const std::string b = Batch(acked + 1, n);
        Status s = j->JournalEdits(Hdr(epoch, ++serial, acked), seg_start, acked + 1, n, b);
        ASSERT_TRUE(s.ok()) << s;
        acked += n;
        seg_bytes += b.size();
        continue;
      }
      // Crash with a torn next batch.
      ++crashes;
      const std::string next = Batch(acked + 1, 1 + static_cast<int>(rng() % 5));
      const size_t cut = rng() % next.size();
      j.reset();
      {
        std::fstream f(o.dir + "/current/" + InProgressName(seg_start),
                       std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(static_cast<std::streamoff>(seg_bytes));
        f.write(next.data(), static_cast<std::streamsize>(cut));
      }
      j = Journal::Open(o);
      auto st = j->GetState();
      ASSERT_TRUE(st.ok()) << st.status();
      ASSERT_TRUE(st->unavailable_reason.empty()) << st->unavailable_reason;
      // Whole records of the unacknowledged batch may have reached the disk (they are
      // this writer's edits, and it goes on after them); the torn rest is gone.
      const int64_t kept = (st->last_written_txid < 0 ? 0 : st->last_written_txid) - acked;
      ASSERT_GE(kept, 0);
      ASSERT_LE(kept, static_cast<int64_t>(next.size()));
      ASSERT_LE(Batch(acked + 1, static_cast<int>(kept)).size(), cut);
      seg_bytes += Batch(acked + 1, static_cast<int>(kept)).size();
      acked += kept;
      if (r == 9 && acked >= seg_start) {
        // A new writer recovers the segment (this node's copy is the choice) and rolls.
        ++epoch;
        serial = 0;
        ASSERT_TRUE(j->NewEpoch(Ns(), epoch).ok());
        auto p = j->PrepareRecovery(Hdr(epoch, ++serial, acked), seg_start);
        ASSERT_TRUE(p.ok()) << p.status();
        ASSERT_TRUE(p->segment.has_value());
        ASSERT_EQ(p->segment->end_txid, acked);
        ASSERT_TRUE(j->AcceptRecovery(Hdr(epoch, ++serial, acked), *p->segment, "jn1").ok());
        ASSERT_TRUE(j->FinalizeLogSegment(Hdr(epoch, ++serial, acked), seg_start, acked).ok());
        seg_start = acked + 1;
        seg_bytes = 0;
        ASSERT_TRUE(j->StartLogSegment(Hdr(epoch, ++serial, acked), seg_start, 1).ok());
      }
    }
    // Everything acknowledged is there, in order, dense, byte for byte.
    ASSERT_TRUE(j->Heartbeat(Hdr(epoch, ++serial, acked)).ok());
    int64_t next = 1;
    while (next <= acked) {
      auto e = j->GetJournaledEdits(next, 1000);
      ASSERT_TRUE(e.ok()) << e.status();
      ASSERT_GT(e->num_txns, 0) << "stuck at " << next;
      std::vector<EditRecord> recs;
      ASSERT_TRUE(DecodeAll(e->records, &recs).ok());
      for (const EditRecord& rec : recs) {
        ASSERT_EQ(rec.txid, next);
        ASSERT_EQ(rec.payload, Payload(next));
        ++next;
      }
    }
    edits += acked;
    ++seeds;
  }
  std::printf("journal crash test: %d seeds, %d crashes, %lld acknowledged edits checked\n", seeds,
              crashes, static_cast<long long>(edits));
}

}  // namespace
}  // namespace qj::jn
