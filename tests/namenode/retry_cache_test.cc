// The retry cache (namenode/retry_cache.h) and the HA client's retries of mutations
// (namenode/client/failover_proxy.h): a non-idempotent call cut at each step — before its edit is
// journaled, after it is committed but before the answer, by a failover, by a restart — is
// applied exactly once and its retry gets the original answer. Real journalnodes and
// namenodes on 127.0.0.1 (tests/support/nn_cluster.h); the cuts come from the namenode's
// test-only stall flags (a client timeout ends the first attempt) and from SIGKILL.
#include "namenode/retry_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/nn_cluster.h"
#include "tests/support/status_macros.h"

namespace qj::testing {

using nn::FailoverProxy;
using nn::FailoverProxyOptions;
using nn::FailoverProxyOptionsFromConfig;
using nn::RetryCache;
using nn::RetryCacheOptions;
using nn::RetryIds;
using nn::RetryOutcome;

namespace {

namespace th = qjournal::thrift;
using Client = FailoverProxy::Client;

th::RpcIds Ids(const std::string& client, int64_t call) {
  th::RpcIds ids;
  ids.clientId = client;
  ids.callId = call;
  return ids;
}

// A proxy whose attempts time out after rpc_timeout_ms (so that a stalled namenode cuts
// them) and which keeps retrying for budget_ms.
std::unique_ptr<FailoverProxy> ShortTimeoutProxy(const NnCluster& c, int64_t rpc_timeout_ms,
                                                 int64_t budget_ms = 30000) {
  FailoverProxyOptions o = FailoverProxyOptionsFromConfig(c.conf());
  o.name = "retry-test";
  o.rpc_timeout_ms = rpc_timeout_ms;
  o.total_budget_ms = budget_ms;
  return std::make_unique<FailoverProxy>(o);
}

// Flags of the namenodes in these tests: 2.5 s stalls on paths with these markers.
constexpr char kBefore[] = "_cutbefore_";
constexpr char kAfter[] = "_cutafter_";
constexpr int kStallMs = 2500;

NnClusterOptions StallingCluster() {
  NnClusterOptions o;
  o.nn_flags = {std::string("--namenode_test_stall_before_marker=") + kBefore,
                std::string("--namenode_test_stall_after_marker=") + kAfter,
                "--namenode_test_stall_ms=" + std::to_string(kStallMs)};
  return o;
}

TEST(RetryCacheTest, Unit_BoundedByAgeAndCount) {
  RetryCache cache(RetryCacheOptions{/*expiry_ms=*/1000, /*max_entries=*/3});
  auto ids = [](int64_t call) {
    RetryIds r;
    r.client_id = std::string(16, 'a');
    r.call_id = call;
    return r;
  };
  for (int64_t i = 1; i <= 3; ++i) cache.Insert(ids(i), RetryOutcome{i * 10, {}, {}}, 0);
  ASSERT_NE(cache.Find(ids(1), 0), nullptr);
  EXPECT_EQ(cache.Find(ids(2), 0)->txid, 20);
  // Another client's call 1 is another call.
  RetryIds other = ids(1);
  other.client_id = std::string(16, 'b');
  EXPECT_EQ(cache.Find(other, 0), nullptr);
  EXPECT_EQ(cache.Find(RetryIds(), 0), nullptr);
  // A fourth entry evicts the oldest.
  cache.Insert(ids(4), RetryOutcome{40, {}, {}}, 500);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.Find(ids(1), 500), nullptr);
  EXPECT_NE(cache.Find(ids(4), 500), nullptr);
  // Entries expire expiry_ms after insertion.
  EXPECT_EQ(cache.Find(ids(2), 1000), nullptr);
  EXPECT_NE(cache.Find(ids(4), 1499), nullptr);
  cache.Insert(ids(5), RetryOutcome{50, {}, {}}, 1200);  // evicts 2 and 3 (expired)
  EXPECT_EQ(cache.size(), 2u);
  // Replacing an entry keeps one entry, with the new outcome and age.
  cache.Insert(ids(4), RetryOutcome{41, {}, {}}, 1300);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.Find(ids(4), 2200)->txid, 41);
  RetryCache off(RetryCacheOptions{1000, 0});
  off.Insert(ids(1), RetryOutcome{10, {}, {}}, 0);
  EXPECT_EQ(off.Find(ids(1), 0), nullptr);
}

// The same ids sent twice to the active: the second gets the first's answer and changes
// nothing; other ids run again; no ids keep today's semantics; bad ids are refused.
TEST(RetryCacheTest, SameNamenode_SecondSendGetsTheFirstAnswer) {
  NnCluster c;
  ASSERT_OK(c.Start());
  ASSERT_OK(c.TransitionToActive(0));
  auto p = c.NewProxy();
  bool ok = false;
  ASSERT_OK(p->Mkdirs(SuperUser(), "/t", 0755, false, &ok));
  const std::string me = "client-0000000AB";
  ASSERT_EQ(me.size(), 16u);
  auto twice = [&](const std::function<void(Client&)>& fn) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      Status st = p->Call("test", false, fn);
      if (!st.ok()) return st.Prepend("attempt " + std::to_string(attempt));
    }
    return Status::OK();
  };
  th::FileStatus f1, f2;
  int n = 0;
  ASSERT_OK(twice([&](Client& cl) {
    cl.create(n++ == 0 ? f1 : f2, SuperUser(), "/t/f", 0644, false, 3, 1 << 20, Ids(me, 1));
  }));
  EXPECT_EQ(f1.fileId, f2.fileId);
  EXPECT_EQ(f1.path, f2.path);
  EXPECT_EQ(f1.modificationTime, f2.modificationTime);
  th::Block b1, b2;
  n = 0;
  ASSERT_OK(twice(
      [&](Client& cl) { cl.addBlock(n++ == 0 ? b1 : b2, SuperUser(), "/t/f", -1, Ids(me, 2)); }));
  EXPECT_EQ(b1.blockId, b2.blockId);
  th::FileStatus now;
  ASSERT_OK(p->GetFileInfo(SuperUser(), "/t/f", &now));
  ASSERT_TRUE(now.__isset.blocks);
  EXPECT_EQ(now.blocks.size(), 1u) << "addBlock applied twice";
  std::vector<bool> answers;
  ASSERT_OK(twice(
      [&](Client& cl) { answers.push_back(cl.complete(SuperUser(), "/t/f", 10, Ids(me, 3))); }));
  ASSERT_OK(twice(
      [&](Client& cl) { answers.push_back(cl.rename(SuperUser(), "/t/f", "/t/g", Ids(me, 4))); }));
  ASSERT_OK(twice([&](Client& cl) {
    answers.push_back(cl.mkdirs(SuperUser(), "/t/d", 0755, false, Ids(me, 5)));
  }));
  ASSERT_OK(twice([&](Client& cl) {
    answers.push_back(cl.deletePath(SuperUser(), "/t/g", false, Ids(me, 6)));
  }));
  EXPECT_EQ(answers, std::vector<bool>(8, true));
  // New ids are a new call: the rename runs again and fails, as it should.
  Status st = p->Call("test", false,
                      [&](Client& cl) { cl.rename(SuperUser(), "/t/f", "/t/h", Ids(me, 7)); });
  EXPECT_EQ(st.code(), StatusCode::kNotFound) << st;
  // Without ids nothing is cached: a second delete answers false.
  bool del = true;
  ASSERT_OK(p->Call("test", false, [&](Client& cl) {
    del = cl.deletePath(SuperUser(), "/t/d", false, th::RpcIds());
  }));
  EXPECT_TRUE(del);
  ASSERT_OK(p->Call("test", false, [&](Client& cl) {
    del = cl.deletePath(SuperUser(), "/t/d", false, th::RpcIds());
  }));
  EXPECT_FALSE(del);
  // A client id that is not 16 bytes is refused before anything runs.
  st = p->Call("test", false,
               [&](Client& cl) { cl.mkdirs(SuperUser(), "/t/x", 0755, false, Ids("short", 1)); });
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st;
  st = p->Call("test", false,
               [&](Client& cl) { cl.mkdirs(SuperUser(), "/t/x", 0755, false, Ids(me, -1)); });
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st;
  th::FileStatus x;
  EXPECT_EQ(p->GetFileInfo(SuperUser(), "/t/x", &x).code(), StatusCode::kNotFound);
}

// Cut after commit, before the answer: the client's timeout ends the first attempt after
// its edit is durable; the HA client retries with the same ids and gets the first answer.
TEST(RetryCacheTest, CutAfterCommit_RetryGetsTheOriginalAnswer) {
  NnCluster c(StallingCluster());
  ASSERT_OK(c.Start());
  ASSERT_OK(c.TransitionToActive(0));
  auto setup = c.NewProxy();
  bool ok = false;
  ASSERT_OK(setup->Mkdirs(SuperUser(), "/t", 0755, false, &ok));
  th::FileStatus f;
  ASSERT_OK(setup->Create(SuperUser(), "/t/src", 0644, false, 3, 1 << 20, &f));
  ASSERT_OK(setup->Create(SuperUser(), "/t/gone", 0644, false, 3, 1 << 20, &f));
  auto p = ShortTimeoutProxy(c, 800);
  // create without overwrite: run twice it would fail with FILE_ALREADY_EXISTS.
  th::FileStatus created;
  ASSERT_OK(
      p->Create(SuperUser(), std::string("/t/new") + kAfter, 0644, false, 3, 1 << 20, &created));
  th::FileStatus seen;
  ASSERT_OK(setup->GetFileInfo(SuperUser(), std::string("/t/new") + kAfter, &seen));
  EXPECT_EQ(created.fileId, seen.fileId);
  // rename: run twice it would fail with FILE_NOT_FOUND.
  bool renamed = false;
  ASSERT_OK(
      p->Rename(SuperUser(), std::string("/t/src"), std::string("/t/dst") + kAfter, &renamed));
  EXPECT_TRUE(renamed);
  // rename's stall marker is on the source path.
  ASSERT_OK(
      setup->Create(SuperUser(), std::string("/t/src2") + kAfter, 0644, false, 3, 1 << 20, &f));
  ASSERT_OK(p->Rename(SuperUser(), std::string("/t/src2") + kAfter, "/t/dst2", &renamed));
  EXPECT_TRUE(renamed);
  // delete: run twice it would answer false.
  ASSERT_OK(
      setup->Create(SuperUser(), std::string("/t/del") + kAfter, 0644, false, 3, 1 << 20, &f));
  bool deleted = false;
  ASSERT_OK(p->Delete(SuperUser(), std::string("/t/del") + kAfter, false, &deleted));
  EXPECT_TRUE(deleted);
  // mkdirs (we cache it too, though a second mkdirs of a directory answers the same).
  ASSERT_OK(p->Mkdirs(SuperUser(), std::string("/t/dir") + kAfter, 0755, false, &ok));
  EXPECT_TRUE(ok);
  std::vector<th::FileStatus> all;
  ASSERT_OK(setup->ListAll(SuperUser(), "/t", &all));
  std::vector<std::string> names;
  for (const auto& e : all) names.push_back(e.path);
  EXPECT_EQ(names, (std::vector<std::string>{std::string("/t/dir") + kAfter, "/t/dst2",
                                             std::string("/t/dst") + kAfter, "/t/gone",
                                             std::string("/t/new") + kAfter}));
  EXPECT_EQ(p->active_id(), "nn1");
}

// Cut before the journal write: the first attempt stalls before it runs and the client's
// retry (not stalled) runs; when the first attempt wakes it finds the retry's outcome under
// its ids and applies nothing.
TEST(RetryCacheTest, CutBeforeJournal_StalledFirstAttemptAppliesNothing) {
  NnCluster c(StallingCluster());
  ASSERT_OK(c.Start());
  ASSERT_OK(c.TransitionToActive(0));
  auto setup = c.NewProxy();
  bool ok = false;
  ASSERT_OK(setup->Mkdirs(SuperUser(), "/t", 0755, false, &ok));
  auto p = ShortTimeoutProxy(c, 800);
  // create with overwrite: run twice, the second would replace the file (a new file id).
  const std::string path = std::string("/t/f") + kBefore;
  th::FileStatus created;
  ASSERT_OK(p->Create(SuperUser(), path, 0644, true, 3, 1 << 20, &created));
  auto status = c.GetStatus(0);
  ASSERT_TRUE(status.ok());
  const int64_t txid_after_retry = status->lastAppliedTxId;
  // Let the stalled first attempt wake up and finish.
  std::this_thread::sleep_for(std::chrono::milliseconds(kStallMs + 1000));
  // (Before any read: in manual mode a read may append a barrier NOOP.)
  status = c.GetStatus(0);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->lastAppliedTxId, txid_after_retry) << "the stalled attempt made an edit";
  th::FileStatus seen;
  ASSERT_OK(setup->GetFileInfo(SuperUser(), path, &seen));
  EXPECT_EQ(seen.fileId, created.fileId) << "the create was applied twice";
}

// Cut by a failover: the first attempt's edit commits on nn1, which is killed before it
// answers; nn2 (which tailed the edit and its ids) becomes active and answers the retry
// with the original answer.
TEST(RetryCacheTest, CutByFailover_NewActiveAnswersTheRetry) {
  NnCluster c(StallingCluster());
  ASSERT_OK(c.Start());
  ASSERT_OK(c.TransitionToActive(0));
  auto setup = c.NewProxy();
  bool ok = false;
  ASSERT_OK(setup->Mkdirs(SuperUser(), "/t", 0755, false, &ok));
  th::FileStatus f;
  const std::string src = std::string("/t/src") + kAfter;
  ASSERT_OK(setup->Create(SuperUser(), src, 0644, false, 3, 1 << 20, &f));
  auto before = c.GetStatus(0);
  ASSERT_TRUE(before.ok());
  // Two mutations in flight, each stalled after its commit on nn1.
  Status rename_st, create_st;
  bool renamed = false;
  th::FileStatus created;
  std::thread renamer([&] {
    auto p = ShortTimeoutProxy(c, 20000, 60000);
    rename_st = p->Rename(SuperUser(), src, "/t/dst", &renamed);
  });
  std::thread creator([&] {
    auto p = ShortTimeoutProxy(c, 20000, 60000);
    create_st =
        p->Create(SuperUser(), std::string("/t/new") + kAfter, 0644, false, 3, 1 << 20, &created);
  });
  // Both edits committed and tailed by nn2, then nn1 dies before it answers.
  ASSERT_TRUE(c.WaitForAppliedTxId(1, before->lastAppliedTxId + 2, 20000));
  c.namenode(0).Kill();
  ASSERT_OK(c.TransitionToActive(1));
  renamer.join();
  creator.join();
  EXPECT_OK(rename_st);
  EXPECT_TRUE(renamed);
  ASSERT_OK(create_st);
  th::FileStatus seen;
  ASSERT_OK(setup->GetFileInfo(SuperUser(), std::string("/t/new") + kAfter, &seen));
  EXPECT_EQ(seen.fileId, created.fileId);
  EXPECT_OK(setup->GetFileInfo(SuperUser(), "/t/dst", &seen));
  EXPECT_EQ(setup->active_id(), "nn2");
}

// A restart: the namenodes replay the journal from their image and rebuild the cache, so a
// retry sent after both restarted still gets the first answer.
TEST(RetryCacheTest, RestartReplay_RebuildsTheCache) {
  NnCluster c;
  ASSERT_OK(c.Start());
  ASSERT_OK(c.TransitionToActive(0));
  auto p = c.NewProxy();
  bool ok = false;
  ASSERT_OK(p->Mkdirs(SuperUser(), "/t", 0755, false, &ok));
  th::FileStatus f;
  ASSERT_OK(p->Create(SuperUser(), "/t/a", 0644, false, 3, 1 << 20, &f));
  const std::string me = "restart-client-1";
  bool renamed = false;
  auto rename = [&](Client& cl) { renamed = cl.rename(SuperUser(), "/t/a", "/t/b", Ids(me, 42)); };
  th::FileStatus created, created_again;
  auto create = [&](th::FileStatus* out) {
    return [&, out](Client& cl) {
      cl.create(*out, SuperUser(), "/t/c", 0644, false, 3, 1 << 20, Ids(me, 43));
    };
  };
  ASSERT_OK(p->Call("rename", false, rename));
  ASSERT_OK(p->Call("create", false, create(&created)));
  c.namenode(0).Kill();
  c.namenode(1).Kill();
  ASSERT_OK(c.RestartNamenode(0));
  ASSERT_OK(c.RestartNamenode(1));
  // nn2 rebuilt its cache by tailing, nn1 while catching up to become active.
  ASSERT_OK(c.TransitionToActive(1));
  renamed = false;
  auto p2 = c.NewProxy();
  ASSERT_OK(p2->Call("rename", false, rename));
  EXPECT_TRUE(renamed);
  ASSERT_OK(p2->Call("create", false, create(&created_again)));
  EXPECT_EQ(created_again.fileId, created.fileId);
  ASSERT_OK(c.TransitionToStandby(1));
  ASSERT_OK(c.TransitionToActive(0));
  renamed = false;
  ASSERT_OK(p2->Call("rename", false, rename));
  EXPECT_TRUE(renamed);
  EXPECT_EQ(p2->active_id(), "nn1");
}

}  // namespace
}  // namespace qj::testing
