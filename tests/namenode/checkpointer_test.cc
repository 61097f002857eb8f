// The namenode's Checkpointer (namenode/checkpointer.h) against a scripted host and
// scripted peers on a fake clock: when the standby checkpoints, what the active pulls and
// purges, and the thread's timing and stop. Then its RPC side (RpcPeerImages) against a
// real namenode's ClientProtocol face on 127.0.0.1 (NamenodeServer + NamenodeRpcServer in
// this process, no journal needed for the image calls).
#include "namenode/checkpointer.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/mutex.h"
#include "namenode/image.h"
#include "namenode/namenode_server.h"
#include "namenode/namespace.h"
#include "namenode/service_handler.h"
#include "tests/support/fake_clock.h"
#include "tests/support/process.h"
#include "tests/support/status_macros.h"

namespace qj::nn {
namespace {

using qj::testing::WaitFor;

constexpr int64_t kMs = kNanosPerMilli;
constexpr int64_t kSec = 1000 * kMs;

// A namenode as the Checkpointer sees it: images are a set of txids (the name dir).
class ScriptedHost final : public CheckpointHost {
 public:
  HaRole role() const override {
    MutexLock l(&mu_);
    return role_;
  }
  int64_t last_applied_txid() const override {
    MutexLock l(&mu_);
    return applied_;
  }
  int64_t last_image_txid() const override {
    MutexLock l(&mu_);
    return last_image_;
  }
  int64_t LatestImageTxId() const override {
    MutexLock l(&mu_);
    return images_.empty() ? -1 : *images_.rbegin();
  }
  Status SaveCheckpoint() override {
    MutexLock l(&mu_);
    ++save_attempts_;
    if (!save_status_.ok()) return save_status_;
    images_.insert(applied_);
    last_image_ = applied_;
    return Status::OK();
  }
  void ImageFetched(int64_t txid) override {
    MutexLock l(&mu_);
    fetched_.push_back(txid);
    images_.insert(txid);
    last_image_ = txid;
  }
  Result<int64_t> PurgeImages(int retain) override {
    MutexLock l(&mu_);
    purge_images_retain_.push_back(retain);
    while (static_cast<int>(images_.size()) > retain) images_.erase(images_.begin());
    return images_.empty() ? -1 : *images_.begin();
  }
  Result<bool> PurgeEditsBelow(int64_t txid) override {
    MutexLock l(&mu_);
    if (!has_writer_) return false;
    edit_purge_calls_.push_back(txid);
    QJ_RETURN_IF_ERROR(edit_purge_status_);
    return true;
  }
  void SetActiveHint(const std::string& id) override {
    MutexLock l(&mu_);
    hints_.push_back(id);
  }

  // ---- Script ----
  void set_role(HaRole r) {
    MutexLock l(&mu_);
    role_ = r;
  }
  void set_applied(int64_t t) {
    MutexLock l(&mu_);
    applied_ = t;
  }
  // An image in the name dir, as loaded at start.
  void AddImage(int64_t t) {
    MutexLock l(&mu_);
    images_.insert(t);
    if (t > last_image_) last_image_ = t;
  }
  void set_save_status(Status s) {
    MutexLock l(&mu_);
    save_status_ = std::move(s);
  }
  void set_has_writer(bool w) {
    MutexLock l(&mu_);
    has_writer_ = w;
  }
  void set_edit_purge_status(Status s) {
    MutexLock l(&mu_);
    edit_purge_status_ = std::move(s);
  }

  // ---- What it was asked ----
  int save_attempts() const {
    MutexLock l(&mu_);
    return save_attempts_;
  }
  std::vector<int> purge_images_retain() const {
    MutexLock l(&mu_);
    return purge_images_retain_;
  }
  std::vector<int64_t> edit_purge_calls() const {
    MutexLock l(&mu_);
    return edit_purge_calls_;
  }
  std::vector<int64_t> fetched() const {
    MutexLock l(&mu_);
    return fetched_;
  }
  std::set<int64_t> images() const {
    MutexLock l(&mu_);
    return images_;
  }
  std::vector<std::string> hints() const {
    MutexLock l(&mu_);
    return hints_;
  }

 private:
  mutable Mutex mu_;
  HaRole role_ GUARDED_BY(mu_) = HaRole::kStandby;
  int64_t applied_ GUARDED_BY(mu_) = 0;
  int64_t last_image_ GUARDED_BY(mu_) = -1;
  std::set<int64_t> images_ GUARDED_BY(mu_);
  Status save_status_ GUARDED_BY(mu_);
  bool has_writer_ GUARDED_BY(mu_) = true;
  Status edit_purge_status_ GUARDED_BY(mu_);
  int save_attempts_ GUARDED_BY(mu_) = 0;
  std::vector<int> purge_images_retain_ GUARDED_BY(mu_);
  std::vector<int64_t> edit_purge_calls_ GUARDED_BY(mu_);
  std::vector<int64_t> fetched_ GUARDED_BY(mu_);
  std::vector<std::string> hints_ GUARDED_BY(mu_);
};

// Peers by id: their newest image, whether a download works, their role. A peer not
// scripted is unreachable.
class ScriptedPeers final : public PeerImages {
 public:
  Result<int64_t> LatestImageTxId(const NamenodeInfo& peer) override {
    MutexLock l(&mu_);
    auto it = latest_.find(peer.id);
    if (it == latest_.end()) return Unreachable(peer);
    return it->second;
  }
  Status Download(const NamenodeInfo& peer, int64_t txid) override {
    MutexLock l(&mu_);
    downloads_.emplace_back(peer.id, txid);
    auto it = download_status_.find(peer.id);
    return it == download_status_.end() ? Status::OK() : it->second;
  }
  Result<HaRole> Role(const NamenodeInfo& peer) override {
    MutexLock l(&mu_);
    auto it = roles_.find(peer.id);
    if (it == roles_.end()) return Unreachable(peer);
    return it->second;
  }

  void set_latest(const std::string& id, int64_t txid) {
    MutexLock l(&mu_);
    latest_[id] = txid;
  }
  void set_download_status(const std::string& id, Status s) {
    MutexLock l(&mu_);
    download_status_[id] = std::move(s);
  }
  void set_role(const std::string& id, HaRole r) {
    MutexLock l(&mu_);
    roles_[id] = r;
  }
  std::vector<std::pair<std::string, int64_t>> downloads() const {
    MutexLock l(&mu_);
    return downloads_;
  }

 private:
  static Status Unreachable(const NamenodeInfo& peer) {
    return Status::NetworkError(peer.id + ": connection refused");
  }
  mutable Mutex mu_;
  std::map<std::string, int64_t> latest_ GUARDED_BY(mu_);
  std::map<std::string, Status> download_status_ GUARDED_BY(mu_);
  std::map<std::string, HaRole> roles_ GUARDED_BY(mu_);
  std::vector<std::pair<std::string, int64_t>> downloads_ GUARDED_BY(mu_);
};

NamenodeInfo Peer(const std::string& id) {
  NamenodeInfo nn;
  nn.id = id;
  nn.host = "127.0.0.1";
  return nn;
}

class CheckpointerTest : public ::testing::Test {
 protected:
  CheckpointerTest() {
    opts_.namenode_id = "nn1";
    opts_.peers = {Peer("nn2"), Peer("nn3")};
    opts_.checkpoint_txns = 100;
    opts_.checkpoint_period_s = 600;
    opts_.images_retained = 2;
    opts_.extra_edits_retained = 10;
    opts_.check_interval_ms = 1000;
  }
  Checkpointer* Make() {
    cp_ = std::make_unique<Checkpointer>(opts_, &host_, &peers_, &clock_);
    return cp_.get();
  }

  CheckpointerOptions opts_;
  FakeClock clock_;
  ScriptedHost host_;
  ScriptedPeers peers_;
  std::unique_ptr<Checkpointer> cp_;
};

// ---- Standby ----

TEST_F(CheckpointerTest, StandbyCheckpointsOnceTxnsBehindReachTheThreshold) {
  host_.AddImage(50);
  host_.set_applied(50 + 99);
  Checkpointer* cp = Make();
  cp->RunOnce();
  EXPECT_EQ(host_.save_attempts(), 0) << "99 txids behind, period not over";
  host_.set_applied(50 + 100);
  cp->RunOnce();
  EXPECT_EQ(host_.save_attempts(), 1);
  EXPECT_EQ(host_.images(), (std::set<int64_t>{50, 150}));
  // Old images purged after the save, keeping images_retained.
  EXPECT_EQ(host_.purge_images_retain(), std::vector<int>{2});
  // Up to date now: nothing more.
  cp->RunOnce();
  EXPECT_EQ(host_.save_attempts(), 1);
  // A standby never touches the journal or the peers' images.
  EXPECT_TRUE(host_.edit_purge_calls().empty());
  EXPECT_TRUE(peers_.downloads().empty());
}

TEST_F(CheckpointerTest, StandbyWithFewTxnsWaitsForThePeriod) {
  host_.AddImage(50);
  host_.set_applied(51);
  Checkpointer* cp = Make();  // the period counts from here
  cp->RunOnce();
  clock_.Advance(600 * kSec - 1 * kMs);
  cp->RunOnce();
  EXPECT_EQ(host_.save_attempts(), 0) << "one millisecond short of the period";
  clock_.Advance(1 * kMs);
  cp->RunOnce();
  EXPECT_EQ(host_.save_attempts(), 1);
  EXPECT_EQ(host_.images(), (std::set<int64_t>{50, 51}));
  // The next period counts from that checkpoint.
  host_.set_applied(52);
  clock_.Advance(599 * kSec);
  cp->RunOnce();
  EXPECT_EQ(host_.save_attempts(), 1);
  clock_.Advance(1 * kSec);
  cp->RunOnce();
  EXPECT_EQ(host_.save_attempts(), 2);
}

TEST_F(CheckpointerTest, StandbyNotBehindSavesNothing) {
  host_.AddImage(500);
  host_.set_applied(500);
  Checkpointer* cp = Make();
  clock_.Advance(10'000 * kSec);
  cp->RunOnce();
  // An image ahead of the applied txid (behind < 0): nothing either.
  host_.set_applied(400);
  cp->RunOnce();
  EXPECT_EQ(host_.save_attempts(), 0);
  EXPECT_TRUE(host_.purge_images_retain().empty());
}

// Current behaviour, kept: a failed attempt counts as the period's checkpoint, so with
// few txids behind the next attempt is a whole period later (with checkpoint_txns behind,
// at the next step).
TEST_F(CheckpointerTest, FailedSaveIsRetriedAfterThePeriod) {
  host_.AddImage(50);
  host_.set_applied(60);
  host_.set_save_status(Status::IOError("disk full"));
  Checkpointer* cp = Make();
  clock_.Advance(600 * kSec);
  cp->RunOnce();
  EXPECT_EQ(host_.save_attempts(), 1);
  EXPECT_TRUE(host_.purge_images_retain().empty()) << "no purge after a failed save";
  clock_.Advance(599 * kSec);
  cp->RunOnce();
  EXPECT_EQ(host_.save_attempts(), 1) << "retried before the period passed";
  host_.set_save_status(Status::OK());
  clock_.Advance(1 * kSec);
  cp->RunOnce();
  EXPECT_EQ(host_.save_attempts(), 2);
  EXPECT_EQ(host_.images(), (std::set<int64_t>{50, 60}));

  // Far enough behind, a failure is retried at the next step.
  host_.set_save_status(Status::IOError("disk full"));
  host_.set_applied(60 + 100);
  cp->RunOnce();
  cp->RunOnce();
  EXPECT_EQ(host_.save_attempts(), 4);
}

TEST_F(CheckpointerTest, StandbyLearnsWhichPeerIsActive) {
  host_.AddImage(1);
  host_.set_applied(1);
  Checkpointer* cp = Make();
  // nn2 unreachable, nn3 active.
  peers_.set_role("nn3", HaRole::kActive);
  cp->RunOnce();
  peers_.set_role("nn2", HaRole::kStandby);
  peers_.set_role("nn3", HaRole::kStandby);
  cp->RunOnce();
  peers_.set_role("nn2", HaRole::kActive);
  cp->RunOnce();
  EXPECT_EQ(host_.hints(), (std::vector<std::string>{"nn3", "", "nn2"}));
  // Neither active nor standby: no step at all.
  host_.set_role(HaRole::kStopping);
  cp->RunOnce();
  EXPECT_EQ(host_.hints().size(), 3u);
  EXPECT_EQ(cp->steps(), 4);
}

// ---- Active ----

TEST_F(CheckpointerTest, ActivePullsNewerImagesAndPurgesTheJournalOncePerTxid) {
  host_.set_role(HaRole::kActive);
  host_.AddImage(100);
  host_.set_applied(1000);
  peers_.set_latest("nn2", 200);
  peers_.set_latest("nn3", 100);  // not newer: not fetched
  Checkpointer* cp = Make();
  cp->RunOnce();
  EXPECT_EQ(peers_.downloads(), (std::vector<std::pair<std::string, int64_t>>{{"nn2", 200}}));
  EXPECT_EQ(host_.fetched(), std::vector<int64_t>{200});
  EXPECT_EQ(host_.last_image_txid(), 200);
  // Images {100, 200} kept: the oldest (100) needs edits from 100 - extra_edits_retained.
  EXPECT_EQ(host_.edit_purge_calls(), std::vector<int64_t>{90});
  EXPECT_EQ(cp->last_purge_txid(), 90);
  EXPECT_EQ(host_.save_attempts(), 0) << "the active never saves a checkpoint";

  // Nothing newer: no download, and no second purge for the same txid.
  cp->RunOnce();
  EXPECT_EQ(peers_.downloads().size(), 1u);
  EXPECT_EQ(host_.edit_purge_calls().size(), 1u);

  // A newer image: fetched, image 100 dropped, the journal purged below 200 - 10.
  peers_.set_latest("nn2", 300);
  cp->RunOnce();
  EXPECT_EQ(host_.images(), (std::set<int64_t>{200, 300}));
  EXPECT_EQ(host_.edit_purge_calls(), (std::vector<int64_t>{90, 190}));
  EXPECT_EQ(cp->last_purge_txid(), 190);
}

TEST_F(CheckpointerTest, ActivePurgesNothingBelowTxidTwoOrWithoutAWriter) {
  host_.set_role(HaRole::kActive);
  host_.AddImage(11);  // 11 - 10 = 1: nothing to purge
  Checkpointer* cp = Make();
  cp->RunOnce();
  EXPECT_TRUE(host_.edit_purge_calls().empty());

  host_.AddImage(50);
  host_.AddImage(60);           // image 11 goes, 50 is the oldest kept
  host_.set_has_writer(false);  // e.g. just demoted
  cp->RunOnce();
  EXPECT_EQ(cp->last_purge_txid(), 0) << "not recorded without a writer";
  host_.set_edit_purge_status(Status::IOError("journal down"));
  host_.set_has_writer(true);
  cp->RunOnce();
  EXPECT_EQ(cp->last_purge_txid(), 0) << "not recorded after a failure";
  host_.set_edit_purge_status(Status::OK());
  cp->RunOnce();
  EXPECT_EQ(host_.edit_purge_calls(), (std::vector<int64_t>{40, 40}));
  EXPECT_EQ(cp->last_purge_txid(), 40);
  cp->RunOnce();
  EXPECT_EQ(host_.edit_purge_calls().size(), 2u);
}

TEST_F(CheckpointerTest, ActiveFailedDownloadGoesOnToTheNextPeer) {
  host_.set_role(HaRole::kActive);
  host_.AddImage(100);
  peers_.set_latest("nn2", 200);
  peers_.set_download_status("nn2", Status::Corruption("image fetched from nn2: bad CRC"));
  peers_.set_latest("nn3", 150);
  Checkpointer* cp = Make();
  cp->RunOnce();
  EXPECT_EQ(peers_.downloads(),
            (std::vector<std::pair<std::string, int64_t>>{{"nn2", 200}, {"nn3", 150}}));
  EXPECT_EQ(host_.fetched(), std::vector<int64_t>{150});
  EXPECT_EQ(host_.last_image_txid(), 150);
  // The next step tries nn2's newer image again.
  peers_.set_download_status("nn2", Status::OK());
  cp->RunOnce();
  EXPECT_EQ(host_.fetched(), (std::vector<int64_t>{150, 200}));
}

// ---- The thread ----

TEST_F(CheckpointerTest, ThreadStepsOncePerIntervalOfTheClock) {
  const int64_t t0 = clock_.MonotonicNanos();
  Checkpointer* cp = Make();
  cp->Start();
  for (int i = 1; i <= 3; ++i) {
    const int64_t due = t0 + i * opts_.check_interval_ms * kMs;
    ASSERT_TRUE(WaitFor([&] { return cp->next_step_due() == due; }, 60'000))
        << "waits until " << cp->next_step_due() << ", not " << due;
    EXPECT_EQ(cp->steps(), i - 1);
    clock_.Advance(999 * kMs);
    clock_.Advance(1 * kMs);
    ASSERT_TRUE(WaitFor([&] { return cp->steps() == i; }, 60'000)) << "step " << i;
  }
  // Never more than one step per interval of the clock.
  ASSERT_TRUE(WaitFor([&] { return cp->next_step_due() == t0 + 4 * kSec; }, 60'000));
  EXPECT_EQ(cp->steps(), 3);
  cp->Stop();
  EXPECT_EQ(cp->steps(), 3);
}

TEST_F(CheckpointerTest, StopEndsTheWaitAtOnce) {
  opts_.check_interval_ms = 1'000'000'000;
  Checkpointer* cp = Make();
  cp->Start();
  ASSERT_TRUE(WaitFor([&] { return cp->next_step_due() != 0; }, 60'000));
  cp->Stop();  // must not wait for the interval (the clock never moves)
  EXPECT_EQ(cp->steps(), 0);
  cp->Stop();  // idempotent
}

// On the real clock the thread sleeps until each step is due, not waking every 20 ms to
// re-read the clock (as it once did): per step (a namenode neither active nor standby, so
// the step itself reads no time) the clock is read a few times, however long the interval;
// a 20 ms poll reads it ~10 times per 200 ms interval.
TEST_F(CheckpointerTest, ThreadOnTheRealClockDoesNotPollIt) {
  host_.set_role(HaRole::kInitializing);
  opts_.check_interval_ms = 200;
  CountingClock clock;
  Checkpointer cp(opts_, &host_, &peers_, &clock);
  cp.Start();
  ASSERT_TRUE(WaitFor([&] { return cp.steps() >= 4; }, 60'000));
  cp.Stop();
  const int64_t reads = clock.reads();
  const int64_t steps = cp.steps();
  std::printf("%lld steps of 200 ms: %lld clock reads\n", static_cast<long long>(steps),
              static_cast<long long>(reads));
  EXPECT_LE(reads, 4 * steps + 4) << steps << " steps";
}

// ---- Over RPC: RpcPeerImages against a real namenode's ClientProtocol face ----

class RpcPeerImagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FsNamespace ns{NamespaceOptions{}};
    ASSERT_OK(SaveImage(ns, 42, served_.path()));
    NamenodeOptions o;
    o.namenode_id = "nn2";
    o.name_dir = served_.path();
    server_ = std::make_unique<NamenodeServer>(std::move(o));
    rpc::ServerOptions so = NamenodeRpcServerOptions();
    so.name = "nn2";
    so.port = qj::testing::PickFreePorts(1)[0];
    peer_ = Peer("nn2");
    peer_.rpc_port = so.port;
    rpc_ = std::make_unique<NamenodeRpcServer>(server_.get(), so);
    ASSERT_OK(rpc_->Start());
  }
  void TearDown() override {
    if (rpc_) rpc_->Stop();
  }

  qj::testing::TempDir served_{"ckpt-served"};
  qj::testing::TempDir mine_{"ckpt-mine"};
  std::unique_ptr<NamenodeServer> server_;
  std::unique_ptr<NamenodeRpcServer> rpc_;
  NamenodeInfo peer_;
};

TEST_F(RpcPeerImagesTest, ReadsRoleAndImagesOfARealNamenode) {
  RpcPeerImages peers(mine_.path(), rpc::TlsOptions{}, FileOps::Posix());
  auto role = peers.Role(peer_);
  ASSERT_OK(role.status());
  EXPECT_EQ(*role, HaRole::kInitializing);  // never started
  auto latest = peers.LatestImageTxId(peer_);
  ASSERT_OK(latest.status());
  EXPECT_EQ(*latest, 42);
  ASSERT_OK(peers.Download(peer_, 42));
  auto info = VerifyImageFile(mine_.path() + "/" + ImageFileName(42), FileOps::Posix());
  ASSERT_OK(info.status());
  EXPECT_EQ(info->txid, 42);
}

// The peer's FsException keeps its code (FILE_NOT_FOUND -> NotFound) through the
// namenode.thrift error table; it used to arrive as IOError.
TEST_F(RpcPeerImagesTest, MissingImageIsNotFound) {
  RpcPeerImages peers(mine_.path(), rpc::TlsOptions{}, FileOps::Posix());
  Status st = peers.Download(peer_, 43);
  EXPECT_TRUE(st.IsNotFound()) << st;
  EXPECT_NE(st.ToString().find("fetchImage 43"), std::string::npos) << st;
  struct stat sb;
  EXPECT_NE(stat((mine_.path() + "/" + ImageFileName(43)).c_str(), &sb), 0);
  EXPECT_NE(stat((mine_.path() + "/" + ImageFileName(43) + ".download.tmp").c_str(), &sb), 0);
}

TEST_F(RpcPeerImagesTest, UnreachablePeerIsANetworkError) {
  rpc_->Stop();
  RpcPeerImages peers(mine_.path(), rpc::TlsOptions{}, FileOps::Posix());
  auto role = peers.Role(peer_);
  EXPECT_EQ(role.status().code(), StatusCode::kNetworkError) << role.status();
  auto latest = peers.LatestImageTxId(peer_);
  EXPECT_EQ(latest.status().code(), StatusCode::kNetworkError) << latest.status();
}

// The active's step end to end over RPC: the peer's newer image lands in the name dir.
TEST_F(RpcPeerImagesTest, ActiveCheckpointerPullsTheImage) {
  RpcPeerImages peers(mine_.path(), rpc::TlsOptions{}, FileOps::Posix());
  ScriptedHost host;
  host.set_role(HaRole::kActive);
  host.AddImage(7);
  CheckpointerOptions o;
  o.namenode_id = "nn1";
  o.peers = {peer_};
  FakeClock clock;
  Checkpointer cp(o, &host, &peers, &clock);
  cp.RunOnce();
  EXPECT_EQ(host.fetched(), std::vector<int64_t>{42});
  ASSERT_OK(VerifyImageFile(mine_.path() + "/" + ImageFileName(42), FileOps::Posix()).status());
}

}  // namespace
}  // namespace qj::nn
