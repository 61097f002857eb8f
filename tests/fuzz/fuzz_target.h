// The fuzz targets' common frame. A target is written once, as
//
//   QJ_FUZZ_TARGET(name) { ... uses `data` (std::string_view) ... }
//
// and that one body serves twice: as LLVMFuzzerTestOneInput in the libFuzzer executable
// fuzz_<name> (built with QJ_FUZZ=ON, the file compiled with -DQJ_FUZZ_LIBFUZZER), and,
// compiled without it, as a registered function that the ordinary gtest suite
// (fuzz_corpus_test) runs over the checked-in seed corpus and every regression input, so
// that a bug the fuzzers found stays fixed in every build, not only in the clang one.
//
// A body reports a broken invariant with QJ_FUZZ_CHECK, which aborts: libFuzzer keeps the
// input as a crash, and the gtest binary dies (the test fails) naming the check.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace qj::fuzz {

using TargetFn = void (*)(std::string_view data);

// Every target linked into this binary, by name (the corpus folder's name).
std::map<std::string, TargetFn>& Targets();

struct Registration {
  Registration(const char* name, TargetFn fn) { Targets()[name] = fn; }
};

// A fresh, empty directory for this process's scratch files (under /dev/shm when it
// exists, so that fsync costs nothing), removed at exit. Created on first use.
const std::string& ScratchDir();

// Removes everything under `dir` and recreates it empty. Aborts on failure.
void ResetDir(const std::string& dir);

// Writes `data` to `path` (no fsync). Aborts on failure.
void WriteFileOrDie(const std::string& path, std::string_view data);

[[noreturn]] void CheckFailed(const char* file, int line, const char* cond, const std::string& why);

// Reads little-endian integers off the front of a fuzz input; past the end it yields 0,
// so that every input is usable.
class Input {
 public:
  explicit Input(std::string_view data) : data_(data) {}
  bool empty() const { return data_.empty(); }
  size_t size() const { return data_.size(); }
  uint8_t U8();
  uint16_t U16();
  uint32_t U32();
  uint64_t U64();
  // Up to n bytes.
  std::string_view Bytes(size_t n);
  // A length-prefixed (u16) byte string.
  std::string_view Blob() { return Bytes(U16()); }
  std::string_view Rest() { return Bytes(data_.size()); }

 private:
  std::string_view data_;
};

}  // namespace qj::fuzz

#define QJ_FUZZ_CHECK(cond, why)                                            \
  do {                                                                      \
    if (!(cond)) ::qj::fuzz::CheckFailed(__FILE__, __LINE__, #cond, (why)); \
  } while (0)

#ifdef QJ_FUZZ_LIBFUZZER
#define QJ_FUZZ_ENTRY_(name)                                              \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* d, size_t n) {     \
    QjFuzz_##name(std::string_view(reinterpret_cast<const char*>(d), n)); \
    return 0;                                                             \
  }
#else
#define QJ_FUZZ_ENTRY_(name)
#endif

#define QJ_FUZZ_TARGET(name)                                                               \
  static void QjFuzz_##name(std::string_view data);                                        \
  static const ::qj::fuzz::Registration qj_fuzz_registration_##name(#name, QjFuzz_##name); \
  QJ_FUZZ_ENTRY_(name)                                                                     \
  static void QjFuzz_##name(std::string_view data)
