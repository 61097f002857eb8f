// common/rpc/field_map.h: one table of field pairs read in both directions.
#include "common/rpc/field_map.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <tuple>

namespace qj::rpc {
namespace {

struct Ours {
  int64_t id = 0;
  uint16_t bits = 0;
  std::string name;
  std::unique_ptr<int> big;  // move-only: converting it compiles only from an rvalue
};

struct Wire {
  int64_t id = 0;
  int16_t bits = 0;
  std::string name;
  std::unique_ptr<int> big;
  bool untouched = true;  // not in the table
};

constexpr auto kFields =
    std::make_tuple(Field(&Ours::id, &Wire::id), Field(&Ours::bits, &Wire::bits),
                    Field(&Ours::name, &Wire::name), Field(&Ours::big, &Wire::big));
constexpr auto kCopyable = std::make_tuple(
    Field(&Ours::id, &Wire::id), Field(&Ours::bits, &Wire::bits), Field(&Ours::name, &Wire::name));

TEST(FieldMap, EveryFieldBothWays) {
  Ours o;
  o.id = 42;
  o.bits = 0755;
  o.name = "a/b";
  Wire w = ToWire<Wire>(kCopyable, o);
  EXPECT_EQ(w.id, 42);
  EXPECT_EQ(w.bits, 0755);
  EXPECT_EQ(w.name, "a/b");
  EXPECT_TRUE(w.untouched);
  EXPECT_EQ(o.name, "a/b") << "a const source is copied, not moved";

  w.id = 7;
  w.bits = 01777;
  w.name = "c";
  Ours back = FromWire<Ours>(kCopyable, w);
  EXPECT_EQ(back.id, 7);
  EXPECT_EQ(back.bits, 01777);
  EXPECT_EQ(back.name, "c");
}

TEST(FieldMap, ValuesAreCastNotKept) {
  Ours o;
  o.bits = 0xffff;  // no i16 holds it: the cast wraps, as the hand-written static_cast did
  EXPECT_EQ(ToWire<Wire>(kCopyable, o).bits, -1);
  Wire w;
  w.bits = -1;
  EXPECT_EQ(FromWire<Ours>(kCopyable, w).bits, 0xffff);
}

TEST(FieldMap, AnRvalueSourceIsMoved) {
  Ours o;
  o.big = std::make_unique<int>(5);
  Wire w = ToWire<Wire>(kFields, std::move(o));
  ASSERT_NE(w.big, nullptr);
  EXPECT_EQ(*w.big, 5);
  Ours back = FromWire<Ours>(kFields, std::move(w));
  ASSERT_NE(back.big, nullptr);
  EXPECT_EQ(*back.big, 5);
}

}  // namespace
}  // namespace qj::rpc
