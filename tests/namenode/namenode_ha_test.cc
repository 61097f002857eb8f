// Integration tests of the namenode with real processes on 127.0.0.1: 3 journalnodes and
// 2 namenodes in manual HA mode (tests/support/nn_cluster.h).
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "namenode/image.h"
#include "tests/support/nn_cluster.h"
#include "tests/support/status_macros.h"

namespace qj::testing {

using nn::FailoverProxy;
using nn::FailoverProxyOptions;
using nn::FailoverProxyOptionsFromConfig;
using nn::FindImages;

namespace {

namespace th = qjournal::thrift;

std::vector<std::string> FindImagesForTest(const std::string& dir) {
  std::vector<std::string> out;
  auto images = FindImages(dir);
  if (images.ok()) {
    for (const auto& i : *images) out.push_back(i.path);
  }
  return out;
}

void FlipByteInMiddle(const std::string& path) {
  FILE* f = fopen(path.c_str(), "r+b");
  ASSERT_NE(f, nullptr) << path;
  fseek(f, 0, SEEK_END);
  long mid = ftell(f) / 2;
  fseek(f, mid, SEEK_SET);
  int c = fgetc(f);
  fseek(f, mid, SEEK_SET);
  fputc(c ^ 0x5a, f);
  fclose(f);
}

// True if some journal under an edits dir still holds the segment that starts at txid 1.
bool HasFirstSegment(const std::string& edits_dir) {
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(edits_dir, ec);
       it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (it->path().filename().string().rfind("edits_0000000000000000001", 0) == 0) return true;
  }
  return false;
}

int64_t MonoNowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Runs `threads` writers, each creating dirs /<prefix>/t<i>/d<j> through its own HA
// client, until `stop` is set or `per_thread` are done. Records every acknowledged path.
class Workload {
 public:
  Workload(const NnCluster& c, std::string prefix, int threads, int per_thread)
      : prefix_(std::move(prefix)) {
    for (int t = 0; t < threads; ++t) {
      threads_.emplace_back([this, &c, t, per_thread] {
        auto proxy = c.NewProxy(30000);
        bool created = false;
        std::string dir = "/" + prefix_ + "/t" + std::to_string(t);
        if (!proxy->Mkdirs(SuperUser(), dir, 0755, true, &created).ok()) return;
        for (int j = 0; j < per_thread && !stop_.load(); ++j) {
          std::string p = dir + "/d" + std::to_string(j);
          Status st = proxy->Mkdirs(SuperUser(), p, 0755, false, &created);
          std::lock_guard<std::mutex> l(mu_);
          if (st.ok()) {
            acked_.insert(p);
          } else {
            ++failures_;
          }
        }
      });
    }
  }
  ~Workload() { Join(); }
  void Stop() { stop_ = true; }
  void Join() {
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  size_t acked_count() {
    std::lock_guard<std::mutex> l(mu_);
    return acked_.size();
  }
  std::set<std::string> acked() {
    std::lock_guard<std::mutex> l(mu_);
    return acked_;
  }
  int failures() {
    std::lock_guard<std::mutex> l(mu_);
    return failures_;
  }

 private:
  const std::string prefix_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::set<std::string> acked_;
  int failures_ = 0;
  std::vector<std::thread> threads_;
};

// Every acknowledged path exists, read through `client`.
void ExpectAllExist(FailoverProxy* client, const std::set<std::string>& paths) {
  int missing = 0;
  for (const auto& p : paths) {
    th::FileStatus f;
    Status st = client->GetFileInfo(SuperUser(), p, &f);
    if (!st.ok()) {
      if (++missing < 5) ADD_FAILURE() << "acknowledged " << p << " is lost: " << st;
    }
  }
  EXPECT_EQ(missing, 0) << "of " << paths.size() << " acknowledged mkdirs";
}

TEST(NamenodeHaTest, Shell_ActiveServesEveryCommand) {
  NnCluster c;
  ASSERT_OK(c.Start());
  ASSERT_OK(c.TransitionToActive(0));
  std::string out;
  const std::vector<std::string> su = {"--user=nnsuper", "--groups=supergroup"};
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), su.begin(), su.end());
    out.clear();
    return c.Qjfs(args, &out);
  };
  ASSERT_EQ(run({"-mkdir", "-p", "/user/alice/docs"}), 0) << out;
  ASSERT_EQ(run({"-touch", "/user/alice/a.txt"}), 0) << out;
  ASSERT_EQ(run({"-ls", "/user/alice"}), 0) << out;
  EXPECT_NE(out.find("Found 2 items"), std::string::npos) << out;
  EXPECT_NE(out.find("nnsuper"), std::string::npos) << out;
  EXPECT_NE(out.find("/user/alice/a.txt"), std::string::npos) << out;
  EXPECT_NE(out.find("drwxr-xr-x"), std::string::npos) << out;
  ASSERT_EQ(run({"-stat", "%n %F %u", "/user/alice/a.txt"}), 0) << out;
  EXPECT_EQ(out, "a.txt regular empty file nnsuper\n");
  ASSERT_EQ(run({"-chmod", "700", "/user/alice/docs"}), 0) << out;
  ASSERT_EQ(run({"-chown", "alice:staff", "/user/alice"}), 0) << out;
  ASSERT_EQ(run({"-ls", "-R", "/user"}), 0) << out;
  EXPECT_NE(out.find("drwx------"), std::string::npos) << out;
  EXPECT_NE(out.find("alice    staff"), std::string::npos) << out;
  ASSERT_EQ(run({"-mv", "/user/alice/a.txt", "/user/alice/docs"}), 0) << out;
  ASSERT_EQ(run({"-stat", "%n", "/user/alice/docs/a.txt"}), 0) << out;
  ASSERT_EQ(run({"-count", "/user"}), 0) << out;
  // 3 directories (user, alice, docs), 1 file, 0 bytes.
  EXPECT_NE(out.find("           3            1                  0 /user"), std::string::npos)
      << out;
  ASSERT_EQ(run({"-du", "/user/alice"}), 0) << out;
  EXPECT_NE(out.find("/user/alice/docs"), std::string::npos) << out;
  // Errors: exit 1 with an HDFS-like reason; usage errors exit 2.
  EXPECT_EQ(run({"-mkdir", "/user/alice"}), 1) << out;
  EXPECT_NE(out.find("File exists"), std::string::npos) << out;
  EXPECT_EQ(run({"-ls", "/nope"}), 1) << out;
  EXPECT_NE(out.find("No such file or directory"), std::string::npos) << out;
  EXPECT_EQ(run({"-rm", "/user/alice"}), 1) << out;
  EXPECT_NE(out.find("Is a directory"), std::string::npos) << out;
  EXPECT_EQ(run({"-bogus"}), 2) << out;
  EXPECT_EQ(run({"-chmod", "9z", "/user"}), 2) << out;
  // Permission checks use the caller's identity.
  out.clear();
  EXPECT_EQ(c.Qjfs({"--user=mallory", "-mkdir", "/user/alice/docs/x"}, &out), 1) << out;
  EXPECT_NE(out.find("Permission denied"), std::string::npos) << out;
  ASSERT_EQ(run({"-rm", "-r", "/user/alice"}), 0) << out;
  EXPECT_NE(out.find("Deleted /user/alice"), std::string::npos) << out;
  EXPECT_EQ(run({"-ls", "/user/alice"}), 1) << out;
  // The standby refuses; the shell fails over to whichever namenode is active.
  ASSERT_OK(c.TransitionToStandby(0));
  ASSERT_OK(c.TransitionToActive(1));
  ASSERT_EQ(run({"-ls", "/user"}), 0) << out;
  EXPECT_NE(out.find("Found 0 items"), std::string::npos) << out;
  // No active namenode: a clear message after the failover budget.
  ASSERT_OK(c.TransitionToStandby(1));
  out.clear();
  EXPECT_EQ(c.Qjfs({"--qjfs_failover_budget_ms=300", "-ls", "/"}, &out), 1) << out;
  EXPECT_NE(out.find("no namenode is active (nn1: "), std::string::npos) << out;
}

TEST(NamenodeHaTest, StandbyTailsBurst_ThenManualSwapLosesNothing) {
  NnCluster c;
  ASSERT_OK(c.Start());
  ASSERT_OK(c.TransitionToActive(0));
  // 2000 mkdirs from 16 threads.
  Workload w(c, "burst", 16, 125);
  w.Join();
  ASSERT_EQ(w.acked_count(), 2000u);
  ASSERT_EQ(w.failures(), 0);
  auto active = c.GetStatus(0);
  ASSERT_TRUE(active.ok()) << active.status();
  // The standby catches up with every committed edit while nn1 stays active.
  ASSERT_TRUE(c.WaitForAppliedTxId(1, active->lastAppliedTxId - 1, 30000));
  auto client = c.NewProxy();
  auto before = DumpTree(client.get());
  ASSERT_TRUE(before.ok()) << before.status();
  // Swap roles by hand; the new active serves the same namespace.
  ASSERT_OK(c.TransitionToStandby(0));
  ASSERT_OK(c.TransitionToActive(1));
  auto after = DumpTree(client.get());
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(client->active_id(), "nn2");
  EXPECT_EQ(*before, *after);
  ExpectAllExist(client.get(), w.acked());
  // And back: nn1 tails what nn2 wrote.
  bool created = false;
  ASSERT_OK(client->Mkdirs(SuperUser(), "/after-swap", 0755, false, &created));
  ASSERT_OK(c.TransitionToStandby(1));
  ASSERT_OK(c.TransitionToActive(0));
  th::FileStatus f;
  ASSERT_OK(client->GetFileInfo(SuperUser(), "/after-swap", &f));
  EXPECT_EQ(client->active_id(), "nn1");
}

// A standby that is behind when it is made active applies every committed edit it had not
// tailed before it serves (transitionToActive's catch-up, which reads nothing only when
// the tailer applied through the recovered log's end). Its tailer found nothing new at
// start-up and then waits out a 10-minute poll, so every edit of the workload is still to
// be caught up when the transition starts.
TEST(NamenodeHaTest, BehindStandby_CatchesUpBeforeServing) {
  NnClusterOptions o;
  o.nn_flags = {"--namenode_tail_poll_ms=600000"};
  NnCluster c(o);
  ASSERT_OK(c.Start());
  ASSERT_OK(c.TransitionToActive(0));
  // By now the standby's tailer has found nothing new (at most nn1's first record).
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  Workload w(c, "behind", 4, 100);
  w.Join();
  ASSERT_EQ(w.acked_count(), 400u);
  ASSERT_EQ(w.failures(), 0);
  auto client = c.NewProxy();
  auto before = DumpTree(client.get());
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_OK(c.TransitionToStandby(0));
  auto active = c.GetStatus(0);
  ASSERT_TRUE(active.ok()) << active.status();
  auto standby = c.GetStatus(1);
  ASSERT_TRUE(standby.ok()) << standby.status();
  // Behind by (most of) the workload's 404 mkdirs: the catch-up cannot be skipped.
  ASSERT_LT(standby->lastAppliedTxId + 300, active->lastAppliedTxId);
  ASSERT_OK(c.TransitionToActive(1));
  auto promoted = c.GetStatus(1);
  ASSERT_TRUE(promoted.ok()) << promoted.status();
  // The finalized log plus the new segment's first record.
  EXPECT_EQ(promoted->lastAppliedTxId, active->lastAppliedTxId + 1);
  auto after = DumpTree(client.get());
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(client->active_id(), "nn2");
  EXPECT_EQ(after->size(), before->size());
  EXPECT_TRUE(*before == *after) << "the namespace differs after the transition";
  ExpectAllExist(client.get(), w.acked());
  // And it writes on top of what it caught up with.
  bool created = false;
  ASSERT_OK(client->Mkdirs(SuperUser(), "/behind/after", 0755, false, &created));
  EXPECT_TRUE(created);
}

// True once `path` contains `text` (polled up to timeout_ms).
bool WaitForLogLine(const std::string& path, const std::string& text, int timeout_ms) {
  return WaitFor(
      [&] {
        std::ifstream in(path);
        std::stringstream all;
        all << in.rdbuf();
        return all.str().find(text) != std::string::npos;
      },
      timeout_ms);
}

// A client call that reaches a namenode while it is becoming active waits for the
// transition to end and is served, instead of NOT_ACTIVE (which sends an HA client into
// its backoff: the graceful failover's tail). The transition is held open by the test-only
// activation delay; the call is sent once the namenode is inside it.
TEST(NamenodeHaTest, CallDuringTransitionToActive_WaitsForItsEndAndIsServed) {
  NnClusterOptions o;
  o.nn_flags = {"--namenode_test_activation_delay_ms=800"};
  NnCluster c(o);
  ASSERT_OK(c.Start());
  Status transition;
  std::thread t([&] { transition = c.TransitionToActive(0); });
  ASSERT_TRUE(WaitForLogLine(c.log_path(0), "delaying the end of the transition", 20000));
  auto direct = c.NewDirectClient(0);
  bool created = false;
  // Sent inside the transition (the namenode is in its delay): without the hold it is
  // refused NOT_ACTIVE at once. (Whether the test sees the transition's own answer first
  // is a race between two replies, so it is not checked.)
  Status st = direct->Mkdirs(SuperUser(), "/during-transition", 0755, false, &created);
  t.join();
  ASSERT_OK(transition);
  EXPECT_TRUE(st.ok()) << st;
  EXPECT_TRUE(created);
  th::FileStatus f;
  EXPECT_OK(direct->GetFileInfo(SuperUser(), "/during-transition", &f));
}

// The wait is bounded: a transition longer than --namenode_activation_hold_ms answers the
// call NOT_ACTIVE (the client tries elsewhere) while the transition goes on.
TEST(NamenodeHaTest, CallDuringALongTransition_RefusedAfterTheHoldBound) {
  NnClusterOptions o;
  o.nn_flags = {"--namenode_test_activation_delay_ms=3000", "--namenode_activation_hold_ms=100"};
  NnCluster c(o);
  ASSERT_OK(c.Start());
  std::atomic<bool> transitioned{false};
  Status transition;
  std::thread t([&] {
    transition = c.TransitionToActive(0);
    transitioned = true;
  });
  ASSERT_TRUE(WaitForLogLine(c.log_path(0), "delaying the end of the transition", 20000));
  auto direct = c.NewDirectClient(0);
  bool created = false;
  Status st = direct->Mkdirs(SuperUser(), "/during-long-transition", 0755, false, &created);
  const bool ended_first = transitioned.load();
  t.join();
  ASSERT_OK(transition);
  EXPECT_FALSE(ended_first) << "the call waited for the whole transition";
  EXPECT_EQ(st.code(), StatusCode::kNotActive) << st;
}

TEST(NamenodeHaTest, KillActive_StandbyTakesOver_NoAcknowledgedOpLost) {
  NnCluster c;
  ASSERT_OK(c.Start());
  ASSERT_OK(c.TransitionToActive(0));
  Workload w(c, "kill", 8, 1000000);
  ASSERT_TRUE(WaitFor([&] { return w.acked_count() >= 300; }, 60000));
  c.namenode(0).Kill();
  ASSERT_OK(c.TransitionToActive(1));
  const size_t at_failover = w.acked_count();
  ASSERT_TRUE(WaitFor([&] { return w.acked_count() >= at_failover + 300; }, 60000))
      << "writers did not resume on nn2";
  w.Stop();
  w.Join();
  auto client = c.NewProxy();
  ExpectAllExist(client.get(), w.acked());
  // The killed namenode comes back as a standby and catches up.
  ASSERT_OK(c.RestartNamenode(0));
  auto st = c.GetStatus(1);
  ASSERT_TRUE(st.ok());
  EXPECT_TRUE(c.WaitForAppliedTxId(0, st->lastAppliedTxId, 30000));
}

TEST(NamenodeHaTest, FencedOldActive_AnswersNothingAfterResume) {
  NnCluster c;
  ASSERT_OK(c.Start());
  ASSERT_OK(c.TransitionToActive(0));
  auto client = c.NewProxy();
  bool created = false;
  ASSERT_OK(client->Mkdirs(SuperUser(), "/before", 0755, false, &created));
  // Pause nn1, make nn2 active (a newer epoch), change the namespace through nn2.
  c.namenode(0).Stop();
  ASSERT_OK(c.TransitionToActive(1));
  auto nn2_client = c.NewDirectClient(1);
  ASSERT_OK(nn2_client->Mkdirs(SuperUser(), "/after", 0755, false, &created));
  c.namenode(0).Continue();
  // The old active must not answer from its stale namespace (which lacks /after) and
  // must acknowledge nothing.
  auto old = c.NewDirectClient(0);
  th::FileStatus f;
  Status read = old->GetFileInfo(SuperUser(), "/after", &f);
  EXPECT_FALSE(read.ok());
  EXPECT_NE(old->last_fs_error(), th::FsErrorCode::FILE_NOT_FOUND) << read;
  Status read2 = old->GetFileInfo(SuperUser(), "/before", &f);
  EXPECT_FALSE(read2.ok()) << "stale read answered";
  Status write = old->Mkdirs(SuperUser(), "/from-old", 0755, false, &created);
  EXPECT_FALSE(write.ok()) << "stale write acknowledged";
  th::FileStatus g;
  EXPECT_FALSE(nn2_client->GetFileInfo(SuperUser(), "/from-old", &g).ok());
  EXPECT_EQ(nn2_client->last_fs_error(), th::FsErrorCode::FILE_NOT_FOUND);
  // It reports itself unhealthy, and becomes a sane standby when told to.
  auto st = c.GetStatus(0);
  ASSERT_TRUE(st.ok());
  EXPECT_FALSE(st->readyToBecomeActive);
  ASSERT_OK(c.TransitionToStandby(0));
  auto nn2 = c.GetStatus(1);
  ASSERT_TRUE(nn2.ok());
  EXPECT_TRUE(c.WaitForAppliedTxId(0, nn2->lastAppliedTxId, 30000));
}

TEST(NamenodeHaTest, LeaseDeadline_PausedActiveRefusesAfterResume) {
  NnCluster c;
  ASSERT_OK(c.Start());
  // nn1 active under a lease that ends 1.5 s from now (failoverd's role, done by hand).
  const int64_t deadline = MonoNowNs() + 1500 * int64_t{1000000};
  ASSERT_OK(c.TransitionToActive(0, deadline));
  auto old = c.NewDirectClient(0);
  bool created = false;
  ASSERT_OK(old->Mkdirs(SuperUser(), "/leased", 0755, false, &created));
  auto st = c.GetStatus(0);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->leaseDeadlineMonoNs, deadline);
  c.namenode(0).Stop();
  ASSERT_TRUE(WaitFor([&] { return MonoNowNs() > deadline; }, 5000));
  ASSERT_OK(c.TransitionToActive(1));
  c.namenode(0).Continue();
  th::FileStatus f;
  Status read = old->GetFileInfo(SuperUser(), "/leased", &f);
  EXPECT_FALSE(read.ok());
  EXPECT_EQ(old->last_fs_error(), 0) << read;  // NOT_ACTIVE, which the client retries
  EXPECT_EQ(read.code(), StatusCode::kNotActive) << read;
  // The HA client finds the new active.
  auto client = c.NewProxy();
  ASSERT_OK(client->GetFileInfo(SuperUser(), "/leased", &f));
  EXPECT_EQ(client->active_id(), "nn2");
}

TEST(NamenodeHaTest, RestartFromImageAndEdits_CorruptNewestImageFallsBack) {
  NnClusterOptions o;
  o.nn_flags = {"--namenode_checkpoint_txns=100", "--namenode_checkpoint_period_s=1",
                "--namenode_checkpoint_check_interval_ms=100", "--namenode_segment_txns=150",
                "--namenode_extra_edits_retained=50"};
  NnCluster c(o);
  ASSERT_OK(c.Start());
  ASSERT_OK(c.TransitionToActive(0));
  auto client = c.NewProxy();
  auto image_txid = [&](int i) -> int64_t {
    auto direct = c.NewDirectClient(i);
    int64_t txid = -1;
    Status st = direct->Call("latestImageTxId", true,
                             [&](FailoverProxy::Client& cl) { txid = cl.latestImageTxId(); });
    return st.ok() ? txid : -2;
  };
  // Two rounds of writes, each followed by a standby checkpoint.
  Workload w1(c, "img1", 4, 60);
  w1.Join();
  ASSERT_TRUE(WaitFor([&] { return image_txid(1) >= 200; }, 30000)) << image_txid(1);
  const int64_t first_image = image_txid(1);
  Workload w2(c, "img2", 4, 60);
  w2.Join();
  ASSERT_TRUE(WaitFor([&] { return image_txid(1) > first_image + 100; }, 30000));
  // The active pulls the standby's images, and purges journal segments that no retained
  // image needs (the first segment starts at txid 1).
  ASSERT_TRUE(WaitFor([&] { return image_txid(0) > first_image; }, 30000)) << image_txid(0);
  ASSERT_TRUE(WaitFor(
      [&] {
        for (int j = 0; j < 3; ++j) {
          if (HasFirstSegment(c.journalnodes().node(j).edits_dir())) return false;
        }
        return true;
      },
      30000))
      << "the first journal segment was not purged";
  // Some edits after the last checkpoint, then stop both namenodes.
  bool created = false;
  ASSERT_OK(client->Mkdirs(SuperUser(), "/tail", 0755, false, &created));
  auto before = DumpTree(client.get());
  ASSERT_TRUE(before.ok()) << before.status();
  c.namenode(0).Terminate();
  c.namenode(1).Kill();
  // Corrupt nn2's newest image (flip a byte in the middle): it must fall back.
  auto images = FindImagesForTest(c.name_dir(1));
  ASSERT_GE(images.size(), 2u);
  FlipByteInMiddle(images.back());
  ASSERT_OK(c.RestartNamenode(0));
  ASSERT_OK(c.RestartNamenode(1));
  // Restart from image + edits: nn1 active again.
  ASSERT_OK(c.TransitionToActive(0));
  auto restarted = DumpTree(client.get());
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  EXPECT_EQ(*before, *restarted);
  // nn2 loaded the previous image, replayed the journal, and serves the same namespace.
  ASSERT_OK(c.TransitionToStandby(0));
  ASSERT_OK(c.TransitionToActive(1));
  auto from_fallback = DumpTree(client.get());
  ASSERT_TRUE(from_fallback.ok()) << from_fallback.status();
  EXPECT_EQ(*before, *from_fallback);
  EXPECT_EQ(client->active_id(), "nn2");
}

TEST(NamenodeHaTest, Proxy_RetriesMutationsWithUnknownOutcomeUnderTheSameIds) {
  NnCluster c;
  ASSERT_OK(c.Start());
  ASSERT_OK(c.TransitionToActive(0));
  FailoverProxyOptions po = FailoverProxyOptionsFromConfig(c.conf());
  po.rpc_timeout_ms = 700;
  FailoverProxy proxy(po);
  bool created = false;
  ASSERT_OK(proxy.Mkdirs(SuperUser(), "/p", 0755, false, &created));
  ASSERT_EQ(proxy.active_id(), "nn1");
  // nn1 hangs after accepting the request: the outcome is unknown, so the proxy sends the
  // call again, with the same ids, to whichever namenode serves (the retry cache makes
  // that safe: tests/namenode/retry_cache_test.cc).
  c.namenode(0).Stop();
  ASSERT_OK(c.TransitionToActive(1));
  ASSERT_OK(proxy.Mkdirs(SuperUser(), "/q", 0755, false, &created));
  EXPECT_TRUE(created);
  EXPECT_EQ(proxy.active_id(), "nn2");
  th::FileStatus f;
  ASSERT_OK(proxy.GetFileInfo(SuperUser(), "/q", &f));
  // With retry_mutations off (for a namenode without a retry cache) the old rule holds:
  // a mutation whose request was sent is not sent again; the caller decides.
  po.retry_mutations = false;
  FailoverProxy cautious(po);  // starts with nn1, which still hangs
  Status st = cautious.Mkdirs(SuperUser(), "/r", 0755, false, &created);
  EXPECT_EQ(st.code(), StatusCode::kNetworkError) << st;
  EXPECT_NE(st.message().find("outcome unknown"), std::string::npos) << st;
  // A read is idempotent: it moves on to nn2.
  ASSERT_OK(cautious.GetFileInfo(SuperUser(), "/p", &f));
  EXPECT_EQ(cautious.active_id(), "nn2");
  EXPECT_EQ(cautious.GetFileInfo(SuperUser(), "/r", &f).code(), StatusCode::kNotFound);
  c.namenode(0).Continue();
}

TEST(NamenodeHaTest, LostJournalMajority_StopsServing_ServesAgainAfterTransitions) {
  NnCluster c;
  ASSERT_OK(c.Start());
  ASSERT_OK(c.TransitionToActive(0));
  auto nn1 = c.NewDirectClient(0, 30000);
  bool created = false;
  ASSERT_OK(nn1->Mkdirs(SuperUser(), "/a", 0755, false, &created));
  // Two of three journalnodes die: the next write cannot commit, the writer fails, and
  // the namenode stops serving reads and writes and reports itself unhealthy.
  c.journalnodes().node(1).Kill();
  c.journalnodes().node(2).Kill();
  Status write = nn1->Mkdirs(SuperUser(), "/b", 0755, false, &created);
  EXPECT_FALSE(write.ok());
  // The namenode answered IO_ERROR (not committed, outcome unknown); this client has no
  // failover budget to retry it, so it reports the outcome unknown.
  EXPECT_EQ(write.code(), StatusCode::kNetworkError) << write;
  EXPECT_NE(write.message().find("outcome unknown"), std::string::npos) << write;
  th::FileStatus f;
  Status read = nn1->GetFileInfo(SuperUser(), "/a", &f);
  EXPECT_EQ(read.code(), StatusCode::kNotActive) << read;
  auto st = c.GetStatus(0);
  ASSERT_TRUE(st.ok());
  EXPECT_FALSE(st->readyToBecomeActive);
  EXPECT_TRUE(st->__isset.notReadyReason);
  // The journal comes back; standby then active again reloads a clean namespace (the
  // applied-but-uncommitted /b may or may not have survived recovery: its outcome was
  // reported unknown).
  c.journalnodes().node(1).Restart();
  c.journalnodes().node(2).Restart();
  ASSERT_OK(c.TransitionToStandby(0));
  ASSERT_OK(c.TransitionToActive(0));
  ASSERT_OK(nn1->GetFileInfo(SuperUser(), "/a", &f));
  ASSERT_OK(nn1->Mkdirs(SuperUser(), "/c", 0755, false, &created));
  st = c.GetStatus(0);
  ASSERT_TRUE(st.ok());
  EXPECT_TRUE(st->readyToBecomeActive);
}

// format --force removes every old image. One that stays (here a directory under an
// image's name, which unlink refuses) is a clear error and no new image is written, rather
// than a name dir whose old image a restart would load instead of the new one.
TEST(NamenodeHaTest, FormatForceFailsWhenAnOldImageCannotBeRemoved) {
  NnCluster c;
  ASSERT_OK(c.Start());
  const std::string dir = c.dir() + "/stuck";
  const std::string stuck = dir + "/" + nn::ImageFileName(7);
  ASSERT_OK(FileOps::Posix()->CreateDirs(stuck));
  ASSERT_OK(FileOps::Posix()->AtomicWrite(stuck + "/inside", "x"));
  std::string out;
  EXPECT_EQ(RunCommand({BinaryPath("namenode/namenode"), "--cluster_conf=" + c.conf_path(),
                        "--namenode_id=nn1", "--namenode_name_dir=" + dir, "--format", "--force"},
                       &out),
            1)
      << out;
  EXPECT_NE(out.find("cannot remove the old images"), std::string::npos) << out;
  EXPECT_NE(out.find(stuck), std::string::npos) << out;
  EXPECT_FALSE(FileOps::Posix()->Exists(dir + "/" + nn::ImageFileName(0)));
}

TEST(NamenodeHaTest, Lifecycle_FormatRefusesToClobber_BadFlagsExit2_SigtermExits0) {
  NnCluster c;
  ASSERT_OK(c.Start());
  std::string out;
  // A second --format finds the images (and the formatted journal) and refuses.
  std::vector<std::string> fmt = c.NamenodeArgv(0);
  fmt.push_back("--format");
  EXPECT_EQ(RunCommand(fmt, &out), 1) << out;
  EXPECT_NE(out.find("refusing to format"), std::string::npos) << out;
  // Even with an empty name dir, the formatted journal is not clobbered without --force.
  std::vector<std::string> fresh = {BinaryPath("namenode/namenode"),
                                    "--cluster_conf=" + c.conf_path(), "--namenode_id=nn1",
                                    "--namenode_name_dir=" + c.dir() + "/fresh", "--format"};
  EXPECT_EQ(RunCommand(fresh, &out), 1) << out;
  EXPECT_NE(out.find("already formatted"), std::string::npos) << out;
  std::vector<std::string> boot = c.NamenodeArgv(1);
  boot.push_back("--bootstrap_standby");
  EXPECT_EQ(RunCommand(boot, &out), 1) << out;
  // Bad flags and configuration: exit 2 with a reason.
  EXPECT_EQ(RunCommand({BinaryPath("namenode/namenode"), "--no_such_flag=1"}, &out), 2) << out;
  EXPECT_NE(out.find("unknown flag --no_such_flag"), std::string::npos) << out;
  EXPECT_EQ(RunCommand({BinaryPath("namenode/namenode"), "--cluster_conf=" + c.conf_path(),
                        "--namenode_id=nn9", "--namenode_name_dir=/tmp/x"},
                       &out),
            2)
      << out;
  // SIGTERM on the active: it finalizes its segment and exits 0; the other takes over
  // with every acknowledged edit.
  ASSERT_OK(c.TransitionToActive(0));
  auto client = c.NewProxy();
  bool created = false;
  ASSERT_OK(client->Mkdirs(SuperUser(), "/x/y", 0755, true, &created));
  ASSERT_EQ(kill(c.namenode(0).pid(), SIGTERM), 0);
  EXPECT_EQ(c.namenode(0).Wait(15000), 0);
  ASSERT_OK(c.TransitionToActive(1));
  th::FileStatus f;
  ASSERT_OK(client->GetFileInfo(SuperUser(), "/x/y", &f));
}

}  // namespace
}  // namespace qj::testing
