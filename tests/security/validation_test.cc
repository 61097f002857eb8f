// Validation that holds with TLS off: every refusal below is a typed error, returned
// before the call has any effect, by real daemons (3 journalnodes, 2 namenodes, 2
// failoverds on 127.0.0.1) over Thrift. HDFS refuses the same misuses
// (FSNamesystem.checkHaStateChange, DFSUtil.isValidName).
#include <gtest/gtest.h>

#include <chrono>
#include <climits>
#include <string>
#include <thread>
#include <typeinfo>
#include <vector>

#include "ClientProtocol.h"
#include "FailoverController.h"
#include "JournalProtocol.h"
#include "common/clock.h"
#include "tests/security/security_test_util.h"
#include "tests/support/ha_cluster.h"
#include "tests/support/process.h"

namespace qj::testing {
namespace {

namespace th = qjournal::thrift;

constexpr int64_t kMs = 1000000;

int64_t NowNs() { return RealClock::Get()->MonotonicNanos(); }

HaClusterOptions Options(bool automatic) {
  HaClusterOptions o;
  o.automatic = automatic;
  // Journals per journalnode: the cluster's own plus two more.
  o.jn_flags = {"--journalnode_max_journals=3"};
  return o;
}

// One cluster with automatic failover for the whole suite: starting one costs seconds.
class ValidationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cluster_ = new HaCluster(Options(true));
    Status st = cluster_->Start();
    ASSERT_TRUE(st.ok()) << st;
    active_ = cluster_->WaitForActive(30000);
    ASSERT_GE(active_, 0);
    standby_ = 1 - active_;
    ASSERT_TRUE(cluster_->WaitForState(standby_, "standby", 30000));
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }

  static HostPort Nn(int i) { return cluster_->nn_info(i).rpc(); }
  static HostPort Fo(int i) { return cluster_->nn_info(i).failoverd(); }
  static HostPort Jn(int i) { return cluster_->conf().journal.journalnodes.at(i); }

  static Outcome Ha(int i, const std::function<void(th::ClientProtocolClient&)>& fn) {
    return CallTyped<th::ClientProtocolClient, th::ServiceFailedException>(Nn(i), 10000, fn);
  }
  static Outcome Fs(int i, const std::function<void(th::ClientProtocolClient&)>& fn) {
    return CallTyped<th::ClientProtocolClient, th::FsException>(Nn(i), 10000, fn);
  }
  static Outcome Failover(int i, const std::function<void(th::FailoverControllerClient&)>& fn) {
    return CallTyped<th::FailoverControllerClient, th::FailoverException>(Fo(i), 10000, fn);
  }
  static th::HAServiceStatus NnStatus(int i) {
    th::HAServiceStatus s;
    Outcome o = Ha(i, [&](th::ClientProtocolClient& c) { c.getServiceStatus(s); });
    EXPECT_TRUE(o.ok) << o.ToString();
    return s;
  }
  static th::HAStateChangeRequest Req(th::RequestSource::type source) {
    th::HAStateChangeRequest r;
    r.source = source;
    return r;
  }
  // The roles are unchanged by whatever was refused.
  static void ExpectRolesUnchanged() {
    EXPECT_EQ(NnStatus(active_).state, th::HAServiceState::ACTIVE);
    EXPECT_EQ(NnStatus(standby_).state, th::HAServiceState::STANDBY);
  }

  static HaCluster* cluster_;
  static int active_;
  static int standby_;
};

HaCluster* ValidationTest::cluster_ = nullptr;
int ValidationTest::active_ = -1;
int ValidationTest::standby_ = -1;

TEST_F(ValidationTest, UserTransitions_AutomaticOn_RefusedUnlessForced) {
  // transitionToActive on the standby (the issue saw two actives for 100-150 ms).
  Outcome o = Ha(standby_, [](th::ClientProtocolClient& c) {
    c.transitionToActive(Req(th::RequestSource::REQUEST_BY_USER));
  });
  EXPECT_EQ(o.code, th::HAErrorCode::MANUAL_WHILE_AUTOMATIC) << o.ToString();
  EXPECT_NE(o.message.find("Refusing to manually manage HA state"), std::string::npos) << o.message;
  // transitionToStandby on the active (the issue saw both left standby).
  o = Ha(active_, [](th::ClientProtocolClient& c) {
    c.transitionToStandby(Req(th::RequestSource::REQUEST_BY_USER));
  });
  EXPECT_EQ(o.code, th::HAErrorCode::MANUAL_WHILE_AUTOMATIC) << o.ToString();
  ExpectRolesUnchanged();
  // Forced passes the source check: standby -> standby is a harmless no-op.
  o = Ha(standby_, [](th::ClientProtocolClient& c) {
    c.transitionToStandby(Req(th::RequestSource::REQUEST_BY_USER_FORCED));
  });
  EXPECT_TRUE(o.ok) << o.ToString();
  // Forced, but with a lease deadline an hour ahead: still refused.
  o = Ha(standby_, [](th::ClientProtocolClient& c) {
    th::HAStateChangeRequest r = Req(th::RequestSource::REQUEST_BY_USER_FORCED);
    r.__set_leaseDeadlineMonoNs(NowNs() + 3600 * 1000 * kMs);
    c.transitionToActive(r);
  });
  EXPECT_EQ(o.code, th::HAErrorCode::INVALID_LEASE_DEADLINE) << o.ToString();
  ExpectRolesUnchanged();
}

TEST_F(ValidationTest, HaadminForcemanual_WarnsAndIsAccepted) {
  std::string out;
  EXPECT_NE(cluster_->Haadmin({"-transitionToStandby", cluster_->nn_id(standby_)}, &out), 0);
  EXPECT_NE(out.find("automatic failover is enabled"), std::string::npos) << out;
  ASSERT_EQ(
      cluster_->Haadmin({"--forcemanual", "-transitionToStandby", cluster_->nn_id(standby_)}, &out),
      0)
      << out;
  EXPECT_NE(out.find("WARNING: --forcemanual"), std::string::npos) << out;
  ExpectRolesUnchanged();
}

TEST_F(ValidationTest, FailoverdTransitionToActive_WrongHolderOrDeadline_Refused) {
  const std::string self = cluster_->nn_id(standby_);
  const std::string other = cluster_->nn_id(active_);
  struct Case {
    std::string holder;
    bool set_holder;
    int64_t deadline;  // 0: not set
    int want;
  };
  const int64_t now = NowNs();
  const std::vector<Case> cases = {
      {other, true, now + 1000 * kMs, th::HAErrorCode::NOT_LEASE_HOLDER},
      {"", false, now + 1000 * kMs, th::HAErrorCode::NOT_LEASE_HOLDER},
      {self, true, INT64_MAX, th::HAErrorCode::INVALID_LEASE_DEADLINE},
      {self, true, -1000, th::HAErrorCode::INVALID_LEASE_DEADLINE},
      {self, true, 0, th::HAErrorCode::INVALID_LEASE_DEADLINE},
      {self, true, now + 3600 * 1000 * kMs, th::HAErrorCode::INVALID_LEASE_DEADLINE},
  };
  for (const Case& k : cases) {
    Outcome o = Ha(standby_, [&](th::ClientProtocolClient& c) {
      th::HAStateChangeRequest r = Req(th::RequestSource::REQUEST_BY_FAILOVERD);
      if (k.set_holder) r.__set_holderId(k.holder);
      if (k.deadline != 0) r.__set_leaseDeadlineMonoNs(k.deadline);
      c.transitionToActive(r);
    });
    EXPECT_EQ(o.code, k.want) << "holder=" << k.holder << " deadline=" << k.deadline << ": "
                              << o.ToString();
  }
  // And a failoverd request to demote the active that names the wrong holder.
  Outcome o = Ha(active_, [&](th::ClientProtocolClient& c) {
    th::HAStateChangeRequest r = Req(th::RequestSource::REQUEST_BY_FAILOVERD);
    r.__set_holderId(self);
    c.transitionToStandby(r);
  });
  EXPECT_EQ(o.code, th::HAErrorCode::NOT_LEASE_HOLDER) << o.ToString();
  ExpectRolesUnchanged();
}

TEST_F(ValidationTest, RenewLease_OutOfBoundsDeadlineOrWrongCaller_Refused) {
  const std::string active_id = cluster_->nn_id(active_);
  const int64_t lease_ns = cluster_->conf().lease_duration_ms * kMs;
  const int64_t now = NowNs();
  struct Case {
    int64_t deadline;
    std::string holder;
    int want;
  };
  const std::vector<Case> cases = {
      {INT64_MAX, active_id, th::HAErrorCode::INVALID_LEASE_DEADLINE},
      {now + 3600 * 1000 * kMs, active_id, th::HAErrorCode::INVALID_LEASE_DEADLINE},
      {now + 2 * lease_ns, active_id, th::HAErrorCode::INVALID_LEASE_DEADLINE},
      {-1000, active_id, th::HAErrorCode::INVALID_LEASE_DEADLINE},
      {0, active_id, th::HAErrorCode::INVALID_LEASE_DEADLINE},  // would mean "no lease"
      {now - 1000 * kMs, active_id, th::HAErrorCode::INVALID_LEASE_DEADLINE},
      {now + lease_ns / 2, "", th::HAErrorCode::NOT_LEASE_HOLDER},
      {now + lease_ns / 2, cluster_->nn_id(standby_), th::HAErrorCode::NOT_LEASE_HOLDER},
  };
  for (const Case& k : cases) {
    Outcome o =
        Ha(active_, [&](th::ClientProtocolClient& c) { c.renewLease(k.deadline, k.holder); });
    EXPECT_EQ(o.code, k.want) << "deadline=" << k.deadline << " holder=" << k.holder << ": "
                              << o.ToString();
  }
  // The active's deadline is still its failoverd's: never more than a lease ahead.
  th::HAServiceStatus s = NnStatus(active_);
  ASSERT_TRUE(s.__isset.leaseDeadlineMonoNs);
  EXPECT_LE(s.leaseDeadlineMonoNs, NowNs() + lease_ns);
  // On the standby, even from its own holder id with a valid deadline: not active.
  Outcome o = Ha(standby_, [&](th::ClientProtocolClient& c) {
    c.renewLease(NowNs() + lease_ns / 2, cluster_->nn_id(standby_));
  });
  EXPECT_EQ(o.code, th::HAErrorCode::NOT_ACTIVE) << o.ToString();
  ExpectRolesUnchanged();
}

TEST_F(ValidationTest, CedeActive_DurationOutOfBounds_Refused) {
  for (int32_t ms : {-1000, 0, INT32_MAX, 600001}) {
    Outcome o = Failover(active_, [&](th::FailoverControllerClient& c) { c.cedeActive(ms); });
    EXPECT_EQ(o.code, th::FailoverErrorCode::INVALID_ARGUMENT) << ms << ": " << o.ToString();
  }
  th::FailoverStatus s;
  Outcome o = Failover(active_, [&](th::FailoverControllerClient& c) { c.getStatus(s); });
  ASSERT_TRUE(o.ok) << o.ToString();
  EXPECT_EQ(s.cededRemainingMs, 0);
  EXPECT_TRUE(s.holdsLease);
  ExpectRolesUnchanged();
}

TEST_F(ValidationTest, NamenodePaths_Invalid_AreInvalidPath) {
  const std::vector<std::string> bad = {
      "",
      "relative/path",
      "/a/../b",
      "/a/./b",
      "/..",
      "/a//b",
      "/" + std::string(256, 'x'),
      "/" + std::string(8000, 'x'),
      std::string("/a\0b", 4),
      "/a\nb",
      "/a\x1b[31mred",
      "/tab\there",
      "/del\x7f",
  };
  th::UserInfo ugi;
  ugi.user = "alice";
  ugi.groups = {"users"};
  for (const std::string& p : bad) {
    const std::string shown = p.substr(0, 40);
    Outcome o = Fs(
        active_, [&](th::ClientProtocolClient& c) { c.mkdirs(ugi, p, 0755, true, th::RpcIds()); });
    EXPECT_EQ(o.code, th::FsErrorCode::INVALID_PATH) << "mkdirs " << shown << ": " << o.ToString();
    o = Fs(active_, [&](th::ClientProtocolClient& c) {
      th::FileStatus f;
      c.create(f, ugi, p, 0644, false, 1, 1 << 20, th::RpcIds());
    });
    EXPECT_EQ(o.code, th::FsErrorCode::INVALID_PATH) << "create " << shown << ": " << o.ToString();
    o = Fs(active_, [&](th::ClientProtocolClient& c) {
      th::FileStatus f;
      c.getFileInfo(f, ugi, p, 0);
    });
    EXPECT_EQ(o.code, th::FsErrorCode::INVALID_PATH) << "stat " << shown << ": " << o.ToString();
    o = Fs(active_, [&](th::ClientProtocolClient& c) { c.rename(ugi, "/", p, th::RpcIds()); });
    EXPECT_EQ(o.code, th::FsErrorCode::INVALID_PATH) << "rename " << shown << ": " << o.ToString();
    // On the standby too: INVALID_PATH, not NOT_ACTIVE (which clients retry elsewhere).
    o = Fs(standby_,
           [&](th::ClientProtocolClient& c) { c.mkdirs(ugi, p, 0755, true, th::RpcIds()); });
    EXPECT_EQ(o.code, th::FsErrorCode::INVALID_PATH) << "standby " << shown << ": " << o.ToString();
  }
  // The root is untouched; a valid path still works.
  th::DirectoryListing l;
  Outcome o =
      Fs(active_, [&](th::ClientProtocolClient& c) { c.listStatus(l, ugi, "/", "", 100, 0); });
  ASSERT_TRUE(o.ok) << o.ToString();
  EXPECT_TRUE(l.entries.empty());
  th::UserInfo root;
  root.user = "root";  // the superuser (owner of "/")
  o = Fs(active_,
         [&](th::ClientProtocolClient& c) { c.mkdirs(root, "/ok/dir", 0755, true, th::RpcIds()); });
  EXPECT_TRUE(o.ok) << o.ToString();
}

TEST_F(ValidationTest, JournalIds_InvalidAndCap_Refused) {
  auto format = [](const HostPort& jn, const std::string& id) {
    return CallTyped<th::JournalProtocolClient, th::InvalidRequestException>(
        jn, 10000, [&](th::JournalProtocolClient& c) {
          th::NamespaceInfo ns;
          ns.namespaceId = 7;
          ns.clusterId = "other";
          ns.layoutVersion = 1;
          c.format(id, ns, false);
        });
  };
  for (const std::string& id :
       {std::string(""), std::string(".."), std::string("a/b"), std::string("../../etc"),
        std::string(65, 'j'), std::string(100000, 'j'), std::string("x\0y", 3),
        std::string("sp ace")}) {
    Outcome o = format(Jn(0), id);
    EXPECT_EQ(o.code, th::InvalidRequestCode::INVALID_JOURNAL_ID)
        << id.substr(0, 20) << ": " << o.ToString();
    EXPECT_LT(o.message.size(), 400u);  // a huge id is not echoed back
  }
  // The cap is 3 journals: the cluster's own, then two more; the next new id is refused.
  EXPECT_TRUE(format(Jn(0), "extra1").ok);
  EXPECT_TRUE(format(Jn(0), "extra2").ok);
  Outcome o = format(Jn(0), "extra3");
  EXPECT_EQ(o.code, th::InvalidRequestCode::TOO_MANY_JOURNALS) << o.ToString();
  // An existing journal is still reachable.
  o = CallTyped<th::JournalProtocolClient>(Jn(0), 10000, [&](th::JournalProtocolClient& c) {
    EXPECT_TRUE(c.isFormatted(cluster_->conf().journal.journal_id));
    EXPECT_TRUE(c.isFormatted("extra2"));
  });
  EXPECT_TRUE(o.ok) << o.ToString();
  ExpectRolesUnchanged();
}

// Manual mode: failoverd requests and the failoverd's own calls are refused.
TEST(ValidationManualModeTest, FailoverdCallsAndRequests_AutomaticOff_Refused) {
  HaCluster c(Options(false));
  ASSERT_TRUE(c.Start().ok());
  ASSERT_TRUE(c.WaitForState(0, "standby", 30000));
  const HostPort nn = c.nn_info(0).rpc();
  Outcome o = CallTyped<th::ClientProtocolClient, th::ServiceFailedException>(
      nn, 10000, [&](th::ClientProtocolClient& cl) {
        th::HAStateChangeRequest r;
        r.source = th::RequestSource::REQUEST_BY_FAILOVERD;
        r.__set_holderId("nn1");
        r.__set_leaseDeadlineMonoNs(NowNs() + 1000 * kMs);
        cl.transitionToActive(r);
      });
  EXPECT_EQ(o.code, th::HAErrorCode::AUTOMATIC_FAILOVER_OFF) << o.ToString();
  ASSERT_EQ(c.ServiceState(0), "standby");
  // A user makes nn1 active (manual mode); a renewal, even one naming nn1, is refused.
  o = CallTyped<th::ClientProtocolClient, th::ServiceFailedException>(
      nn, 30000, [&](th::ClientProtocolClient& cl) {
        th::HAStateChangeRequest r;
        r.source = th::RequestSource::REQUEST_BY_USER;
        cl.transitionToActive(r);
      });
  ASSERT_TRUE(o.ok) << o.ToString();
  o = CallTyped<th::ClientProtocolClient, th::ServiceFailedException>(
      nn, 10000, [&](th::ClientProtocolClient& cl) { cl.renewLease(NowNs() + 1000 * kMs, "nn1"); });
  EXPECT_EQ(o.code, th::HAErrorCode::AUTOMATIC_FAILOVER_OFF) << o.ToString();
  th::HAServiceStatus s;
  o = CallTyped<th::ClientProtocolClient>(
      nn, 10000, [&](th::ClientProtocolClient& cl) { cl.getServiceStatus(s); });
  ASSERT_TRUE(o.ok);
  EXPECT_EQ(s.state, th::HAServiceState::ACTIVE);
  EXPECT_FALSE(s.__isset.leaseDeadlineMonoNs);  // still manual: no lease installed
  // The failoverds refuse graceful failover and cede.
  for (int i = 0; i < 2; ++i) {
    o = CallTyped<th::FailoverControllerClient, th::FailoverException>(
        c.nn_info(i).failoverd(), 10000,
        [&](th::FailoverControllerClient& cl) { cl.gracefulFailover(); });
    EXPECT_EQ(o.code, th::FailoverErrorCode::AUTOMATIC_FAILOVER_OFF) << o.ToString();
    o = CallTyped<th::FailoverControllerClient, th::FailoverException>(
        c.nn_info(i).failoverd(), 10000,
        [&](th::FailoverControllerClient& cl) { cl.cedeActive(1000); });
    EXPECT_EQ(o.code, th::FailoverErrorCode::AUTOMATIC_FAILOVER_OFF) << o.ToString();
  }
  EXPECT_EQ(c.ServiceState(0), "active");
}

}  // namespace
}  // namespace qj::testing
