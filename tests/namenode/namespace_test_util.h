// Test helpers for FsNamespace: run Prepare+Apply, keep the applied edits, and check that
// replaying them (through the encoding) onto a fresh namespace gives the same state.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "namenode/edit_ops.h"
#include "namenode/namespace.h"

namespace qj::testing_util {

using nn::Caller;
using nn::DecodeEdit;
using nn::DescribeEdit;
using nn::Edit;
using nn::EditsEqual;
using nn::EncodedEdit;
using nn::EncodeEdit;
using nn::FileInfo;
using nn::FsNamespace;
using nn::FsResult;
using nn::FsStatus;
using nn::NamespaceEquals;
using nn::NamespaceOptions;

inline Caller Superuser() { return Caller{"hdfs", {"hdfs"}}; }
inline Caller Alice() { return Caller{"alice", {"alice", "staff"}}; }
inline Caller Bob() { return Caller{"bob", {"bob", "staff"}}; }
inline Caller Carol() { return Caller{"carol", {"carol"}}; }

class NsHarness {
 public:
  explicit NsHarness(NamespaceOptions options = NamespaceOptions())
      : options_(options), ns_(std::make_unique<FsNamespace>(options)) {}

  FsNamespace& ns() { return *ns_; }
  const std::vector<Edit>& log() const { return log_; }
  int64_t Now() { return now_ += 7; }

  // Applies the prepared edit (if any) and records it. Returns the Prepare status.
  FsStatus Run(FsResult<std::optional<Edit>> prepared) {
    if (!prepared.ok()) return prepared.status();
    if (prepared->has_value()) {
      const Edit& e = **prepared;
      Status s = ns_->Apply(e, static_cast<int64_t>(log_.size()) + 1);
      EXPECT_TRUE(s.ok()) << "Apply of a prepared edit failed: " << s;
      log_.push_back(e);
    }
    return FsStatus::OK();
  }

  FsStatus Mkdirs(const Caller& c, const std::string& p, uint16_t perm = 0755,
                  bool parents = true) {
    return Run(ns_->PrepareMkdirs(c, p, perm, parents, Now()));
  }
  FsStatus Create(const Caller& c, const std::string& p, uint16_t perm = 0644,
                  bool overwrite = false, int16_t repl = 3, int64_t bsize = 1 << 20) {
    return Run(ns_->PrepareCreate(c, p, perm, overwrite, repl, bsize, Now()));
  }
  FsStatus AddBlock(const Caller& c, const std::string& p, int64_t prev) {
    return Run(ns_->PrepareAddBlock(c, p, prev));
  }
  FsStatus Complete(const Caller& c, const std::string& p, int64_t last) {
    return Run(ns_->PrepareComplete(c, p, last, Now()));
  }
  FsStatus Delete(const Caller& c, const std::string& p, bool recursive) {
    return Run(ns_->PrepareDelete(c, p, recursive, Now()));
  }
  FsStatus Rename(const Caller& c, const std::string& s, const std::string& d) {
    return Run(ns_->PrepareRename(c, s, d, Now()));
  }
  FsStatus Chmod(const Caller& c, const std::string& p, uint16_t perm) {
    return Run(ns_->PrepareSetPermission(c, p, perm));
  }
  FsStatus Chown(const Caller& c, const std::string& p, const std::string& o,
                 const std::string& g) {
    return Run(ns_->PrepareSetOwner(c, p, o, g));
  }
  FsStatus SetTimes(const Caller& c, const std::string& p, int64_t m, int64_t a) {
    return Run(ns_->PrepareSetTimes(c, p, m, a));
  }
  FsStatus SetRepl(const Caller& c, const std::string& p, int16_t r) {
    return Run(ns_->PrepareSetReplication(c, p, r));
  }
  FileInfo Stat(const std::string& p) {
    auto r = ns_->StatPath(p);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : FileInfo();
  }
  bool Exists(const std::string& p) { return ns_->StatPath(p).ok(); }

  // Replays the log, encoded and decoded, onto a fresh namespace; expects equality.
  void ExpectReplayEquals() {
    FsNamespace fresh(options_);
    int64_t txid = 0;
    for (const Edit& e : log_) {
      EncodedEdit enc = EncodeEdit(e);
      Result<Edit> dec = DecodeEdit(enc.op, enc.payload);
      ASSERT_TRUE(dec.ok()) << dec.status();
      ASSERT_TRUE(EditsEqual(e, *dec)) << DescribeEdit(e);
      Status s = fresh.Apply(*dec, ++txid);
      ASSERT_TRUE(s.ok()) << s;
    }
    std::string why;
    EXPECT_TRUE(NamespaceEquals(*ns_, fresh, &why)) << why;
    EXPECT_EQ(ns_->Digest(), fresh.Digest());
  }

 private:
  NamespaceOptions options_;
  std::unique_ptr<FsNamespace> ns_;
  std::vector<Edit> log_;
  int64_t now_ = 1'700'000'000'000;
};

// Runs `ops` random operations (every kind, four users, colliding paths so that errors of
// every kind happen too) against h. Returns how many succeeded.
inline int RandomWorkload(NsHarness* h, uint64_t seed, int ops) {
  std::mt19937_64 rng(seed);
  auto pick = [&rng](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  const Caller users[] = {Superuser(), Alice(), Bob(), Carol()};
  const char* names[] = {"a", "b", "c", "dd", "e"};
  auto path = [&]() {
    std::string p;
    const int depth = 1 + pick(4);
    for (int i = 0; i < depth; ++i) p += std::string("/") + names[pick(5)];
    return p;
  };
  const uint16_t perms[] = {0755, 0700, 0777, 01777, 0644, 0600, 0711, 0570};
  // A world-writable root lets every user work (and hit the other checks below it).
  EXPECT_TRUE(h->Chmod(Superuser(), "/", 0777).ok());
  int ok = 0;
  for (int i = 0; i < ops; ++i) {
    const Caller& u = users[pick(4)];
    FsStatus s;
    switch (pick(12)) {
      case 0:
      case 1:
        s = h->Mkdirs(u, path(), perms[pick(8)], pick(4) != 0);
        break;
      case 2:
      case 3:
        s = h->Create(u, path(), perms[pick(8)], pick(3) == 0, 1 + pick(3), 1024);
        break;
      case 4:
        s = h->AddBlock(u, path(), pick(3) == 0 ? -1 : pick(1025));
        break;
      case 5:
        s = h->Complete(u, path(), pick(2) ? 0 : pick(1025));
        break;
      case 6:
        s = h->Delete(u, path(), pick(2) == 0);
        break;
      case 7:
        s = h->Rename(u, path(), path());
        break;
      case 8:
        s = h->Chmod(u, path(), perms[pick(8)]);
        break;
      case 9:
        s = h->Chown(u, path(), pick(2) ? "alice" : "", pick(2) ? "staff" : "bob");
        break;
      case 10:
        s = h->SetTimes(u, path(), pick(2) ? -1 : pick(100000), pick(100000));
        break;
      case 11:
        s = h->SetRepl(u, path(), 1 + pick(5));
        break;
    }
    if (s.ok()) ++ok;
  }
  return ok;
}

}  // namespace qj::testing_util

#define EXPECT_FS_OK(expr)                 \
  do {                                     \
    ::qj::nn::FsStatus _s = (expr);        \
    EXPECT_TRUE(_s.ok()) << _s.ToString(); \
  } while (0)
#define ASSERT_FS_OK(expr)                 \
  do {                                     \
    ::qj::nn::FsStatus _s = (expr);        \
    ASSERT_TRUE(_s.ok()) << _s.ToString(); \
  } while (0)
#define EXPECT_FS_ERR(expr, err)                                        \
  do {                                                                  \
    ::qj::nn::FsStatus _s = (expr);                                     \
    EXPECT_FALSE(_s.ok()) << "expected " << ::qj::nn::FsErrorName(err); \
    if (!_s.ok()) {                                                     \
      EXPECT_EQ(_s.code(), err) << _s.ToString();                       \
    }                                                                   \
  } while (0)
