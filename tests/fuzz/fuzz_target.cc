#include "tests/fuzz/fuzz_target.h"

#include <glog/logging.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace qj::fuzz {

std::map<std::string, TargetFn>& Targets() {
  static auto* targets = new std::map<std::string, TargetFn>();
  return *targets;
}

void CheckFailed(const char* file, int line, const char* cond, const std::string& why) {
  fprintf(stderr, "%s:%d: fuzz check failed: %s: %s\n", file, line, cond, why.c_str());
  abort();
}

namespace {
std::string* scratch = nullptr;
void RemoveScratch() {
  std::error_code ec;
  if (scratch != nullptr) std::filesystem::remove_all(*scratch, ec);
}
}  // namespace

const std::string& ScratchDir() {
  if (scratch == nullptr) {
    const char* base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : nullptr;
    if (base == nullptr) base = getenv("TMPDIR") != nullptr ? getenv("TMPDIR") : "/tmp";
    std::string tmpl = std::string(base) + "/qj-fuzz-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) CheckFailed(__FILE__, __LINE__, "mkdtemp", tmpl);
    scratch = new std::string(tmpl);
    atexit(RemoveScratch);
  }
  return *scratch;
}

void ResetDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (ec) CheckFailed(__FILE__, __LINE__, "remove_all", dir + ": " + ec.message());
  std::filesystem::create_directories(dir, ec);
  if (ec) CheckFailed(__FILE__, __LINE__, "create_directories", dir + ": " + ec.message());
}

void WriteFileOrDie(const std::string& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  if (!out) CheckFailed(__FILE__, __LINE__, "write", path);
}

uint8_t Input::U8() {
  if (data_.empty()) return 0;
  uint8_t v = static_cast<uint8_t>(data_[0]);
  data_.remove_prefix(1);
  return v;
}
// Each half is read in its own statement: the order of evaluation inside one expression
// is unspecified.
uint16_t Input::U16() {
  const uint16_t lo = U8();
  return static_cast<uint16_t>(lo | (U8() << 8));
}
uint32_t Input::U32() {
  const uint32_t lo = U16();
  return lo | (static_cast<uint32_t>(U16()) << 16);
}
uint64_t Input::U64() {
  const uint64_t lo = U32();
  return lo | (static_cast<uint64_t>(U32()) << 32);
}

std::string_view Input::Bytes(size_t n) {
  n = std::min(n, data_.size());
  std::string_view v = data_.substr(0, n);
  data_.remove_prefix(n);
  return v;
}

}  // namespace qj::fuzz

#ifdef QJ_FUZZ_LIBFUZZER
// The libraries log every step, and every refused input at ERROR; at hundreds of
// thousands of inputs that is most of the time spent. Findings are reported by the
// sanitizers and QJ_FUZZ_CHECK, not by logs.
extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  FLAGS_minloglevel = google::GLOG_FATAL;
  FLAGS_logtostderr = true;
  return 0;
}
#endif
