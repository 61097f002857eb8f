#include "common/edit_record.h"

#include <gtest/gtest.h>

#include "common/crc32c.h"

namespace qj {
namespace {

TEST(Crc32cTest, KnownVectors) {
  // RFC 3720 B.4 test vectors.
  std::string zeros(32, '\0');
  EXPECT_EQ(crc32c::Value(zeros.data(), zeros.size()), 0x8A9136AAu);
  std::string ones(32, '\xff');
  EXPECT_EQ(crc32c::Value(ones.data(), ones.size()), 0x62A8AB43u);
  EXPECT_EQ(crc32c::Value("123456789", 9), 0xE3069283u);
  // Extend over pieces equals the whole.
  EXPECT_EQ(crc32c::Extend(crc32c::Value("1234", 4), "56789", 5), 0xE3069283u);
}

TEST(EditRecordTest, RoundTrip) {
  std::string buf;
  AppendRecord(&buf, 7, 3, "hello");
  AppendRecord(&buf, 8, 65535, "");
  AppendRecord(&buf, 9, 1, std::string(1000, 'x'));
  std::vector<EditRecord> out;
  ASSERT_TRUE(DecodeAll(buf, &out).ok());
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].txid, 7);
  EXPECT_EQ(out[0].op, 3);
  EXPECT_EQ(out[0].payload, "hello");
  EXPECT_EQ(out[1].op, 65535);
  EXPECT_EQ(out[1].payload, "");
  EXPECT_EQ(out[2].payload, std::string(1000, 'x'));
  EXPECT_TRUE(ValidateRecords(buf, 7, 3).ok());
  EXPECT_FALSE(ValidateRecords(buf, 8, 3).ok());
  EXPECT_FALSE(ValidateRecords(buf, 7, 2).ok());
}

TEST(EditRecordTest, EveryFlippedByteIsDetected) {
  std::string buf;
  AppendRecord(&buf, 42, 9, "payload-bytes");
  for (size_t i = 0; i < buf.size(); ++i) {
    std::string bad = buf;
    bad[i] ^= 0x01;
    RecordView r;
    DecodeOutcome o = DecodeRecord(bad, &r);
    EXPECT_NE(o, DecodeOutcome::kOk) << "flip at " << i;
  }
}

TEST(EditRecordTest, TruncationIsIncompleteAndZerosAreEnd) {
  std::string buf;
  AppendRecord(&buf, 1, 1, "abcdef");
  for (size_t n = 1; n < buf.size(); ++n) {
    RecordView r;
    EXPECT_EQ(DecodeRecord(std::string_view(buf).substr(0, n), &r), DecodeOutcome::kIncomplete)
        << n;
  }
  std::string zeros(kRecordHeaderSize, '\0');
  RecordView r;
  EXPECT_EQ(DecodeRecord(zeros, &r), DecodeOutcome::kZeroHeader);
}

}  // namespace
}  // namespace qj
