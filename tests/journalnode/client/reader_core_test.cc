// ReaderCore (journalnode/client/reader_core.h): the quorum reader's decisions, driven by
// hand with the answers a journalnode would give.
#include "journalnode/client/reader_core.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace qj::jn {
namespace {

JournaledEdits Edits(int64_t first, int64_t last, int64_t committed) {
  JournaledEdits e;
  e.committed_txid = committed;
  if (last < first) return e;
  e.first_txid = first;
  e.num_txns = static_cast<int32_t>(last - first + 1);
  for (int64_t t = first; t <= last; ++t)
    AppendRecord(&e.records, t, 3, "edit" + std::to_string(t));
  return e;
}

ReaderCore Core() { return ReaderCore("r ns1", {"jn0", "jn1", "jn2"}); }

TEST(ReaderCoreTest, RefusesBadArguments) {
  ReaderCore c = Core();
  EXPECT_EQ(c.BeginRead(0, 10).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c.BeginRead(1, 0).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(c.BeginRead(1, 10).ok());
}

TEST(ReaderCoreTest, AsksTheMostUpToDateFirst) {
  ReaderCore c = Core();
  ASSERT_TRUE(c.BeginRead(1, 10).ok());
  EXPECT_TRUE(c.NeedRefresh(1));
  c.OnState(0, 3);
  c.OnState(1, 9);
  c.OnState(2, -1);
  EXPECT_FALSE(c.NeedRefresh(1));
  EXPECT_EQ(c.known_committed(), 9);
  EXPECT_EQ(c.ReadOrder(), (std::vector<int>{1, 0, 2}));
  std::vector<EditRecord> out;
  auto done = c.OnEdits(1, Edits(1, 9, 9), &out);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_TRUE(*done);
  ASSERT_EQ(out.size(), 9u);
  EXPECT_EQ(out.front().txid, 1);
  EXPECT_EQ(out.back().txid, 9);
}

TEST(ReaderCoreTest, EmptyAnswerIsFinalOnlyWhenNobodyIsKnownAhead) {
  ReaderCore c = Core();
  c.OnState(0, 5);
  c.OnState(1, 2);
  ASSERT_TRUE(c.BeginRead(3, 10).ok());
  std::vector<EditRecord> out;
  // jn1 has nothing from 3 on, but jn0 said it has 5 committed: ask on.
  auto done = c.OnEdits(1, Edits(3, 2, 2), &out);
  ASSERT_TRUE(done.ok());
  EXPECT_FALSE(*done);
  // jn0 answers before it heard of the commit point it reported: still not final.
  done = c.OnEdits(0, Edits(3, 2, 2), &out);
  ASSERT_TRUE(done.ok());
  EXPECT_FALSE(*done);
  EXPECT_TRUE(c.Exhausted().ok());
  EXPECT_TRUE(c.Exhausted()->empty());
  // Nobody knows of anything past 2: an empty answer is final.
  ReaderCore d = Core();
  d.OnState(0, 2);
  ASSERT_TRUE(d.BeginRead(3, 10).ok());
  done = d.OnEdits(2, Edits(3, 2, 2), &out);
  ASSERT_TRUE(done.ok());
  EXPECT_TRUE(*done);
  EXPECT_TRUE(out.empty());
}

TEST(ReaderCoreTest, InvalidAnswersAreRefusedAndTriedLast) {
  ReaderCore c = Core();
  c.OnState(0, 9);
  c.OnState(1, 8);
  c.OnState(2, 7);
  ASSERT_TRUE(c.BeginRead(4, 10).ok());
  std::vector<EditRecord> out;
  // Edits from the wrong txid (a gap) are not handed out.
  auto done = c.OnEdits(0, Edits(5, 9, 9), &out);
  EXPECT_EQ(done.status().code(), StatusCode::kCorruption) << done.status();
  EXPECT_TRUE(out.empty());
  // More than asked for.
  ReaderCore small = Core();
  ASSERT_TRUE(small.BeginRead(1, 2).ok());
  EXPECT_FALSE(small.OnEdits(0, Edits(1, 5, 5), &out).ok());
  // Records whose txids do not match what the header says.
  JournaledEdits bad = Edits(4, 6, 9);
  bad.first_txid = 4;
  bad.num_txns = 2;
  EXPECT_FALSE(c.OnEdits(1, bad, &out).ok());
  // The nodes that served something invalid are asked last next time.
  EXPECT_EQ(c.ReadOrder(), (std::vector<int>{2, 0, 1}));
  EXPECT_EQ(c.Exhausted().status().code(), StatusCode::kUnavailable);
  c.OnReadFailed(2, Status::NetworkError("jn2: connection refused"));
  const std::string why = c.Exhausted().status().ToString();
  EXPECT_NE(why.find("jn0"), std::string::npos) << why;
  EXPECT_NE(why.find("connection refused"), std::string::npos) << why;
}

}  // namespace
}  // namespace qj::jn
