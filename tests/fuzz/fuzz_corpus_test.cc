// Runs every fuzz target body (tests/fuzz/*_fuzz.cc) over its seed corpus and over the
// inputs of the bugs the fuzzers found, in the ordinary build: a body aborts on a broken
// invariant, so a crash input that is no longer handled fails this test. Bug-specific
// expectations (the clear error each input must now get) are in fuzz_regression_test.cc.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_target.h"

namespace qj::fuzz {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> FilesIn(const fs::path& dir) {
  std::vector<fs::path> files;
  if (!fs::is_directory(dir)) return files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file()) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(FuzzCorpus, EveryTargetHasSeeds) {
  ASSERT_GE(Targets().size(), 7u);
  for (const auto& [name, fn] : Targets()) {
    EXPECT_FALSE(FilesIn(fs::path(QJ_FUZZ_DATA_DIR) / "corpus" / name).empty())
        << "no seed corpus for fuzz target " << name;
  }
}

TEST(FuzzCorpus, SeedsAndRegressionsRunClean) {
  size_t inputs = 0;
  for (const auto& [name, fn] : Targets()) {
    for (const char* kind : {"corpus", "regressions"}) {
      for (const auto& file : FilesIn(fs::path(QJ_FUZZ_DATA_DIR) / kind / name)) {
        SCOPED_TRACE(file.string());
        fn(ReadAll(file));  // aborts the binary on a broken invariant
        ++inputs;
      }
    }
  }
  EXPECT_GT(inputs, 0u);
}

}  // namespace
}  // namespace qj::fuzz
