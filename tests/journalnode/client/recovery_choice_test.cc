// Every rule of the recovery choice (DESIGN §4), on the pure function.
#include <gtest/gtest.h>

#include "journalnode/client/recovery.h"

namespace qj::jn {
namespace {

PrepareResult None(int64_t writer_epoch = 1, int64_t committed = -1) {
  PrepareResult a;
  a.last_writer_epoch = writer_epoch;
  a.committed_txid = committed;
  return a;
}

PrepareResult InProgress(int64_t start, int64_t end, int64_t writer_epoch,
                         std::optional<int64_t> accepted = std::nullopt, int64_t committed = -1) {
  PrepareResult a = None(writer_epoch, committed);
  a.segment = SegmentState{start, end, true};
  a.accepted_in_epoch = accepted;
  return a;
}

PrepareResult Finalized(int64_t start, int64_t end, int64_t writer_epoch) {
  PrepareResult a = None(writer_epoch);
  a.segment = SegmentState{start, end, false};
  return a;
}

using Answers = std::vector<std::optional<PrepareResult>>;

TEST(RecoveryChoice, SegmentBeatsNone) {
  auto c = ChooseRecovery(1, {None(5), InProgress(1, 3, 1), None(5)}, -1);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->node, 1);
  EXPECT_EQ(c->end_txid, 3);
  EXPECT_GT(CompareRecoveryAnswers(InProgress(1, 1, 1), None(9)), 0);
}

TEST(RecoveryChoice, EmptyInProgressCountsAsNone) {
  auto c = ChooseRecovery(10, {InProgress(10, 9, 7), std::nullopt, None(2)}, -1);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->node, -1);
  EXPECT_EQ(c->end_txid, 9);
}

TEST(RecoveryChoice, NobodyHasTheSegment_LogEndsBeforeIt) {
  auto c = ChooseRecovery(101, {None(), None(), std::nullopt}, 100);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->node, -1);
  EXPECT_EQ(c->end_txid, 100);
}

TEST(RecoveryChoice, FinalizedBeatsInProgress) {
  // The in-progress copy is longer and from a higher epoch, yet the finalized one wins.
  auto c = ChooseRecovery(1, {InProgress(1, 50, 9, 9), Finalized(1, 40, 3), std::nullopt}, -1);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->node, 1);
  EXPECT_FALSE(c->segment.in_progress);
  EXPECT_EQ(c->end_txid, 40);
}

TEST(RecoveryChoice, TwoFinalizedCopiesThatDisagreeAreRefused) {
  auto c = ChooseRecovery(1, {Finalized(1, 40, 3), Finalized(1, 41, 3), std::nullopt}, -1);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kIllegalState);
}

TEST(RecoveryChoice, HigherAcceptedEpochBeatsHigherWriterEpoch) {
  // jn0 was written by epoch 4; jn1 accepted a recovery proposal in epoch 6 (its writer
  // epoch is older). Accepted-in epoch 6 > writer epoch 4: jn1 wins although shorter.
  auto c = ChooseRecovery(1, {InProgress(1, 30, 4), InProgress(1, 20, 3, 6), None(4)}, -1);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->node, 1);
  EXPECT_EQ(c->end_txid, 20);
  EXPECT_EQ(RecoveryEpoch(InProgress(1, 20, 3, 6)), 6);
  EXPECT_EQ(RecoveryEpoch(InProgress(1, 20, 3)), 3);
}

TEST(RecoveryChoice, HigherWriterEpochBeatsLowerAcceptedEpoch) {
  auto c = ChooseRecovery(1, {InProgress(1, 20, 3, 5), InProgress(1, 10, 7), None()}, -1);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->node, 1);
  EXPECT_EQ(c->end_txid, 10);
}

TEST(RecoveryChoice, SameEpochLongerWins) {
  auto c =
      ChooseRecovery(1, {InProgress(1, 20, 3), InProgress(1, 25, 3), InProgress(1, 22, 3)}, -1);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->node, 1);
  EXPECT_EQ(c->end_txid, 25);
}

TEST(RecoveryChoice, LongerSegmentFromOlderEpochLoses) {
  auto c = ChooseRecovery(1, {InProgress(1, 100, 2), InProgress(1, 60, 3), std::nullopt}, -1);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->node, 1);
  EXPECT_EQ(c->end_txid, 60);
}

TEST(RecoveryChoice, EndBelowReportedCommittedIsRefused) {
  // A journalnode reports txid 70 committed, but the best copy ends at 60.
  Answers a = {InProgress(1, 100, 2, std::nullopt, 70), InProgress(1, 60, 3), std::nullopt};
  auto c = ChooseRecovery(1, a, -1);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kIllegalState);
  EXPECT_NE(c.status().message().find("70"), std::string::npos) << c.status();
}

TEST(RecoveryChoice, CommittedHintFromJournalStateBeyondEveryCopyDoesNotWedge) {
  // getJournalState's hint is not tied to any copy here: it is logged, not obeyed.
  auto c = ChooseRecovery(1, {InProgress(1, 60, 3), None(), None()}, int64_t{1} << 60);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->end_txid, 60);
}

TEST(RecoveryChoice, HintBeyondTheNodesOwnCopyIsClampedToIt) {
  // Issue 8 item 5: a node told "committed = 2^60" must not make every recovery refuse.
  const int64_t huge = int64_t{1} << 60;
  auto c = ChooseRecovery(1, {InProgress(1, 60, 3, std::nullopt, huge), None(3, huge), None()}, -1);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->end_txid, 60);
  // Clamped, it still guards what that node holds: its own copy reaches 80, the choice 60.
  Answers a = {InProgress(1, 80, 2, std::nullopt, huge), InProgress(1, 60, 3), std::nullopt};
  auto r = ChooseRecovery(1, a, -1);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("80"), std::string::npos) << r.status();
}

TEST(RecoveryChoice, NoSegmentAndAHintInsideItIsIgnored) {
  // The node has no copy of segment 101, so it cannot justify txid 105.
  auto c = ChooseRecovery(101, {None(3, 105), None(), std::nullopt}, -1);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->end_txid, 100);
}

TEST(RecoveryChoice, AnswerForAnotherSegmentIsRefused) {
  auto c = ChooseRecovery(101, {InProgress(1, 200, 3), None(), None()}, -1);
  ASSERT_FALSE(c.ok());
}

TEST(RecoveryChoice, EqualCopiesPickOne) {
  auto c = ChooseRecovery(5, {InProgress(5, 9, 2), InProgress(5, 9, 2), std::nullopt}, -1);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_GE(c->node, 0);
  EXPECT_EQ(c->end_txid, 9);
}

}  // namespace
}  // namespace qj::jn
