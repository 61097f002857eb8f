#include "namenode/edit_ops.h"

#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <set>

#include "namenode/codec.h"

namespace qj::nn {
namespace {

// One edit of every op, with awkward values (negative times, -1 lengths, big ids).
std::vector<Edit> SampleEdits() {
  std::vector<Edit> out;
  out.push_back(NoopEdit());
  MkdirEdit mk;
  mk.path = "/a/b/c";
  mk.new_inode_ids = {16386, 16387};
  mk.owner = "alice";
  mk.group = "staff";
  mk.permission = 01755;
  mk.parent_permission = 01755 | 0300;
  mk.mtime_ms = 1'700'000'000'123;
  out.push_back(mk);
  CreateEdit cr;
  cr.path = "/a/b/c/f \xc3\xa9";
  cr.inode_id = int64_t{1} << 40;
  cr.owner = "bob";
  cr.group = "g";
  cr.permission = 0644;
  cr.replication = 32767;
  cr.block_size = int64_t{128} << 20;
  cr.mtime_ms = -5;
  cr.overwrite = true;
  cr.replaced_inode_id = 16390;
  out.push_back(cr);
  AddBlockEdit ab;
  ab.path = "/f";
  ab.inode_id = 16391;
  ab.previous_block_length = -1;
  ab.block = {int64_t{1} << 30, 0, 1001};
  out.push_back(ab);
  ab.previous_block_length = 134217728;
  ab.block = {std::numeric_limits<int64_t>::max(), 77, std::numeric_limits<int64_t>::max()};
  out.push_back(ab);
  CompleteEdit co;
  co.path = "/f";
  co.inode_id = 16391;
  co.last_block_length = 0;
  co.mtime_ms = 0;
  out.push_back(co);
  co.last_block_length = -1;
  co.mtime_ms = std::numeric_limits<int64_t>::min();
  out.push_back(co);
  DeleteEdit de;
  de.path = "/a";
  de.inode_id = 16386;
  de.mtime_ms = 99;
  out.push_back(de);
  RenameEdit rn;
  rn.src = "/x/y";
  rn.dst = "/z/" + std::string(255, 'n');
  rn.inode_id = 20000;
  rn.mtime_ms = 1;
  out.push_back(rn);
  SetPermissionEdit sp;
  sp.path = "/";
  sp.inode_id = 16385;
  sp.permission = 07777;
  out.push_back(sp);
  SetOwnerEdit so;
  so.path = "/f";
  so.inode_id = 16391;
  so.owner = "";
  so.group = "wheel";
  out.push_back(so);
  so.owner = std::string(255, 'o');
  so.group = "";
  out.push_back(so);
  SetTimesEdit st;
  st.path = "/f";
  st.inode_id = 16391;
  st.mtime_ms = -1;
  st.atime_ms = 123456789012345;
  out.push_back(st);
  SetReplicationEdit sr;
  sr.path = "/f";
  sr.inode_id = 16391;
  sr.replication = 1;
  out.push_back(sr);
  return out;
}

TEST(EditOpsTest, EveryOpRoundTrips) {
  std::set<EditOp> ops;
  for (const Edit& e : SampleEdits()) {
    EncodedEdit enc = EncodeEdit(e);
    EXPECT_EQ(enc.op, static_cast<uint16_t>(OpOf(e)));
    Result<Edit> dec = DecodeEdit(enc.op, enc.payload);
    ASSERT_TRUE(dec.ok()) << DescribeEdit(e) << ": " << dec.status();
    EXPECT_TRUE(EditsEqual(e, *dec)) << DescribeEdit(e) << " vs " << DescribeEdit(*dec);
    EXPECT_EQ(DescribeEdit(e), DescribeEdit(*dec));
    ops.insert(OpOf(e));
  }
  EXPECT_EQ(ops.size(), 11u);  // NOOP + ten mutations
}

TEST(EditOpsTest, OpCodesAreStable) {
  // These numbers are on disk; never renumber.
  EXPECT_EQ(static_cast<int>(EditOp::kNoop), 1);
  EXPECT_EQ(static_cast<int>(EditOp::kMkdir), 2);
  EXPECT_EQ(static_cast<int>(EditOp::kSetReplication), 11);
  EXPECT_EQ(EditOpName(EditOp::kAddBlock), "ADD_BLOCK");
  EXPECT_EQ(EditOpName(999), "UNKNOWN(999)");
  // A known payload, byte for byte (see FORMAT.md): SET_PERMISSION "/" 16385 0755.
  SetPermissionEdit sp;
  sp.path = "/";
  sp.inode_id = 16385;
  sp.permission = 0755;
  EncodedEdit enc = EncodeEdit(sp);
  EXPECT_EQ(enc.payload, std::string("\x01\x01/\x81\x80\x01\xed\x03", 8));
}

// Version 2 payloads: the op's fields, then the call's RetryIds. Edits without ids keep
// the version-1 bytes (FORMAT.md), so logs written before the retry cache still load and
// old readers see nothing new from calls that sent no ids.
TEST(EditOpsTest, RetryIdsTravelInVersion2Payloads) {
  RetryIds ids;
  ids.client_id = std::string("0123456789abcdef");
  ids.call_id = 300;
  SetPermissionEdit sp;
  sp.path = "/";
  sp.inode_id = 16385;
  sp.permission = 0755;
  EncodedEdit enc = EncodeEdit(sp, ids);
  EXPECT_EQ(enc.payload, std::string("\x02\x01/\x81\x80\x01\xed\x03", 8) + "0123456789abcdef" +
                             std::string("\xac\x02", 2));
  RetryIds got;
  Result<Edit> dec = DecodeEdit(enc.op, enc.payload, &got);
  ASSERT_TRUE(dec.ok()) << dec.status();
  EXPECT_TRUE(EditsEqual(*dec, sp));
  EXPECT_EQ(got, ids);
  // Without ids: version 1, and a decoder asking for ids gets none.
  got = ids;
  dec = DecodeEdit(enc.op, EncodeEdit(sp).payload, &got);
  ASSERT_TRUE(dec.ok());
  EXPECT_TRUE(got.empty());
  for (const Edit& e : SampleEdits()) {
    EncodedEdit with = EncodeEdit(e, ids);
    EXPECT_EQ(with.payload[0], 2);
    EXPECT_EQ(with.payload.substr(1, with.payload.size() - 19), EncodeEdit(e).payload.substr(1))
        << DescribeEdit(e);
    RetryIds back;
    Result<Edit> d = DecodeEdit(with.op, with.payload, &back);
    ASSERT_TRUE(d.ok()) << DescribeEdit(e) << ": " << d.status();
    EXPECT_TRUE(EditsEqual(*d, e));
    EXPECT_EQ(back, ids);
    // Every cut of the trailer is refused, as is a byte after it.
    for (size_t n = with.payload.size() - 18; n < with.payload.size(); ++n) {
      EXPECT_TRUE(
          DecodeEdit(with.op, std::string_view(with.payload).substr(0, n)).status().IsCorruption())
          << DescribeEdit(e) << " cut at " << n;
    }
    EXPECT_TRUE(DecodeEdit(with.op, with.payload + "x").status().IsCorruption());
  }
}

TEST(EditOpsTest, EveryTruncationFailsCleanly) {
  for (const Edit& e : SampleEdits()) {
    EncodedEdit enc = EncodeEdit(e);
    for (size_t n = 0; n < enc.payload.size(); ++n) {
      Result<Edit> dec = DecodeEdit(enc.op, std::string_view(enc.payload).substr(0, n));
      EXPECT_TRUE(dec.status().IsCorruption()) << DescribeEdit(e) << " cut at " << n;
    }
    // A trailing byte is rejected too.
    Result<Edit> dec = DecodeEdit(enc.op, enc.payload + "x");
    EXPECT_TRUE(dec.status().IsCorruption()) << DescribeEdit(e);
    EXPECT_NE(dec.status().message().find("trailing"), std::string::npos) << dec.status();
  }
}

TEST(EditOpsTest, BadFieldsAreRejected) {
  auto enc = [](std::initializer_list<std::string> parts) {
    std::string s("\x01", 1);
    for (const auto& p : parts) s += p;
    return s;
  };
  auto str = [](const std::string& v) {
    std::string s;
    codec::PutString(&s, v);
    return s;
  };
  auto var = [](uint64_t v) {
    std::string s;
    codec::PutVarint(&s, v);
    return s;
  };
  const uint16_t kSetPerm = static_cast<uint16_t>(EditOp::kSetPermission);
  EXPECT_TRUE(DecodeEdit(kSetPerm, enc({str("/"), var(16385), var(0755)})).ok());
  struct Case {
    uint16_t op;
    std::string payload;
    const char* why;
  };
  const std::vector<Case> cases = {
      {kSetPerm, enc({str("/"), var(16385), var(010000)}), "permission above"},
      {kSetPerm, enc({str("a/b"), var(16385), var(0755)}), "invalid path"},
      {kSetPerm, enc({str("/a//b"), var(16385), var(0755)}), "invalid path"},
      {kSetPerm, enc({str("/"), var(0), var(0755)}), "out of range"},
      {kSetPerm, std::string("\x03", 1) + str("/") + var(16385) + var(0755), "version"},
      // Version 2 must end with the call ids (16 bytes + a varint).
      {kSetPerm, std::string("\x02", 1) + str("/") + var(16385) + var(0755), "truncated"},
      {kSetPerm, std::string("\x02", 1) + str("/") + var(16385) + var(0755) + std::string(16, 'c'),
       "truncated varint"},
      {kSetPerm,
       std::string("\x02", 1) + str("/") + var(16385) + var(0755) + std::string(16, 'c') +
           var(uint64_t{1} << 63),
       "call id out of range"},
      {kSetPerm, "", "empty"},
      {kSetPerm, enc({str("/"), std::string(11, '\xff')}), "varint"},
      {static_cast<uint16_t>(EditOp::kSetOwner), enc({str("/"), var(16385), str(""), str("")}),
       "both owner and group empty"},
      {static_cast<uint16_t>(EditOp::kSetReplication), enc({str("/f"), var(5), var(0)}),
       "replication"},
      {static_cast<uint16_t>(EditOp::kSetTimes),
       enc({str("/f"), var(5), var(codec::ZigZag(-2)), var(0)}), "mtime below -1"},
      {static_cast<uint16_t>(EditOp::kMkdir), enc({str("/a"), var(0)}), "count"},
      {static_cast<uint16_t>(EditOp::kCreate),
       enc({str("/f"), var(20000), str("u"), str("g"), var(0644), var(3), var(512), var(0),
            std::string("\x02", 1), var(0)}),
       "bool"},
      {0, "", "unknown edit op"},
      {12, "\x01", "unknown edit op"},
  };
  for (const Case& c : cases) {
    Result<Edit> dec = DecodeEdit(c.op, c.payload);
    ASSERT_FALSE(dec.ok()) << c.why;
    EXPECT_TRUE(dec.status().IsCorruption());
    EXPECT_NE(dec.status().message().find(c.why), std::string::npos) << dec.status();
  }
}

TEST(EditOpsTest, RandomBytesNeverCrash) {
  std::mt19937_64 rng(7);
  int accepted = 0;
  const auto samples = SampleEdits();
  for (int i = 0; i < 200000; ++i) {
    std::string payload;
    if (i % 2 == 0) {
      // Mutate a valid encoding: flip, insert or delete a few bytes.
      EncodedEdit enc = EncodeEdit(samples[rng() % samples.size()]);
      payload = enc.payload;
      const int edits = 1 + static_cast<int>(rng() % 3);
      for (int k = 0; k < edits && !payload.empty(); ++k) {
        const size_t pos = rng() % payload.size();
        switch (rng() % 3) {
          case 0:
            payload[pos] = static_cast<char>(rng());
            break;
          case 1:
            payload.insert(pos, 1, static_cast<char>(rng()));
            break;
          case 2:
            payload.erase(pos, 1);
            break;
        }
      }
    } else {
      payload.resize(rng() % 64);
      for (char& c : payload) c = static_cast<char>(rng());
      if (!payload.empty()) payload[0] = 1;  // get past the version byte
    }
    const uint16_t op = static_cast<uint16_t>(rng() % 13);
    Result<Edit> dec = DecodeEdit(op, payload);
    if (dec.ok()) {
      ++accepted;
      // Whatever decodes must re-encode to the same bytes (canonical encoding) or at
      // least decode again to an equal edit.
      EncodedEdit again = EncodeEdit(*dec);
      EXPECT_EQ(again.op, op);
      Result<Edit> dec2 = DecodeEdit(again.op, again.payload);
      ASSERT_TRUE(dec2.ok());
      EXPECT_TRUE(EditsEqual(*dec, *dec2));
    } else {
      EXPECT_TRUE(dec.status().IsCorruption());
    }
  }
  std::printf("edit_ops: %d of 200000 random payloads decoded\n", accepted);
}

}  // namespace
}  // namespace qj::nn
