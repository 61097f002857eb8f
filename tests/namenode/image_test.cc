#include "namenode/image.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "common/crc32c.h"
#include "common/file_ops.h"
#include "common/file_util.h"
#include "namenode/codec.h"
#include "namenode/node_pool.h"
#include "tests/namenode/namespace_test_util.h"
#include "tests/support/process.h"

namespace qj::nn {
namespace {

using testing_util::NsHarness;
using testing_util::RandomWorkload;
using testing_util::Superuser;

std::string ReadAll(const std::string& path) {
  std::string s;
  EXPECT_TRUE(ReadFileToString(path, &s).ok());
  return s;
}

void WriteAll(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

NamespaceOptions Opts() {
  NamespaceOptions o;
  o.namespace_id = 4242;
  return o;
}

void ExpectEqual(const FsNamespace& a, const FsNamespace& b) {
  std::string why;
  EXPECT_TRUE(NamespaceEquals(a, b, &why)) << why;
  EXPECT_EQ(a.Digest(), b.Digest());
}

TEST(ImageTest, FileNames) {
  EXPECT_EQ(ImageFileName(42), "fsimage_0000000000000000042");
  int64_t txid = -1;
  EXPECT_TRUE(ParseImageFileName("fsimage_0000000000000000042", &txid));
  EXPECT_EQ(txid, 42);
  EXPECT_FALSE(ParseImageFileName("fsimage_0000000000000000042.tmp", &txid));
  EXPECT_FALSE(ParseImageFileName("fsimage_42", &txid));
  EXPECT_FALSE(ParseImageFileName("fsimage_00000000000000000x2", &txid));
  EXPECT_FALSE(ParseImageFileName("edits_0000000000000000042", &txid));
}

TEST(ImageTest, RoundTrip_RandomWorkload) {
  testing::TempDir dir;
  NsHarness h(Opts());
  RandomWorkload(&h, 11, 3000);
  ASSERT_TRUE(SaveImage(h.ns(), 77, dir.path()).ok());
  Result<LoadedImage> loaded = LoadImage(dir.path() + "/" + ImageFileName(77), Opts());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->txid, 77);
  EXPECT_EQ(loaded->ns->options().namespace_id, 4242);
  ExpectEqual(h.ns(), *loaded->ns);
  // No temp file is left behind.
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_EQ(e.path().filename().string(), ImageFileName(77));
  }
}

// What NamenodeServer::ReloadFromImage does: free the stale namespace, then load the
// image. The load reuses the freed inodes and map nodes (node_pool) and takes no new memory;
// loading before freeing (the old order) needs a second namespace's worth.
TEST(ImageTest, ReloadAfterFreeing_ReusesTheMemory) {
  if (!node_pool::kPooled) GTEST_SKIP() << "no pooling in sanitizer builds";
  testing::TempDir dir;
  NsHarness h(Opts());
  RandomWorkload(&h, 12, 3000);
  const Caller su = Superuser();
  for (int i = 0; i < 20000; ++i) {
    ASSERT_TRUE(h.Mkdirs(su, "/bulk/d" + std::to_string(i % 100) + "/e" + std::to_string(i)).ok());
  }
  ASSERT_TRUE(SaveImage(h.ns(), 9, dir.path()).ok());
  const std::string path = dir.path() + "/" + ImageFileName(9);
  Result<LoadedImage> first = LoadImage(path, Opts());
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_GT(first->ns->inode_count(), 20000);
  // Loading while the first is alive takes new memory: about a namespace's worth.
  const int64_t before_second = node_pool::GetStats().carved_bytes;
  Result<LoadedImage> second = LoadImage(path, Opts());
  ASSERT_TRUE(second.ok()) << second.status();
  const int64_t one_namespace = node_pool::GetStats().carved_bytes - before_second;
  EXPECT_GT(one_namespace, first->ns->inode_count() * 100);
  // Free, then load: nothing new.
  for (int round = 0; round < 3; ++round) {
    const int64_t carved = node_pool::GetStats().carved_bytes;
    second->ns.reset();
    second = LoadImage(path, Opts());
    ASSERT_TRUE(second.ok()) << second.status();
    EXPECT_EQ(node_pool::GetStats().carved_bytes, carved) << "round " << round;
    ExpectEqual(*first->ns, *second->ns);
  }
  ExpectEqual(h.ns(), *second->ns);
}

TEST(ImageTest, RoundTrip_FreshNamespace) {
  testing::TempDir dir;
  FsNamespace ns(Opts());
  EXPECT_EQ(SaveImage(ns, -1, dir.path()).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SaveImage(ns, 0, dir.path() + "/missing").code(), StatusCode::kIOError);
  ASSERT_TRUE(SaveImage(ns, 0, dir.path()).ok());
  Result<LoadedImage> loaded = LoadImage(dir.path() + "/" + ImageFileName(0), Opts());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ExpectEqual(ns, *loaded->ns);
}

TEST(ImageTest, ImagePlusLaterEdits_EqualsLiveNamespace) {
  testing::TempDir dir;
  NsHarness h(Opts());
  RandomWorkload(&h, 21, 2000);
  const size_t at = h.log().size();
  ASSERT_TRUE(SaveImage(h.ns(), static_cast<int64_t>(at), dir.path()).ok());
  RandomWorkload(&h, 22, 2000);
  ASSERT_GT(h.log().size(), at);
  Result<LoadedImage> loaded = LoadNewestValidImage(dir.path(), Opts());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_EQ(loaded->txid, static_cast<int64_t>(at));
  for (size_t i = at; i < h.log().size(); ++i) {
    EncodedEdit enc = EncodeEdit(h.log()[i]);
    Result<Edit> dec = DecodeEdit(enc.op, enc.payload);
    ASSERT_TRUE(dec.ok()) << dec.status();
    ASSERT_TRUE(loaded->ns->Apply(*dec, static_cast<int64_t>(i) + 1).ok());
  }
  ExpectEqual(h.ns(), *loaded->ns);
}

TEST(ImageTest, LargeTree_RoundTripAndPaging) {
  testing::TempDir dir;
  FsNamespace ns(Opts());
  const Caller su = Superuser();
  auto run = [&ns](FsResult<std::optional<Edit>> r) {
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_TRUE(r->has_value());
    ASSERT_TRUE(ns.Apply(**r).ok());
  };
  auto t0 = std::chrono::steady_clock::now();
  constexpr int kBig = 100000;
  run(ns.PrepareMkdirs(su, "/big", 0755, true, 1));
  char name[64];
  for (int i = 0; i < kBig; ++i) {
    std::snprintf(name, sizeof(name), "/big/file-%07d", i);
    run(ns.PrepareCreate(su, name, 0644, false, 3, 1 << 20, i));
  }
  for (int d = 0; d < 1000; ++d) {
    std::snprintf(name, sizeof(name), "/tree/d%03d/sub", d);
    run(ns.PrepareMkdirs(su, name, 0750, true, d));
    for (int f = 0; f < 98; ++f) {
      std::snprintf(name, sizeof(name), "/tree/d%03d/sub/f%02d", d, f);
      run(ns.PrepareCreate(su, name, 0600, false, 2, 1 << 20, f));
      if (f % 10 == 0) {
        run(ns.PrepareAddBlock(su, name, -1));
        run(ns.PrepareComplete(su, name, 1000 + f, f));
      }
    }
  }
  ASSERT_GE(ns.inode_count(), 200000);
  auto t1 = std::chrono::steady_clock::now();
  ASSERT_TRUE(SaveImage(ns, 123456, dir.path()).ok());
  auto t2 = std::chrono::steady_clock::now();
  const std::string path = dir.path() + "/" + ImageFileName(123456);
  Result<LoadedImage> loaded = LoadImage(path, Opts());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  auto t3 = std::chrono::steady_clock::now();
  ExpectEqual(ns, *loaded->ns);
  Result<ImageInfo> info = VerifyImageFile(path);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->inode_count, ns.inode_count());
  auto secs = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
  std::printf("image: %lld inodes, build %.2f s, save %.2f s, load %.2f s, %lld bytes\n",
              static_cast<long long>(ns.inode_count()), secs(t0, t1), secs(t1, t2), secs(t2, t3),
              static_cast<long long>(info->file_size));

  // Page through the 100k-entry directory of the loaded namespace.
  std::string after;
  int64_t seen = 0;
  while (true) {
    auto page = loaded->ns->ListStatus(su, "/big", after, 1000);
    ASSERT_TRUE(page.ok()) << page.status();
    if (page->entries.empty()) break;
    seen += static_cast<int64_t>(page->entries.size());
    ASSERT_EQ(page->remaining_entries, kBig - seen);
    after = page->entries.back().path.substr(5);
  }
  EXPECT_EQ(seen, kBig);

  // A flipped byte in the middle of this multi-frame image names the frame's offset.
  std::string bytes = ReadAll(path);
  bytes[bytes.size() / 2] ^= 0x10;
  WriteAll(path, bytes);
  loaded = LoadImage(path, Opts());
  ASSERT_TRUE(loaded.status().IsCorruption()) << loaded.status();
  EXPECT_NE(loaded.status().message().find("frame at offset"), std::string::npos)
      << loaded.status();
}

class ImageCorruptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RandomWorkload(&h_, 31, 1500);
    ASSERT_TRUE(SaveImage(h_.ns(), 9, dir_.path()).ok());
    path_ = dir_.path() + "/" + ImageFileName(9);
    good_ = ReadAll(path_);
    ASSERT_GT(good_.size(), 200u);
  }
  void ExpectCorrupt(const std::string& bytes, const std::string& what) {
    WriteAll(path_, bytes);
    Result<LoadedImage> loaded = LoadImage(path_, Opts());
    ASSERT_FALSE(loaded.ok()) << what;
    EXPECT_TRUE(loaded.status().IsCorruption()) << what << ": " << loaded.status();
    EXPECT_NE(loaded.status().message().find(path_), std::string::npos) << loaded.status();
    EXPECT_NE(loaded.status().message().find("offset"), std::string::npos) << loaded.status();
    Result<ImageInfo> v = VerifyImageFile(path_);
    EXPECT_TRUE(v.status().IsCorruption()) << what << ": " << v.status();
  }

  testing::TempDir dir_;
  NsHarness h_{Opts()};
  std::string path_;
  std::string good_;
};

TEST_F(ImageCorruptionTest, FlippedByteAnywhereIsDetected) {
  const size_t n = good_.size();
  // Header fields, the header CRC, the first frame's length/CRC/payload, the last payload
  // byte, the end frame's length and stream CRC.
  const std::vector<size_t> offsets = {0,  7,  8,  16, 24,    33,    36,    39,    40,   43,
                                       44, 47, 48, 60, n / 3, n - 9, n - 8, n - 5, n - 1};
  for (size_t off : offsets) {
    for (uint8_t mask : {0x01, 0x80}) {
      std::string bad = good_;
      bad[off] = static_cast<char>(bad[off] ^ mask);
      ExpectCorrupt(bad, "flip at " + std::to_string(off));
    }
  }
  // Every byte of a small image, one bit each.
  for (size_t off = 0; off < n; off += 7) {
    std::string bad = good_;
    bad[off] = static_cast<char>(bad[off] ^ 0x04);
    WriteAll(path_, bad);
    EXPECT_FALSE(LoadImage(path_, Opts()).ok()) << "flip at " << off;
  }
}

TEST_F(ImageCorruptionTest, TruncationAndTrailingBytesAreDetected) {
  const size_t n = good_.size();
  for (size_t len : {size_t{0}, size_t{5}, size_t{39}, size_t{40}, size_t{44}, size_t{47}, n / 2,
                     n - 8, n - 1}) {
    ExpectCorrupt(good_.substr(0, len), "truncated to " + std::to_string(len));
  }
  ExpectCorrupt(good_ + std::string(1, '\0'), "one trailing zero");
  ExpectCorrupt(good_ + good_, "doubled");
  WriteAll(path_, good_);
  Result<LoadedImage> loaded = LoadImage(path_, Opts());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ExpectEqual(h_.ns(), *loaded->ns);
}

TEST_F(ImageCorruptionTest, WrongNamespaceIdIsRejected) {
  NamespaceOptions other = Opts();
  other.namespace_id = 7;
  Result<LoadedImage> loaded = LoadImage(path_, other);
  EXPECT_EQ(loaded.status().code(), StatusCode::kInvalidArgument) << loaded.status();
  NamespaceOptions any = Opts();
  any.namespace_id = 0;
  loaded = LoadImage(path_, any);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->ns->options().namespace_id, 4242);
  EXPECT_TRUE(LoadImage(dir_.path() + "/nope", Opts()).status().IsNotFound());
}

// Frames a payload stream the way SaveImage does (one frame per piece), with valid CRCs.
std::string Reframe(const std::string& header, const std::vector<std::string>& payloads) {
  std::string out = header;
  uint32_t stream = 0;
  for (const std::string& p : payloads) {
    std::string len;
    codec::PutFixed32(&len, static_cast<uint32_t>(p.size()));
    out += len;
    codec::PutFixed32(&out, crc32c::Extend(crc32c::Value(len.data(), 4), p.data(), p.size()));
    out += p;
    stream = crc32c::Extend(stream, p.data(), p.size());
  }
  codec::PutFixed32(&out, 0);
  codec::PutFixed32(&out, stream);
  return out;
}

// Splits a good image into its header and frame payloads.
void Deframe(const std::string& file, std::string* header, std::vector<std::string>* payloads) {
  *header = file.substr(0, 40);
  size_t off = 40;
  while (true) {
    const uint32_t len = codec::DecodeFixed32(file.data() + off);
    if (len == 0) break;
    payloads->push_back(file.substr(off + 8, len));
    off += 8 + len;
  }
}

TEST_F(ImageCorruptionTest, GarbageInsideValidFramesFailsCleanly) {
  std::string header;
  std::vector<std::string> payloads;
  Deframe(good_, &header, &payloads);
  ASSERT_EQ(payloads.size(), 1u);
  // Sanity: re-framing the untouched payload gives a loadable image.
  WriteAll(path_, Reframe(header, payloads));
  ASSERT_TRUE(LoadImage(path_, Opts()).ok());
  std::mt19937_64 rng(3);
  int loaded_ok = 0;
  for (int i = 0; i < 1000; ++i) {
    std::string p = payloads[0];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < edits; ++k) {
      const size_t pos = rng() % p.size();
      switch (rng() % 3) {
        case 0:
          p[pos] = static_cast<char>(rng());
          break;
        case 1:
          p.insert(pos, 1, static_cast<char>(rng()));
          break;
        case 2:
          p.erase(pos, 1);
          break;
      }
    }
    // Sometimes split the stream into two frames at a random point as well.
    std::vector<std::string> frames{p};
    if (rng() % 4 == 0 && p.size() > 2) {
      const size_t cut = 1 + rng() % (p.size() - 1);
      frames = {p.substr(0, cut), p.substr(cut)};
    }
    WriteAll(path_, Reframe(header, frames));
    Result<LoadedImage> loaded = LoadImage(path_, Opts());
    if (loaded.ok()) {
      ++loaded_ok;  // e.g. a changed mtime: still a well-formed image
    } else {
      EXPECT_TRUE(loaded.status().IsCorruption()) << loaded.status();
    }
  }
  std::printf("image: %d of 1000 mutated (re-checksummed) images still parsed\n", loaded_ok);
}

TEST(ImageDirTest, NewestCorruptFallsBackToPrevious) {
  testing::TempDir dir;
  NsHarness h(Opts());
  EXPECT_TRUE(LoadNewestValidImage(dir.path(), Opts()).status().IsNotFound());
  RandomWorkload(&h, 41, 500);
  ASSERT_TRUE(SaveImage(h.ns(), 10, dir.path()).ok());
  const uint64_t digest10 = h.ns().Digest();
  RandomWorkload(&h, 42, 500);
  ASSERT_TRUE(SaveImage(h.ns(), 20, dir.path()).ok());

  Result<LoadedImage> loaded = LoadNewestValidImage(dir.path(), Opts());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->txid, 20);
  ExpectEqual(h.ns(), *loaded->ns);

  const std::string p20 = dir.path() + "/" + ImageFileName(20);
  std::string bytes = ReadAll(p20);
  bytes[bytes.size() / 2] ^= 0x01;
  WriteAll(p20, bytes);
  loaded = LoadNewestValidImage(dir.path(), Opts());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->txid, 10);
  EXPECT_EQ(loaded->ns->Digest(), digest10);

  const std::string p10 = dir.path() + "/" + ImageFileName(10);
  WriteAll(p10, ReadAll(p10).substr(0, 100));
  loaded = LoadNewestValidImage(dir.path(), Opts());
  EXPECT_TRUE(loaded.status().IsCorruption()) << loaded.status();
  EXPECT_NE(loaded.status().message().find(ImageFileName(10)), std::string::npos);
  EXPECT_NE(loaded.status().message().find(ImageFileName(20)), std::string::npos);
}

// After a downgrade, the newest image may be of a format this release cannot read. That
// is not damage: falling back to an older image would silently lose the edits between.
TEST(ImageDirTest, NewerFormatVersionIsAnErrorNotSkipped) {
  testing::TempDir dir;
  NsHarness h(Opts());
  RandomWorkload(&h, 51, 200);
  ASSERT_TRUE(SaveImage(h.ns(), 10, dir.path()).ok());
  ASSERT_TRUE(SaveImage(h.ns(), 20, dir.path()).ok());
  const std::string p20 = dir.path() + "/" + ImageFileName(20);
  std::string bytes = ReadAll(p20);
  std::string version;
  codec::PutFixed32(&version, 2);
  bytes.replace(8, 4, version);
  std::string crc;
  codec::PutFixed32(&crc, crc32c::Value(bytes.data(), 36));
  bytes.replace(36, 4, crc);
  WriteAll(p20, bytes);

  Result<LoadedImage> loaded = LoadNewestValidImage(dir.path(), Opts());
  ASSERT_FALSE(loaded.ok()) << "loaded txid " << loaded->txid;
  EXPECT_EQ(loaded.status().code(), StatusCode::kNotSupported) << loaded.status();
  EXPECT_NE(loaded.status().message().find("format version 2"), std::string::npos)
      << loaded.status();
  EXPECT_NE(loaded.status().message().find(ImageFileName(20)), std::string::npos);
  EXPECT_EQ(VerifyImageFile(p20).status().code(), StatusCode::kNotSupported);
}

TEST(ImageDirTest, FindPurgeAndVerifyCopies) {
  testing::TempDir dir;
  NsHarness h(Opts());
  for (int64_t txid : {1, 2, 3, 4}) {
    RandomWorkload(&h, static_cast<uint64_t>(txid), 100);
    ASSERT_TRUE(SaveImage(h.ns(), txid, dir.path()).ok());
  }
  WriteAll(dir.path() + "/" + ImageFileName(5) + ".tmp", "partial");
  WriteAll(dir.path() + "/unrelated", "x");
  Result<std::vector<ImageInfo>> found = FindImages(dir.path());
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ((*found)[static_cast<size_t>(i)].txid, i + 1);

  Result<int64_t> oldest = PurgeImages(dir.path(), 2);
  ASSERT_TRUE(oldest.ok()) << oldest.status();
  EXPECT_EQ(*oldest, 3);
  found = FindImages(dir.path());
  ASSERT_EQ(found->size(), 2u);
  EXPECT_EQ((*found)[0].txid, 3);
  // A temp image may be a save in progress (saveNamespace beside the checkpointer): a
  // purge must not delete it under the writer's feet. Start-up removes leftovers.
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/" + ImageFileName(5) + ".tmp"));
  ASSERT_TRUE(RemoveLeftoverImageTemps(dir.path()).ok());
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/" + ImageFileName(5) + ".tmp"));
  EXPECT_EQ(FindImages(dir.path())->size(), 2u);
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/unrelated"));
  EXPECT_FALSE(PurgeImages(dir.path(), 0).ok());

  // A byte-for-byte copy (as fetchImage produces) verifies and loads.
  testing::TempDir other;
  const std::string copy = other.path() + "/" + ImageFileName(4);
  std::filesystem::copy_file(dir.path() + "/" + ImageFileName(4), copy);
  Result<ImageInfo> info = VerifyImageFile(copy);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->txid, 4);
  EXPECT_EQ(info->namespace_id, 4242);
  EXPECT_EQ(info->inode_count, h.ns().inode_count());
  Result<LoadedImage> loaded = LoadImage(copy, Opts());
  ASSERT_TRUE(loaded.ok());
  ExpectEqual(h.ns(), *loaded->ns);
  EXPECT_TRUE(FindImages(other.path() + "/missing").status().IsNotFound());
}

// The real file system, except for the one step of an image save the test chooses to
// fail: the temp image's fsync, its rename, or its writes once the disk is "full"
// (the write that does not fit is cut short, as a full disk cuts it, and then fails).
class FaultyImageOps final : public PosixFileOps {
 public:
  enum class Fault { kNone, kSync, kRename, kNoSpace };

  void Inject(Fault fault, uint64_t space_left = 0) {
    fault_ = fault;
    space_left_ = space_left;
  }
  int injected() const { return injected_; }

  Result<std::unique_ptr<SegmentFile>> Open(const std::string& path, Mode mode) override {
    auto file = PosixFileOps::Open(path, mode);
    if (!file.ok() || mode == Mode::kRead) return file;
    return std::unique_ptr<SegmentFile>(new File(this, std::move(*file)));
  }
  Status Rename(const std::string& from, const std::string& to) override {
    if (fault_ == Fault::kRename) {
      ++injected_;
      return Status::IOError("rename to " + to + " from " + from + ": Input/output error");
    }
    return PosixFileOps::Rename(from, to);
  }

 private:
  class File final : public SegmentFile {
   public:
    File(FaultyImageOps* ops, std::unique_ptr<SegmentFile> real)
        : ops_(ops), real_(std::move(real)) {}
    Status WriteAt(uint64_t offset, std::string_view data) override {
      if (ops_->fault_ == Fault::kNoSpace && offset + data.size() > ops_->space_left_) {
        ++ops_->injected_;
        const uint64_t fits = offset < ops_->space_left_ ? ops_->space_left_ - offset : 0;
        Status s = real_->WriteAt(offset, data.substr(0, fits));
        if (!s.ok()) return s;
        return Status::IOError("write at offset " + std::to_string(offset + fits) + " of " +
                               path() + ": No space left on device");
      }
      return real_->WriteAt(offset, data);
    }
    Status ReadAt(uint64_t offset, size_t n, std::string* out) override {
      return real_->ReadAt(offset, n, out);
    }
    Status DataSync() override { return Sync(&SegmentFile::DataSync); }
    Status FullSync() override { return Sync(&SegmentFile::FullSync); }
    Status Truncate(uint64_t length) override { return real_->Truncate(length); }
    Result<uint64_t> Size() override { return real_->Size(); }
    const std::string& path() const override { return real_->path(); }

   private:
    Status Sync(Status (SegmentFile::*sync)()) {
      if (ops_->fault_ == Fault::kSync) {
        ++ops_->injected_;
        return Status::IOError("fsync " + path() + ": Input/output error");
      }
      return (real_.get()->*sync)();
    }
    FaultyImageOps* const ops_;
    const std::unique_ptr<SegmentFile> real_;
  };

  Fault fault_ = Fault::kNone;
  uint64_t space_left_ = 0;
  int injected_ = 0;
};

// A save that fails at any durable step reports the error, leaves no file under the
// image's name (and no temp file), and the image before it stays the newest one that
// loads. Ignoring the failed fsync would acknowledge an image the disk may not hold.
class ImageSaveFailureTest : public ::testing::TestWithParam<FaultyImageOps::Fault> {};

TEST_P(ImageSaveFailureTest, SaveFailsAndPreviousImageStaysNewest) {
  testing::TempDir dir;
  FaultyImageOps ops;
  NsHarness h(Opts());
  RandomWorkload(&h, 61, 400);
  ASSERT_TRUE(SaveImage(h.ns(), 10, dir.path(), &ops).ok());
  const uint64_t digest10 = h.ns().Digest();
  RandomWorkload(&h, 62, 400);

  // ENOSPC past the header and the first bytes of the body: a short write mid-image.
  ops.Inject(GetParam(), /*space_left=*/100);
  Status s = SaveImage(h.ns(), 20, dir.path(), &ops);
  ASSERT_EQ(ops.injected(), 1);
  ASSERT_FALSE(s.ok()) << "the save acknowledged an image whose write failed";
  EXPECT_EQ(s.code(), StatusCode::kIOError) << s;
  EXPECT_NE(s.message().find(ImageFileName(20)), std::string::npos) << s;

  ops.Inject(FaultyImageOps::Fault::kNone);
  Result<std::vector<std::string>> names = ops.ListDir(dir.path());
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{ImageFileName(10)});
  Result<LoadedImage> loaded = LoadNewestValidImage(dir.path(), Opts(), &ops);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->txid, 10);
  EXPECT_EQ(loaded->ns->Digest(), digest10);

  // The disk is well again: the same save goes through and becomes the newest.
  ASSERT_TRUE(SaveImage(h.ns(), 20, dir.path(), &ops).ok());
  loaded = LoadNewestValidImage(dir.path(), Opts(), &ops);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->txid, 20);
  ExpectEqual(h.ns(), *loaded->ns);
}

INSTANTIATE_TEST_SUITE_P(Faults, ImageSaveFailureTest,
                         ::testing::Values(FaultyImageOps::Fault::kSync,
                                           FaultyImageOps::Fault::kRename,
                                           FaultyImageOps::Fault::kNoSpace),
                         [](const ::testing::TestParamInfo<FaultyImageOps::Fault>& info) {
                           switch (info.param) {
                             case FaultyImageOps::Fault::kSync:
                               return std::string("FsyncFails");
                             case FaultyImageOps::Fault::kRename:
                               return std::string("RenameFails");
                             case FaultyImageOps::Fault::kNoSpace:
                               return std::string("ShortWriteNoSpace");
                             case FaultyImageOps::Fault::kNone:
                               break;
                           }
                           return std::string("None");
                         });

}  // namespace
}  // namespace qj::nn
