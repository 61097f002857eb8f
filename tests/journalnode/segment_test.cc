// Segment files: names, round trip, the torn-tail rule at every byte offset, and
// corruption (flipped bytes, txid gaps) named by file and offset.
#include "journalnode/segment.h"

#include <gtest/gtest.h>

#include <fstream>

#include "common/file_util.h"
#include "tests/support/process.h"

namespace qj::jn {
namespace {

using qj::testing::TempDir;

std::string Records(int64_t first, int n, size_t payload = 10) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    AppendRecord(&out, first + i, 1, std::string(payload + i, static_cast<char>('a' + i % 26)));
  }
  return out;
}

// Plain write (no fsync: these files only need to be read back by this process).
void WriteRaw(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(f.good()) << path;
}

TEST(SegmentNameTest, RoundTripAndRejects) {
  EXPECT_EQ(InProgressName(1), "edits_inprogress_0000000000000000001");
  EXPECT_EQ(FinalizedName(1, 100), "edits_0000000000000000001-0000000000000000100");
  auto a = ParseSegmentName(FinalizedName(5, 9));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(*a, (SegmentState{5, 9, false}));
  auto b = ParseSegmentName(InProgressName(7));
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(*b, (SegmentState{7, 6, true}));
  for (const char* bad : {"edits_inprogress_1", "edits_0000000000000000009-0000000000000000005",
                          "VERSION", "edits_inprogress_0000000000000000001.tmp",
                          "edits_recovery_0000000000000000001-0000000000000000002.tmp"}) {
    EXPECT_FALSE(ParseSegmentName(bad).has_value()) << bad;
  }
}

TEST(SegmentWriterTest, RoundTripThroughWriterAndScan) {
  TempDir dir;
  auto w = SegmentWriter::Create(FileOps::Posix(), dir.path(), 1, 4096);
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_TRUE((*w)->Append(Records(1, 3), 1, 3).ok());
  // Bigger than the preallocation chunk: the writer extends with zeros ahead.
  ASSERT_TRUE((*w)->Append(Records(4, 50, 200), 4, 50).ok());
  EXPECT_EQ((*w)->end_txid(), 53);
  const std::string path = (*w)->path();
  auto scan = ScanSegment(FileOps::Posix(), path, 1, std::nullopt, true);
  ASSERT_TRUE(scan.ok()) << scan.status();
  EXPECT_EQ(scan->end_txid, 53);
  EXPECT_FALSE(scan->torn_tail);
  EXPECT_EQ(scan->data_length, (*w)->data_length());
  EXPECT_GT(scan->file_size, scan->data_length);  // preallocated zeros

  ASSERT_TRUE((*w)->Finalize().ok());
  const std::string fin = dir.path() + "/" + FinalizedName(1, 53);
  auto fscan = ScanSegment(FileOps::Posix(), fin, 1, 53, false);
  ASSERT_TRUE(fscan.ok()) << fscan.status();
  EXPECT_EQ(fscan->file_size, fscan->data_length);  // truncated exactly
  std::string bytes;
  ASSERT_TRUE(ReadFileToString(fin, &bytes).ok());
  std::vector<EditRecord> recs;
  ASSERT_TRUE(DecodeAll(bytes, &recs).ok());
  ASSERT_EQ(recs.size(), 53u);
  EXPECT_EQ(recs[52].txid, 53);
  EXPECT_EQ(recs[0].payload, std::string(10, 'a'));
}

// The last record cut at every byte offset (and the same, zero-filled to the original
// length and beyond) is a torn tail: the scan keeps exactly the records before it.
TEST(SegmentScanTest, TornTailAtEveryOffset_IsTruncatedNotCorruption) {
  TempDir dir;
  const std::string good = Records(1, 4);
  const std::string last = Records(5, 1, 37);
  const std::string path = dir.path() + "/" + InProgressName(1);
  for (size_t cut = 0; cut < last.size(); ++cut) {
    for (int zero_fill : {0, 1}) {
      std::string bytes = good + last.substr(0, cut);
      if (zero_fill) bytes += std::string(last.size() - cut + 4096, '\0');
      WriteRaw(path, bytes);
      auto scan = ScanSegment(FileOps::Posix(), path, 1, std::nullopt, true);
      ASSERT_TRUE(scan.ok()) << "cut " << cut << " fill " << zero_fill << ": " << scan.status();
      EXPECT_EQ(scan->end_txid, 4) << cut;
      EXPECT_EQ(scan->data_length, good.size()) << cut;
      // A cut at 0 (with or without zeros) is a clean end, anything else a torn tail.
      EXPECT_EQ(scan->torn_tail, cut != 0) << "cut " << cut << " fill " << zero_fill;
    }
  }
}

TEST(SegmentScanTest, FlippedByteBeforeTheTail_IsCorruptionNamingFileAndOffset) {
  TempDir dir;
  const std::string bytes = Records(1, 6);
  const std::string path = dir.path() + "/" + InProgressName(1);
  // Flip every byte of records 1..5 (the 6th is the tail: damage there is a torn tail).
  const size_t tail_start = Records(1, 5).size();
  for (size_t i = 0; i < tail_start; ++i) {
    std::string bad = bytes;
    bad[i] ^= 0x40;
    WriteRaw(path, bad + std::string(100, '\0'));
    auto scan = ScanSegment(FileOps::Posix(), path, 1, std::nullopt, true);
    ASSERT_FALSE(scan.ok()) << "flip at " << i;
    EXPECT_TRUE(scan.status().IsCorruption()) << i << ": " << scan.status();
    EXPECT_NE(scan.status().message().find(path + " offset "), std::string::npos) << scan.status();
  }
}

TEST(SegmentScanTest, FinalizedSegment_AnyFlippedByteOrCut_IsCorruption) {
  TempDir dir;
  const std::string bytes = Records(10, 5);
  const std::string path = dir.path() + "/" + FinalizedName(10, 14);
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] ^= 0x01;
    WriteRaw(path, bad);
    auto scan = ScanSegment(FileOps::Posix(), path, 10, 14, false);
    ASSERT_FALSE(scan.ok()) << "flip at " << i;
    EXPECT_TRUE(scan.status().IsCorruption()) << scan.status();
    EXPECT_NE(scan.status().message().find(" offset "), std::string::npos) << scan.status();
  }
  // Cut short, or longer than the name says: corruption too.
  WriteRaw(path, bytes.substr(0, bytes.size() - 3));
  EXPECT_TRUE(ScanSegment(FileOps::Posix(), path, 10, 14, false).status().IsCorruption());
  WriteRaw(path, bytes + std::string(20, '\0'));
  EXPECT_TRUE(ScanSegment(FileOps::Posix(), path, 10, 14, false).status().IsCorruption());
  WriteRaw(path, bytes);
  EXPECT_TRUE(ScanSegment(FileOps::Posix(), path, 10, 13, false).status().IsCorruption());
  EXPECT_TRUE(ScanSegment(FileOps::Posix(), path, 10, 14, false).ok());
}

TEST(SegmentScanTest, TxidGapOrWrongStart_IsCorruption) {
  TempDir dir;
  const std::string path = dir.path() + "/" + InProgressName(1);
  WriteRaw(path, Records(1, 3) + Records(5, 2));
  auto scan = ScanSegment(FileOps::Posix(), path, 1, std::nullopt, true);
  ASSERT_TRUE(scan.status().IsCorruption()) << scan.status();
  EXPECT_NE(scan.status().message().find("expected 4"), std::string::npos) << scan.status();
  WriteRaw(path, Records(2, 3));
  EXPECT_TRUE(ScanSegment(FileOps::Posix(), path, 1, std::nullopt, true).status().IsCorruption());
  // Nonzero bytes after a zero header: not a torn tail.
  WriteRaw(path, Records(1, 3) + std::string(kRecordHeaderSize, '\0') + "junk");
  EXPECT_TRUE(ScanSegment(FileOps::Posix(), path, 1, std::nullopt, true).status().IsCorruption());
}

// Issue 8 item 3: a power loss during the last, unsynced batch may keep a later page of it
// and lose an earlier one. The hole (zeros where the lost page was) followed by the rest
// of the batch is a torn tail at the first damaged record, not corruption.
TEST(SegmentScanTest, HoleInTheLastUnsyncedBatch_IsATornTailAtEveryPage) {
  TempDir dir;
  const std::string path = dir.path() + "/" + InProgressName(1);
  const std::string synced = Records(1, 7, 300);  // acknowledged before the crash
  const std::string batch = Records(8, 40, 500);  // ~20 KiB: five pages
  const std::string whole = synced + batch;
  const size_t pages = (whole.size() + kSegmentPageBytes - 1) / kSegmentPageBytes;
  int holes = 0;
  for (size_t lost = synced.size() / kSegmentPageBytes; lost + 1 < pages; ++lost) {
    // The page at `lost` reads back as zeros from the batch's start (or the page start).
    std::string bytes = whole + std::string(8192, '\0');
    const size_t from = std::max<size_t>(lost * kSegmentPageBytes, synced.size());
    const size_t to = (lost + 1) * kSegmentPageBytes;
    std::fill(bytes.begin() + static_cast<long>(from), bytes.begin() + static_cast<long>(to), '\0');
    WriteRaw(path, bytes);
    auto scan = ScanSegment(FileOps::Posix(), path, 1, std::nullopt, true, 1 << 20);
    ASSERT_TRUE(scan.ok()) << "lost page " << lost << ": " << scan.status();
    EXPECT_TRUE(scan->torn_tail) << lost;
    EXPECT_GE(scan->end_txid, 7) << lost;  // nothing synced is cut
    EXPECT_LE(scan->data_length, from) << lost;
    EXPECT_NE(scan->torn_detail.find("hole"), std::string::npos) << scan->torn_detail;
    // Without the allowance (finalized copies, downloads) the same bytes are corruption.
    EXPECT_TRUE(ScanSegment(FileOps::Posix(), path, 1, std::nullopt, true).status().IsCorruption());
    ++holes;
  }
  EXPECT_GE(holes, 3);
}

TEST(SegmentScanTest, HoleFollowedByMoreThanOneBatch_IsCorruption) {
  TempDir dir;
  const std::string path = dir.path() + "/" + InProgressName(1);
  std::string bytes = Records(1, 7, 300);
  const size_t hole_at = (bytes.size() / kSegmentPageBytes + 1) * kSegmentPageBytes;
  bytes.resize(hole_at + kSegmentPageBytes, '\0');  // a whole zero page
  bytes += Records(50, 30, 500);                    // nonzero bytes well after it
  WriteRaw(path, bytes);
  // Allowed unsynced bytes smaller than what follows the damage: not one torn batch.
  auto scan = ScanSegment(FileOps::Posix(), path, 1, std::nullopt, true, 8192);
  EXPECT_TRUE(scan.status().IsCorruption()) << scan.status();
  EXPECT_NE(scan.status().message().find("more than one batch"), std::string::npos)
      << scan.status();
}

TEST(SegmentScanTest, FlippedByteWithHoleAllowance_IsStillCorruption) {
  // Bit rot leaves no zero page: the hole rule does not excuse it.
  TempDir dir;
  const std::string bytes = Records(1, 30, 400);
  const std::string path = dir.path() + "/" + InProgressName(1);
  for (size_t i : {size_t{5}, size_t{700}, size_t{4100}, bytes.size() / 2}) {
    std::string bad = bytes;
    bad[i] ^= 0x10;
    WriteRaw(path, bad + std::string(100, '\0'));
    auto scan = ScanSegment(FileOps::Posix(), path, 1, std::nullopt, true, 1 << 20);
    EXPECT_TRUE(scan.status().IsCorruption()) << "flip at " << i << ": " << scan.status();
  }
}

}  // namespace
}  // namespace qj::jn
