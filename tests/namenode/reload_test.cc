// A fenced ex-active reloads its namespace from the newest image when it goes back to
// standby (NamenodeServer::ReloadFromImage), with real processes on 127.0.0.1: 3
// journalnodes and 2 namenodes (tests/support/nn_cluster.h). The stale namespace is freed
// before the image is loaded, so the reload needs no second namespace's worth of memory.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "namenode/image.h"
#include "namenode/namespace.h"
#include "namenode/node_pool.h"
#include "tests/support/nn_cluster.h"
#include "tests/support/status_macros.h"

namespace qj::testing {
namespace {

namespace th = qjournal::thrift;

// A /proc/<pid>/status field in KiB (VmRSS, VmHWM), -1 if missing.
int64_t ProcKiB(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stoll(line.substr(field.size() + 1));
  }
  return -1;
}

// `dirs` directories /s/p<k>/d<j>, 1,000 per parent, built with FsNamespace's own
// Prepare/Apply.
std::unique_ptr<nn::FsNamespace> BuildNamespace(int64_t namespace_id, int dirs) {
  nn::NamespaceOptions o;
  o.namespace_id = namespace_id;
  auto ns = std::make_unique<nn::FsNamespace>(o);
  const nn::Caller su{o.superuser, {o.supergroup}};
  for (int i = 0; i < dirs; ++i) {
    const std::string path = "/s/p" + std::to_string(i / 1000) + "/d" + std::to_string(i % 1000);
    auto e = ns->PrepareMkdirs(su, path, 0755, true, 1);
    EXPECT_TRUE(e.ok() && e->has_value()) << path;
    if (!e.ok() || !e->has_value()) return nullptr;
    EXPECT_TRUE(ns->Apply(**e).ok());
  }
  return ns;
}

TEST(ReloadTest, FencedExActive_ReloadsWithoutHoldingTwoNamespaces) {
  constexpr int kDirs = 300000;
  NnCluster c;
  ASSERT_OK(c.Start());
  // Both namenodes start on an image of kDirs directories written over the formatted one.
  c.namenode(0).Kill();
  c.namenode(1).Kill();
  auto images = nn::FindImages(c.name_dir(0));
  ASSERT_TRUE(images.ok() && !images->empty());
  const int64_t txid = images->back().txid;
  {
    auto ns = BuildNamespace(c.conf().namespace_id, kDirs);
    ASSERT_NE(ns, nullptr);
    for (int i = 0; i < 2; ++i) ASSERT_OK(nn::SaveImage(*ns, txid, c.name_dir(i)));
  }
  ASSERT_OK(c.RestartNamenode(0));
  ASSERT_OK(c.RestartNamenode(1));
  ASSERT_TRUE(c.WaitForAppliedTxId(0, txid, 60000));
  ASSERT_TRUE(c.WaitForAppliedTxId(1, txid, 60000));
  ASSERT_OK(c.TransitionToActive(0));
  bool created = false;
  auto nn1 = c.NewDirectClient(0);
  ASSERT_OK(nn1->Mkdirs(SuperUser(), "/before", 0755, false, &created));
  // nn2 takes over (a newer epoch); nn1 learns it is fenced at its next write.
  ASSERT_TRUE(c.WaitForAppliedTxId(1, txid + 1, 30000));
  ASSERT_OK(c.TransitionToActive(1));
  auto nn2 = c.NewDirectClient(1);
  ASSERT_OK(nn2->Mkdirs(SuperUser(), "/after", 0755, false, &created));
  EXPECT_FALSE(nn1->Mkdirs(SuperUser(), "/from-old", 0755, false, &created).ok());
  auto st1 = c.GetStatus(0);
  ASSERT_TRUE(st1.ok());
  EXPECT_FALSE(st1->readyToBecomeActive);

  const pid_t pid = c.namenode(0).pid();
  const int64_t rss_loaded = ProcKiB(pid, "VmRSS");
  const int64_t hwm_before = ProcKiB(pid, "VmHWM");
  ASSERT_GT(rss_loaded, 0);
  ASSERT_OK(c.TransitionToStandby(0));
  auto st2 = c.GetStatus(1);
  ASSERT_TRUE(st2.ok());
  ASSERT_TRUE(c.WaitForAppliedTxId(0, st2->lastAppliedTxId, 60000));
  const int64_t hwm_after = ProcKiB(pid, "VmHWM");
  // The namespace alone is >= 270 bytes per directory (inode, its node in the parent's
  // map, its own map and the map's header): >= 77 MiB here. Loading before freeing
  // raised the peak by that much; freeing first reuses the same memory.
  const int64_t namespace_kib = int64_t{kDirs} * 270 / 1024;
  // (Not in sanitizer builds: there nothing is pooled and ASan quarantines freed memory.)
  if (nn::node_pool::kPooled) {
    EXPECT_LT(hwm_after - hwm_before, namespace_kib / 4)
        << "peak RSS " << hwm_before << " KiB -> " << hwm_after << " KiB across the reload (RSS "
        << rss_loaded << " KiB before it)";
  }

  // A healthy standby with the right namespace: it has /before and /after, not /from-old.
  auto status = c.GetStatus(0);
  ASSERT_TRUE(status.ok());
  EXPECT_TRUE(status->readyToBecomeActive) << status->notReadyReason;
  ASSERT_OK(c.TransitionToStandby(1));
  ASSERT_OK(c.TransitionToActive(0));
  th::FileStatus f;
  EXPECT_OK(nn1->GetFileInfo(SuperUser(), "/before", &f));
  EXPECT_OK(nn1->GetFileInfo(SuperUser(), "/after", &f));
  EXPECT_OK(nn1->GetFileInfo(SuperUser(), "/s/p299/d999", &f));
  EXPECT_FALSE(nn1->GetFileInfo(SuperUser(), "/from-old", &f).ok());
}

// A reload that finds no image leaves the namenode without a namespace: unhealthy, serving
// nothing, alive; the next transition that finds the image again makes it a healthy standby.
TEST(ReloadTest, ReloadWithoutAnImage_UnhealthyUntilARetryLoads) {
  NnCluster c;
  ASSERT_OK(c.Start());
  ASSERT_OK(c.TransitionToActive(0));
  bool created = false;
  auto nn1 = c.NewDirectClient(0);
  ASSERT_OK(nn1->Mkdirs(SuperUser(), "/a", 0755, false, &created));
  // Take nn1's images away, then fence it.
  auto images = nn::FindImages(c.name_dir(0));
  ASSERT_TRUE(images.ok() && !images->empty());
  const std::string away = c.dir() + "/nn1-images-away";
  std::filesystem::create_directories(away);
  for (const auto& i : *images) {
    std::filesystem::rename(i.path, away + "/" + std::filesystem::path(i.path).filename().string());
  }
  ASSERT_OK(c.TransitionToActive(1));
  EXPECT_FALSE(nn1->Mkdirs(SuperUser(), "/from-old", 0755, false, &created).ok());
  ASSERT_OK(c.TransitionToStandby(0));  // the reload fails; the call reports the role change
  auto st = c.GetStatus(0);
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_FALSE(st->readyToBecomeActive) << "no namespace, yet healthy";
  th::FileStatus f;
  EXPECT_FALSE(nn1->GetFileInfo(SuperUser(), "/a", &f).ok());
  EXPECT_TRUE(c.namenode(0).running());
  // The images come back: the next transition loads them and nn1 tails again.
  for (const auto& e : std::filesystem::directory_iterator(away)) {
    std::filesystem::rename(e.path(), c.name_dir(0) + "/" + e.path().filename().string());
  }
  ASSERT_OK(c.TransitionToStandby(0));
  auto nn2 = c.GetStatus(1);
  ASSERT_TRUE(nn2.ok());
  EXPECT_TRUE(c.WaitForAppliedTxId(0, nn2->lastAppliedTxId, 30000));
  auto healthy = c.GetStatus(0);
  ASSERT_TRUE(healthy.ok());
  EXPECT_TRUE(healthy->readyToBecomeActive) << healthy->notReadyReason;
}

}  // namespace
}  // namespace qj::testing
