// Decoder bugs found with the fuzz targets' invariants, one test each, on an input of the
// target's format (tests/fuzz/regressions/<target>/<name>; a fuzzer's crash input goes
// there the same way): each input must now get a clear error, and a
// declared length must not be allocated before it is checked against the bytes there are.
// (fuzz_corpus_test also runs these inputs through the fuzz bodies' invariants.)
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <new>
#include <sstream>
#include <string>

#include "namenode/edit_ops.h"
#include "namenode/image.h"
#include "tests/fuzz/fuzz_target.h"

// The largest single allocation made through operator new in this binary, so that a test
// can tell that no huge buffer was allocated on the way to an error.
namespace {
std::atomic<size_t> largest_allocation{0};
}  // namespace

// GCC sees free() on what it takes for a new-expression's pointer; here operator new is
// malloc, so the pair matches.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(size_t n) {
  size_t seen = largest_allocation.load(std::memory_order_relaxed);
  while (n > seen && !largest_allocation.compare_exchange_weak(seen, n)) {
  }
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace qj::fuzz {

using nn::DecodeEdit;
using nn::DescribeEdit;
using nn::EditOp;
using nn::ImageFileName;
using nn::LoadImage;
using nn::NamespaceOptions;
using nn::VerifyImageFile;

namespace {

std::string Regression(const std::string& target, const std::string& name) {
  const std::string path = std::string(QJ_FUZZ_DATA_DIR) + "/regressions/" + target + "/" + name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing regression input " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

size_t LargestAllocationDuring(const std::function<void()>& fn) {
  largest_allocation = 0;
  fn();
  return largest_allocation.load();
}

// An image whose first frame declares 48 MiB in a 102-byte file. The reader allocated the
// declared length (up to its 64 MiB frame bound) before reading, so every such file cost
// that much memory on the way to "truncated".
TEST(FuzzRegression, ImageFrameLongerThanTheFileIsRefusedBeforeAllocating) {
  const std::string bytes = Regression("image", "frame_length_beyond_file");
  ResetDir(ScratchDir() + "/regression_image");
  const std::string path = ScratchDir() + "/regression_image/" + ImageFileName(1);
  WriteFileOrDie(path, bytes);
  Status status;
  const size_t largest =
      LargestAllocationDuring([&] { status = LoadImage(path, NamespaceOptions()).status(); });
  EXPECT_TRUE(status.IsCorruption()) << status;
  EXPECT_NE(status.message().find("beyond the end of the file"), std::string::npos) << status;
  EXPECT_LT(largest, size_t{1} << 20)
      << "allocated " << largest << " bytes for a " << bytes.size() << "-byte file";
  const size_t verify_largest =
      LargestAllocationDuring([&] { status = VerifyImageFile(path).status(); });
  EXPECT_TRUE(status.IsCorruption()) << status;
  EXPECT_LT(verify_largest, size_t{1} << 20);
}

// A SET_PERMISSION payload whose permission varint has a redundant zero group (0x80 0x83
// 0x00 for 0600). FORMAT.md promises one byte string per edit; the decoder accepted it.
TEST(FuzzRegression, EditPayloadWithOverlongVarintIsRefused) {
  const std::string bytes = Regression("edit_ops", "overlong_varint");
  Input in(bytes);
  const uint16_t op = in.U16();
  const std::string_view payload = in.Blob();
  ASSERT_EQ(op, static_cast<uint16_t>(EditOp::kSetPermission));
  auto edit = DecodeEdit(op, payload);
  ASSERT_FALSE(edit.ok()) << "accepted as " << DescribeEdit(*edit);
  EXPECT_TRUE(edit.status().IsCorruption()) << edit.status();
  EXPECT_NE(edit.status().message().find("shortest"), std::string::npos) << edit.status();
}

}  // namespace
}  // namespace qj::fuzz
