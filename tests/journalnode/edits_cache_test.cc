#include "journalnode/edits_cache.h"

#include <gtest/gtest.h>

#include "tests/journalnode/journal_test_util.h"

namespace qj::jn {
namespace {

using qj::jn::testutil::Records;

TEST(EditsCacheTest, ServesDenseRangesAcrossBatches) {
  EditsCache cache(1 << 20);
  cache.Append(1, 5, Records(1, 5));
  cache.Append(6, 3, Records(6, 3));
  std::string out;
  EXPECT_EQ(cache.Read(4, 7, 1 << 20, &out), 4);
  EXPECT_EQ(out, Records(4, 4));
  out.clear();
  EXPECT_EQ(cache.Read(9, 20, 1 << 20, &out), 0);  // not cached
  EXPECT_EQ(cache.Read(0, 3, 1 << 20, &out), 0);
  // The byte budget stops early but always returns at least one record.
  out.clear();
  EXPECT_EQ(cache.Read(1, 8, 1, &out), 1);
  EXPECT_EQ(out, Records(1, 1));
}

TEST(EditsCacheTest, EvictsOldestPastCapacity_ClearsOnDiscontinuity) {
  const size_t two_batches = Records(11, 20).size();  // batches 11..20 and 21..30
  EditsCache cache(two_batches);
  cache.Append(1, 10, Records(1, 10));
  cache.Append(11, 10, Records(11, 10));
  cache.Append(21, 10, Records(21, 10));
  EXPECT_EQ(cache.first_txid(), 11);
  EXPECT_EQ(cache.last_txid(), 30);
  EXPECT_EQ(cache.bytes(), two_batches);
  cache.Append(40, 2, Records(40, 2));  // a gap: the old range is dropped
  EXPECT_EQ(cache.first_txid(), 40);
  EXPECT_EQ(cache.last_txid(), 41);
  std::string out;
  EXPECT_EQ(cache.Read(40, 41, 1 << 20, &out), 2);
}

}  // namespace
}  // namespace qj::jn
