// The dual-activity check of HaWorkload on hand-made call records: it must flag a proven
// overlap and must not flag a clean hand-over or an overlap that the timestamps can't prove.
#include "tests/failover/ha_workload.h"

#include <gtest/gtest.h>

namespace qj::testing {
namespace {

CallRecord Ok(int nn, int64_t send, int64_t recv) {
  CallRecord r;
  r.nn = nn;
  r.send_ns = send;
  r.recv_ns = recv;
  r.result = CallResult::kOk;
  return r;
}

CallRecord NotActive(int nn, int64_t send, int64_t recv) {
  CallRecord r = Ok(nn, send, recv);
  r.result = CallResult::kNotActive;
  return r;
}

std::vector<std::string> Check(std::vector<std::vector<CallRecord>> threads) {
  std::vector<ThreadLog> logs;
  for (auto& calls : threads) {
    logs.emplace_back();
    logs.back().name = "t" + std::to_string(logs.size());
    logs.back().calls = std::move(calls);
  }
  return HaWorkload::FindDualActivity(logs, {"nn1", "nn2"});
}

TEST(DualActivity, CleanHandOver_NotFlagged) {
  // nn1 serves until 100, refuses from 110; nn2 serves from 120.
  EXPECT_TRUE(
      Check({{Ok(0, 0, 10), Ok(0, 50, 60), Ok(0, 90, 100), NotActive(0, 110, 115)},
             {NotActive(1, 0, 5), NotActive(1, 100, 105), Ok(1, 120, 130), Ok(1, 140, 150)}})
          .empty());
}

TEST(DualActivity, ProvenOverlap_Flagged) {
  // nn1 answers as active at [0,10] and [200,210]: active throughout [10, 200]. nn2 answered
  // as active entirely inside that interval.
  auto proofs = Check({{Ok(0, 0, 10), Ok(0, 100, 110), Ok(0, 200, 210)}, {Ok(1, 120, 130)}});
  ASSERT_EQ(proofs.size(), 1u);
  EXPECT_NE(proofs[0].find("nn1 was active throughout [10, 200]"), std::string::npos) << proofs[0];
}

TEST(DualActivity, UnprovableOverlap_NotFlagged) {
  // nn2's window straddles the end of nn1's certain interval: it may have answered after
  // nn1 stopped.
  EXPECT_TRUE(Check({{Ok(0, 0, 10), Ok(0, 100, 110)}, {Ok(1, 90, 130)}}).empty());
  // A refusal from nn1 splits its runs: it may have been demoted and promoted again.
  EXPECT_TRUE(
      Check({{Ok(0, 0, 10), NotActive(0, 20, 30), Ok(0, 200, 210)}, {Ok(1, 40, 50)}}).empty());
}

}  // namespace
}  // namespace qj::testing
