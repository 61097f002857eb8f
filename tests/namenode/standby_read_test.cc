// Consistent reads from the standby (HDFS-12943's observer reads): the HA client sends
// reads to the standby with the highest txid it has seen, the standby answers once it has
// applied it, and msync gets the active's txid. Read-your-writes and monotonic reads must
// hold for every client across failovers. Real journalnodes and namenodes on 127.0.0.1
// (tests/support/nn_cluster.h), manual failovers driven by the test.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/nn_cluster.h"
#include "tests/support/status_macros.h"

namespace qj::testing {

using nn::FailoverProxy;
using nn::FailoverProxyOptions;
using nn::FailoverProxyOptionsFromConfig;

namespace {

namespace th = qjournal::thrift;
using Client = FailoverProxy::Client;

std::unique_ptr<FailoverProxy> ReadingProxy(const NnCluster& c, const std::string& name) {
  FailoverProxyOptions o = FailoverProxyOptionsFromConfig(c.conf());
  o.name = name;
  o.standby_reads = true;
  o.rpc_timeout_ms = 10000;
  o.total_budget_ms = 60000;
  return std::make_unique<FailoverProxy>(o);
}

TEST(StandbyReadTest, StandbyAnswersAtOrAfterTheClientsTxid) {
  NnCluster c;
  ASSERT_OK(c.Start());
  ASSERT_OK(c.TransitionToActive(0));
  auto a = ReadingProxy(c, "a");
  bool ok = false;
  ASSERT_OK(a->Mkdirs(SuperUser(), "/x", 0755, false, &ok));
  th::FileStatus f;
  // After a write the next read goes to the active (the write's txid is not known)...
  ASSERT_OK(a->GetFileInfo(SuperUser(), "/x", &f));
  EXPECT_EQ(a->last_read_from(), "nn1");
  const int64_t seen = a->last_seen_txid();
  EXPECT_GT(seen, 0);
  EXPECT_EQ(f.servedTxId, seen);
  // ... and later reads to the standby, which answers at or after that txid.
  ASSERT_OK(a->GetFileInfo(SuperUser(), "/x", &f));
  EXPECT_EQ(a->last_read_from(), "nn2");
  EXPECT_GE(f.servedTxId, seen);
  std::vector<th::FileStatus> entries;
  ASSERT_OK(a->ListAll(SuperUser(), "/", &entries));
  EXPECT_EQ(a->last_read_from(), "nn2");
  th::ContentSummary cs;
  ASSERT_OK(a->GetContentSummary(SuperUser(), "/", &cs));
  EXPECT_EQ(a->last_read_from(), "nn2");
  // A missing path is a definite answer from the standby too.
  EXPECT_EQ(a->GetFileInfo(SuperUser(), "/nope", &f).code(), StatusCode::kNotFound);
  EXPECT_EQ(a->last_read_from(), "nn2");

  // Another client's write is seen after an msync.
  auto b = c.NewProxy();
  ASSERT_OK(b->Mkdirs(SuperUser(), "/from-b", 0755, false, &ok));
  ASSERT_OK(a->Msync());
  ASSERT_OK(a->GetFileInfo(SuperUser(), "/from-b", &f));
  EXPECT_EQ(a->last_read_from(), "nn2");

  // The protocol, on the standby directly: no minTxId (an old client) is refused as
  // before; a txid it has not reached is refused after the bounded wait; msync is for the
  // active only.
  auto direct = c.NewDirectClient(1);
  Status st = direct->Call("getFileInfo", true,
                           [&](Client& cl) { cl.getFileInfo(f, SuperUser(), "/x", 0); });
  EXPECT_EQ(st.code(), StatusCode::kNotActive) << st;
  const auto t0 = std::chrono::steady_clock::now();
  st = direct->Call("getFileInfo", true,
                    [&](Client& cl) { cl.getFileInfo(f, SuperUser(), "/x", seen + 1000000); });
  EXPECT_EQ(st.code(), StatusCode::kNotActive) << st;
  EXPECT_NE(st.message().find("behind"), std::string::npos) << st;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  int64_t txid = 0;
  st = direct->Call("msync", true, [&](Client& cl) { txid = cl.msync(); });
  EXPECT_EQ(st.code(), StatusCode::kNotActive) << st;
  auto active = c.NewDirectClient(0);
  ASSERT_OK(active->Call("msync", true, [&](Client& cl) { txid = cl.msync(); }));
  EXPECT_GE(txid, seen);

  // With the switch off, reads go to the active only.
  FailoverProxyOptions o = FailoverProxyOptionsFromConfig(c.conf());
  FailoverProxy plain(o);
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK(plain.GetFileInfo(SuperUser(), "/x", &f));
    EXPECT_EQ(plain.last_read_from(), "nn1");
  }
}

// Writers create files (each create once: a second would fail with FILE_ALREADY_EXISTS)
// and read them back at once (read-your-writes); readers count the entries of a directory
// that only grows (monotonic reads: the count must never fall for one client). All through
// proxies with standby reads on, while the test fails over back and forth: kill the
// active, promote the standby, restart the killed one as standby, hand back.
TEST(StandbyReadTest, MixedWorkloadWhileFailingOver_ReadYourWritesAndMonotonicReads) {
  NnCluster c;
  ASSERT_OK(c.Start());
  ASSERT_OK(c.TransitionToActive(0));
  {
    auto setup = c.NewProxy();
    bool ok = false;
    ASSERT_OK(setup->Mkdirs(SuperUser(), "/grow", 0755, false, &ok));
    ASSERT_OK(setup->Mkdirs(SuperUser(), "/own", 0755, false, &ok));
  }
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<std::string> errors;
  std::atomic<int64_t> writes{0}, reads{0}, standby_reads{0};
  auto fail = [&](const std::string& e) {
    std::lock_guard<std::mutex> l(mu);
    if (errors.size() < 20) errors.push_back(e);
  };
  std::vector<std::thread> threads;
  // The grower: adds /grow/<n>, n = 0, 1, 2, ...
  threads.emplace_back([&] {
    auto p = ReadingProxy(c, "grower");
    for (int n = 0; !stop.load(); ++n) {
      th::FileStatus f;
      Status st = p->Create(SuperUser(), "/grow/" + std::to_string(n), 0644, false, 1, 1 << 20, &f);
      if (!st.ok()) return fail("grower create " + std::to_string(n) + ": " + st.ToString());
      ++writes;
    }
  });
  for (int t = 0; t < 3; ++t) {
    // Writers: create, then read back at once.
    threads.emplace_back([&, t] {
      auto p = ReadingProxy(c, "writer" + std::to_string(t));
      const std::string dir = "/own/w" + std::to_string(t);
      bool ok = false;
      Status st = p->Mkdirs(SuperUser(), dir, 0755, false, &ok);
      if (!st.ok()) return fail("mkdirs " + dir + ": " + st.ToString());
      for (int n = 0; !stop.load(); ++n) {
        const std::string path = dir + "/" + std::to_string(n);
        th::FileStatus f, g;
        st = p->Create(SuperUser(), path, 0644, false, 1, 1 << 20, &f);
        if (!st.ok()) return fail("create " + path + ": " + st.ToString());
        ++writes;
        st = p->GetFileInfo(SuperUser(), path, &g);
        if (!st.ok()) return fail("read-your-write " + path + ": " + st.ToString());
        if (g.fileId != f.fileId) return fail(path + ": another file id read back");
        ++reads;
        // A few more reads, which may go to the standby.
        for (int k = 0; k < 3; ++k) {
          st = p->GetFileInfo(SuperUser(), path, &g);
          if (!st.ok()) return fail("read " + path + ": " + st.ToString());
          ++reads;
          if (p->last_read_from() != p->active_id()) ++standby_reads;
        }
      }
    });
    // Readers: the size of /grow must never fall.
    threads.emplace_back([&, t] {
      auto p = ReadingProxy(c, "reader" + std::to_string(t));
      int64_t last = -1;
      while (!stop.load()) {
        th::ContentSummary cs;
        Status st = p->GetContentSummary(SuperUser(), "/grow", &cs);
        if (!st.ok()) return fail("reader: " + st.ToString());
        ++reads;
        if (p->last_read_from() != p->active_id()) ++standby_reads;
        if (cs.fileCount < last) {
          return fail("monotonic reads broken: /grow had " + std::to_string(last) +
                      " files, then " + std::to_string(cs.fileCount) + " (from " +
                      p->last_read_from() + ")");
        }
        last = cs.fileCount;
        if (t == 0 && last % 7 == 0) {
          // Sometimes msync: then the standby must catch up to the active's txid.
          st = p->Msync();
          if (!st.ok()) return fail("msync: " + st.ToString());
        }
      }
    });
  }
  auto progress = [&](int64_t more) {
    const int64_t target = writes.load() + more;
    return WaitFor([&] { return writes.load() >= target || !errors.empty(); }, 60000);
  };
  ASSERT_TRUE(progress(100));
  // Failover 1: nn1 dies, nn2 takes over.
  c.namenode(0).Kill();
  ASSERT_OK(c.TransitionToActive(1));
  ASSERT_TRUE(progress(100));
  // nn1 comes back as a standby and serves reads once it has caught up.
  ASSERT_OK(c.RestartNamenode(0));
  ASSERT_TRUE(progress(100));
  // Failover 2: handed back gracefully.
  ASSERT_OK(c.TransitionToStandby(1));
  ASSERT_OK(c.TransitionToActive(0));
  ASSERT_TRUE(progress(100));
  stop = true;
  for (auto& t : threads) t.join();
  for (const auto& e : errors) ADD_FAILURE() << e;
  EXPECT_TRUE(errors.empty());
  EXPECT_GT(standby_reads.load(), 0);
  std::printf("standby_read_test: %lld writes, %lld reads, %lld served by a standby\n",
              static_cast<long long>(writes.load()), static_cast<long long>(reads.load()),
              static_cast<long long>(standby_reads.load()));
}

}  // namespace
}  // namespace qj::testing
