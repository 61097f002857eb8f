// TLS and authorization against real daemons (journalnodes, a namenode, a failoverd) on
// 127.0.0.1, with certificates made by scripts/make-certs.sh; and the server limits
// (connection cap, idle timeout, a connection flood) of common/rpc/rpc.h.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ClientProtocol.h"
#include "FailoverController.h"
#include "JournalProtocol.h"
#include "common/rpc/authz.h"
#include "common/rpc/rpc.h"
#include "journalnode/journal_node.h"
#include "journalnode/journal_service.h"
#include "rpc_types.h"
#include "tests/support/process.h"
#include "tests/support/raw_conn.h"

namespace qj {
namespace {

namespace th = qjournal::thrift;
using testing::BinaryPath;
using testing::PickFreePorts;
using testing::Process;
using testing::RunCommand;
using testing::TempDir;
using testing::WaitForPort;

std::string SourceDir() {
  // QJ_BINARY_DIR is <source>/build or similar; the scripts are found from the source
  // tree, given to the test by CMake.
  return QJ_SOURCE_DIR;
}

// Whether the server closed fd within timeout_ms (a read returns 0 or an error).
bool ClosedByServer(int fd, int timeout_ms) {
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  char c;
  ssize_t n = ::recv(fd, &c, 1, 0);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

double P99(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, v.size() * 99 / 100)];
}

class SecureCluster : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("qjsec");
    const std::string d = dir_->path();
    auto ports = PickFreePorts(6);
    jn_ports_ = {ports[0], ports[1], ports[2]};
    nn1_port_ = ports[3];
    fo1_port_ = ports[4];
    nn2_port_ = ports[5];
    conf_ = d + "/cluster.conf";
    std::ofstream(conf_) << "namespace.id = 7\ncluster.id = sec\n"
                         << "journal.uri = qjournal://127.0.0.1:" << ports[0]
                         << ";127.0.0.1:" << ports[1] << ";127.0.0.1:" << ports[2] << "/ns1\n"
                         << "namenode.ids = nn1,nn2\n"
                         << "namenode.nn1.host = 127.0.0.1\nnamenode.nn1.rpc_port = " << nn1_port_
                         << "\nnamenode.nn1.failoverd_port = " << fo1_port_ << "\n"
                         << "namenode.nn2.host = 127.0.0.1\nnamenode.nn2.rpc_port = " << nn2_port_
                         << "\nnamenode.nn2.failoverd_port = " << nn2_port_ + 1 << "\n"
                         << "failover.automatic = false\n"
                         << "tls.enabled = true\ntls.ca_file = certs/ca.crt\n"
                         << "tls.cert_dir = certs\nsecurity.admins = admin\n"
                         << "rpc.max_connections = 3000\nsecurity.superusers = admin\n";
    std::string out;
    const std::string script = SourceDir() + "/scripts/make-certs.sh";
    // make-certs.sh reads the cluster file with this build's qjournal.
    const std::string build = "QJ_BUILD_DIR=" + BinaryPath(".");
    ASSERT_EQ(RunCommand({"/usr/bin/env", build, script, d + "/certs", conf_, "alice"}, &out), 0)
        << out;
    ASSERT_EQ(
        RunCommand({"/usr/bin/env", build, "QJ_CERT_EXPIRED=1", script, d + "/certs", conf_, "old"},
                   &out),
        0)
        << out;
    // Another CA with the same identities.
    ASSERT_EQ(RunCommand({"/usr/bin/env", build, script, d + "/other", conf_}, &out), 0) << out;

    const std::string peers = "127.0.0.1:" + std::to_string(ports[0]) +
                              ",127.0.0.1:" + std::to_string(ports[1]) +
                              ",127.0.0.1:" + std::to_string(ports[2]);
    for (int i = 0; i < 3; ++i) {
      auto* p = new Process();
      p->Start({BinaryPath("journalnode/journalnode"), "--cluster_conf=" + conf_,
                "--journalnode_name=jn" + std::to_string(i + 1),
                "--journalnode_rpc_port=" + std::to_string(jn_ports_[i]),
                "--journalnode_edits_dir=" + d + "/jn" + std::to_string(i + 1),
                "--journalnode_peers=" + peers},
               d + "/jn" + std::to_string(i + 1) + ".log");
      procs_.push_back(p);
    }
    for (int port : jn_ports_) ASSERT_TRUE(WaitForPort(port, 10000));
    const std::vector<std::string> nn1 = {BinaryPath("namenode/namenode"),
                                          "--cluster_conf=" + conf_, "--namenode_id=nn1",
                                          "--namenode_name_dir=" + d + "/nn1"};
    std::vector<std::string> fmt = nn1;
    fmt.push_back("--format");
    fmt.push_back("--tls_identity=admin");
    ASSERT_EQ(RunCommand(fmt, &out), 0) << out;
    auto* n = new Process();
    n->Start(nn1, d + "/nn1.log");
    procs_.push_back(n);
    ASSERT_TRUE(WaitForPort(nn1_port_, 20000));
    auto* f = new Process();
    f->Start({BinaryPath("failover/failoverd"), "--cluster_conf=" + conf_, "--namenode_id=nn1"},
             d + "/fo1.log");
    procs_.push_back(f);
    ASSERT_TRUE(WaitForPort(fo1_port_, 20000));
  }

  static void TearDownTestSuite() {
    for (auto it = procs_.rbegin(); it != procs_.rend(); ++it) delete *it;
    procs_.clear();
    delete dir_;
    dir_ = nullptr;
  }

  static rpc::ClientOptions As(const std::string& identity, const std::string& cert_dir = "certs") {
    rpc::ClientOptions o;
    o.connect_timeout_ms = o.send_timeout_ms = o.recv_timeout_ms = 10000;
    o.tls.enabled = true;
    o.tls.ca_file = dir_->path() + "/certs/ca.crt";
    if (!identity.empty()) {
      o.tls.cert_file = dir_->path() + "/" + cert_dir + "/" + identity + ".crt";
      o.tls.key_file = dir_->path() + "/" + cert_dir + "/" + identity + ".key";
    }
    return o;
  }

  // Runs fn on a fresh client of service C at port as `identity`; returns "denied: <rule>",
  // "ok", or "error: ..." (any other failure, e.g. a typed refusal by the handler).
  template <typename C>
  static std::string Try(int port, const rpc::ClientOptions& o, const std::function<void(C&)>& fn) {
    auto conn = rpc::Connect(HostPort{"127.0.0.1", port}, o);
    if (!conn.ok()) return "error: " + conn.status().ToString();
    C client((*conn)->in(), (*conn)->out());
    try {
      fn(client);
      return "ok";
    } catch (const th::AccessDeniedException& e) {
      return "denied: " + e.rule;
    } catch (const std::exception& e) {
      return std::string("error: ") + e.what();
    }
  }

  static TempDir* dir_;
  static std::vector<Process*> procs_;
  static std::string conf_;
  static std::vector<int> jn_ports_;
  static int nn1_port_, fo1_port_, nn2_port_;
};

TempDir* SecureCluster::dir_ = nullptr;
std::vector<Process*> SecureCluster::procs_;
std::string SecureCluster::conf_;
std::vector<int> SecureCluster::jn_ports_;
int SecureCluster::nn1_port_ = 0;
int SecureCluster::fo1_port_ = 0;
int SecureCluster::nn2_port_ = 0;

using JnFn = std::function<void(th::JournalProtocolClient&)>;

th::RequestInfo Req() {
  th::RequestInfo r;
  r.journalId = "authz";
  r.epoch = 1;
  r.ipcSerialNumber = 1;
  r.committedTxId = -1;
  return r;
}

TEST_F(SecureCluster, HandshakeRefusesMissingForeignAndExpiredCertificates) {
  const int port = jn_ports_[0];
  JnFn call = [](th::JournalProtocolClient& c) { c.isFormatted("ns1"); };
  EXPECT_EQ(Try<th::JournalProtocolClient>(port, As("admin"), call), "ok");
  // No client certificate.
  EXPECT_EQ(Try<th::JournalProtocolClient>(port, As(""), call).rfind("error: ", 0), 0u);
  // A certificate from another CA (same name).
  EXPECT_EQ(Try<th::JournalProtocolClient>(port, As("admin", "other"), call).rfind("error: ", 0),
            0u);
  // An expired certificate from the cluster CA.
  EXPECT_EQ(Try<th::JournalProtocolClient>(port, As("old"), call).rfind("error: ", 0), 0u);
  // Plaintext to the TLS port.
  rpc::ClientOptions plain;
  plain.recv_timeout_ms = 3000;
  rpc::SetProcessTls({});
  EXPECT_EQ(Try<th::JournalProtocolClient>(port, plain, call).rfind("error: ", 0), 0u);
  // The namenode and the failoverd refuse the same way.
  std::function<void(th::ClientProtocolClient&)> nn_call = [](th::ClientProtocolClient& c) {
    th::HAServiceStatus s;
    c.getServiceStatus(s);
  };
  EXPECT_EQ(Try<th::ClientProtocolClient>(nn1_port_, As("alice"), nn_call), "ok");
  EXPECT_EQ(Try<th::ClientProtocolClient>(nn1_port_, As(""), nn_call).rfind("error: ", 0), 0u);
  EXPECT_EQ(Try<th::ClientProtocolClient>(nn1_port_, As("old"), nn_call).rfind("error: ", 0), 0u);
  std::function<void(th::FailoverControllerClient&)> fo_call = [](th::FailoverControllerClient& c) {
    th::FailoverStatus s;
    c.getStatus(s);
  };
  EXPECT_EQ(Try<th::FailoverControllerClient>(fo1_port_, As("alice"), fo_call), "ok");
  EXPECT_EQ(Try<th::FailoverControllerClient>(fo1_port_, As("admin", "other"), fo_call)
                .rfind("error: ", 0),
            0u);
}

struct Case {
  const char* method;
  std::vector<const char*> allowed;  // each must get past authorization
  std::vector<const char*> denied;   // valid certificates of the wrong role
};

TEST_F(SecureCluster, EveryJournalCallIsAuthorizedByRole) {
  th::NamespaceInfo ns;
  ns.namespaceId = 99;
  ns.clusterId = "authz";
  ns.layoutVersion = 1;
  std::map<std::string, JnFn> calls = {
      {"format", [&](auto& c) { c.format("authz", ns, true); }},
      {"isFormatted", [](auto& c) { c.isFormatted("authz"); }},
      {"getJournalState",
       [](auto& c) {
         th::JournalState s;
         c.getJournalState(s, "authz");
       }},
      {"newEpoch",
       [&](auto& c) {
         th::NewEpochResponse r;
         c.newEpoch(r, "authz", ns, 1);
       }},
      {"heartbeat", [](auto& c) { c.heartbeat(Req()); }},
      {"startLogSegment", [](auto& c) { c.startLogSegment(Req(), 1, 1); }},
      {"journal", [](auto& c) { c.journal(Req(), 1, 1, 0, ""); }},
      {"finalizeLogSegment", [](auto& c) { c.finalizeLogSegment(Req(), 1, 1); }},
      {"purgeLogs", [](auto& c) { c.purgeLogs(Req(), 1); }},
      {"getEditLogManifest",
       [](auto& c) {
         th::EditLogManifest m;
         c.getEditLogManifest(m, "authz", 1, false);
       }},
      {"getJournaledEdits",
       [](auto& c) {
         th::JournaledEdits e;
         c.getJournaledEdits(e, "authz", 1, 10);
       }},
      {"prepareRecovery",
       [](auto& c) {
         th::PrepareRecoveryResponse r;
         c.prepareRecovery(r, Req(), 1);
       }},
      {"acceptRecovery",
       [](auto& c) {
         th::SegmentInfo s;
         c.acceptRecovery(Req(), s, "", 0);
       }},
      {"getSegmentChunk",
       [](auto& c) {
         th::SegmentChunk s;
         c.getSegmentChunk(s, "authz", 1, 1, 0, 10);
       }},
      {"acquireLease",
       [](auto& c) {
         th::LeaseResponse r;
         c.acquireLease(r, "authz", "x", 1000);
       }},
      {"releaseLease", [](auto& c) { c.releaseLease("authz", "x"); }},
  };
  const std::vector<const char*> writer = {
      "newEpoch",           "heartbeat", "startLogSegment", "journal",
      "finalizeLogSegment", "purgeLogs", "prepareRecovery", "acceptRecovery"};
  std::vector<Case> cases;
  for (const char* m : writer)
    cases.push_back({m, {"nn1", "nn2"}, {"failoverd-nn1", "admin", "jn1", "alice"}});
  cases.push_back({"format", {"admin"}, {"nn1", "jn1", "failoverd-nn1", "alice"}});
  cases.push_back({"isFormatted", {"nn1", "jn2", "admin"}, {"failoverd-nn1", "alice"}});
  cases.push_back({"getJournalState", {"nn1", "jn2", "admin"}, {"failoverd-nn1", "alice"}});
  cases.push_back({"getJournaledEdits", {"nn1", "admin"}, {"jn1", "failoverd-nn1", "alice"}});
  cases.push_back({"getEditLogManifest", {"jn2"}, {"nn1", "admin", "failoverd-nn1", "alice"}});
  cases.push_back({"getSegmentChunk", {"jn2"}, {"nn1", "admin", "failoverd-nn1", "alice"}});
  cases.push_back({"acquireLease", {"failoverd-nn1"}, {"nn1", "admin", "jn1", "alice"}});
  cases.push_back({"releaseLease", {"failoverd-nn1"}, {"nn1", "admin", "jn1", "alice"}});
  ASSERT_EQ(cases.size(), calls.size());
  for (const Case& c : cases) {
    for (const char* id : c.denied) {
      EXPECT_EQ(Try<th::JournalProtocolClient>(jn_ports_[0], As(id), calls.at(c.method))
                    .rfind("denied: ", 0),
                0u)
          << c.method << " as " << id;
    }
    for (const char* id : c.allowed) {
      EXPECT_NE(Try<th::JournalProtocolClient>(jn_ports_[0], As(id), calls.at(c.method))
                    .rfind("denied", 0),
                0u)
          << c.method << " as " << id;
    }
  }
  // The refusal names the rule.
  EXPECT_EQ(Try<th::JournalProtocolClient>(jn_ports_[0], As("alice"), calls.at("newEpoch")),
            "denied: journal writer calls: namenodes only");
}

TEST_F(SecureCluster, NamenodeAndFailoverdCallsAreAuthorizedByRole) {
  using NnFn = std::function<void(th::ClientProtocolClient&)>;
  th::HAStateChangeRequest req;
  req.source = th::RequestSource::REQUEST_BY_USER;
  std::map<std::string, NnFn> nn = {
      {"transitionToStandby", [&](auto& c) { c.transitionToStandby(req); }},
      {"renewLease", [](auto& c) { c.renewLease(1, "nn1"); }},
      {"fetchImage",
       [](auto& c) {
         std::string s;
         c.fetchImage(s, 0, 0, 10);
       }},
      {"latestImageTxId", [](auto& c) { c.latestImageTxId(); }},
      {"transitionToActive", [&](auto& c) { c.transitionToActive(req); }},
      {"saveNamespace", [](auto& c) { c.saveNamespace(); }},
      {"rollEdits", [](auto& c) { c.rollEdits(); }},
      {"getNamenodeReport",
       [](auto& c) {
         th::NamenodeReport r;
         c.getNamenodeReport(r);
       }},
  };
  for (const char* m : {"transitionToStandby", "renewLease", "transitionToActive"}) {
    for (const char* id : {"nn2", "jn1", "alice"}) {
      EXPECT_EQ(Try<th::ClientProtocolClient>(nn1_port_, As(id), nn.at(m)).rfind("denied: ", 0), 0u)
          << m << " as " << id;
    }
  }
  for (const char* m : {"fetchImage", "latestImageTxId"}) {
    for (const char* id : {"failoverd-nn1", "jn1", "alice"}) {
      EXPECT_EQ(Try<th::ClientProtocolClient>(nn1_port_, As(id), nn.at(m)).rfind("denied: ", 0), 0u)
          << m << " as " << id;
    }
    EXPECT_EQ(Try<th::ClientProtocolClient>(nn1_port_, As("nn2"), nn.at(m)), "ok") << m;
  }
  EXPECT_NE(Try<th::ClientProtocolClient>(nn1_port_, As("failoverd-nn1"), nn.at("renewLease"))
                .rfind("denied", 0),
            0u);
  // Allowed: an admin makes nn1 active (its journal writer runs over TLS as nn1).
  EXPECT_EQ(Try<th::ClientProtocolClient>(nn1_port_, As("admin"), nn.at("transitionToActive")),
            "ok");
  // Namenode administration (qjadmin): admins only.
  for (const char* m : {"saveNamespace", "rollEdits", "getNamenodeReport"}) {
    for (const char* id : {"nn2", "failoverd-nn1", "jn1", "alice"}) {
      EXPECT_EQ(Try<th::ClientProtocolClient>(nn1_port_, As(id), nn.at(m)).rfind("denied: ", 0), 0u)
          << m << " as " << id;
    }
  }
  EXPECT_EQ(Try<th::ClientProtocolClient>(nn1_port_, As("admin"), nn.at("getNamenodeReport")),
            "ok");
  EXPECT_EQ(Try<th::ClientProtocolClient>(nn1_port_, As("admin"), nn.at("rollEdits")), "ok");

  // With TLS the user is the certificate's identity: alice claims to be hdfs.
  th::UserInfo claimed;
  claimed.user = "hdfs";
  claimed.groups = {"supergroup"};
  // The claimed superuser and supergroup do not let alice write the root.
  NnFn mk_root = [&](th::ClientProtocolClient& c) {
    c.mkdirs(claimed, "/alice-dir", 0755, true, th::RpcIds());
  };
  EXPECT_NE(
      Try<th::ClientProtocolClient>(nn1_port_, As("alice"), mk_root).find("PERMISSION_DENIED"),
      std::string::npos);
  // An admin (security.superusers) makes a world-writable directory; alice's directory in
  // it is owned by alice, whatever she claims.
  NnFn mk_tmp = [&](th::ClientProtocolClient& c) {
    th::UserInfo nobody;
    nobody.user = "nobody";
    c.mkdirs(nobody, "/tmp", 0777, true, th::RpcIds());
    c.setPermission(nobody, "/tmp", 0777);
  };
  EXPECT_EQ(Try<th::ClientProtocolClient>(nn1_port_, As("admin"), mk_tmp), "ok");
  std::string owner;
  NnFn mk = [&](th::ClientProtocolClient& c) {
    c.mkdirs(claimed, "/tmp/alice-dir", 0755, true, th::RpcIds());
    th::FileStatus st;
    c.getFileInfo(st, claimed, "/tmp/alice-dir", 0);
    owner = st.owner;
  };
  EXPECT_EQ(Try<th::ClientProtocolClient>(nn1_port_, As("alice"), mk), "ok");
  EXPECT_EQ(owner, "alice");

  using FoFn = std::function<void(th::FailoverControllerClient&)>;
  FoFn cede = [](th::FailoverControllerClient& c) { c.cedeActive(1); };
  FoFn graceful = [](th::FailoverControllerClient& c) { c.gracefulFailover(); };
  for (const FoFn& f : {cede, graceful}) {
    for (const char* id : {"nn1", "jn1", "alice"}) {
      EXPECT_EQ(Try<th::FailoverControllerClient>(fo1_port_, As(id), f)
                    .rfind("denied: failover control", 0),
                0u)
          << id;
    }
  }
  EXPECT_NE(Try<th::FailoverControllerClient>(fo1_port_, As("admin"), cede).rfind("denied", 0), 0u);

  // nn2 is down: transitionToStandby by an admin is allowed (the call reaches nn1).
  EXPECT_EQ(Try<th::ClientProtocolClient>(nn1_port_, As("admin"), nn.at("transitionToStandby")),
            "ok");
}

// 2000 idle connections (TLS handshakes never started) against a journalnode and the
// namenode: legitimate calls are still served. Prints their p99 latency.
TEST_F(SecureCluster, ConnectionFloodLeavesLegitimateCallsServed) {
  for (int port : {jn_ports_[1], nn1_port_}) {
    std::vector<int> fds;
    for (int i = 0; i < 2000; ++i) {
      // A raw connection that never speaks (an idle client, or a TLS handshake that
      // never starts).
      int fd = testing::RawConnect(port);
      if (fd >= 0) fds.push_back(fd);
    }
    EXPECT_EQ(fds.size(), 2000u);
    std::vector<double> ms;
    int ok = 0;
    for (int i = 0; i < 200; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      std::string r;
      if (port == nn1_port_) {
        r = Try<th::ClientProtocolClient>(port, As("alice"), [](th::ClientProtocolClient& c) {
          th::HAServiceStatus s;
          c.getServiceStatus(s);
        });
      } else {
        r = Try<th::JournalProtocolClient>(port, As("nn1"), [](th::JournalProtocolClient& c) {
          th::JournalState s;
          c.getJournalState(s, "ns1");
        });
      }
      ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      ok += r == "ok";
    }
    EXPECT_EQ(ok, 200);
    // The same calls on one connection, opened during the flood and reused.
    std::vector<double> reused_ms;
    int reused_ok = 0;
    if (port == nn1_port_) {
      rpc::Client<th::ClientProtocolClient> c(HostPort{"127.0.0.1", port}, As("alice"));
      for (int i = 0; i < 1000; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        Status st = c.Call("getServiceStatus", [](th::ClientProtocolClient* cl) {
          th::HAServiceStatus s;
          cl->getServiceStatus(s);
          return Status::OK();
        });
        reused_ms.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count());
        reused_ok += st.ok();
      }
    } else {
      rpc::Client<th::JournalProtocolClient> c(HostPort{"127.0.0.1", port}, As("nn1"));
      for (int i = 0; i < 1000; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        Status st = c.Call("getJournalState", [](th::JournalProtocolClient* cl) {
          th::JournalState s;
          cl->getJournalState(s, "ns1");
          return Status::OK();
        });
        reused_ms.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count());
        reused_ok += st.ok();
      }
    }
    EXPECT_EQ(reused_ok, 1000);
    std::printf(
        "flood: %zu idle connections to %s: 1000 legitimate calls on one TLS connection, "
        "p99 %.2f ms\n",
        fds.size(), port == nn1_port_ ? "nn1" : "jn2", P99(reused_ms));
    std::printf(
        "flood: %zu idle connections to %s: 200 legitimate calls (new TLS connection each), "
        "p99 %.2f ms\n",
        fds.size(), port == nn1_port_ ? "nn1" : "jn2", P99(ms));
    for (int fd : fds) ::close(fd);
  }
}

// The cap and the idle timeout, on a journalnode served in this process.
TEST(ServerLimits, ConnectionsBeyondTheCapAreClosedAndIdleOnesTimeOut) {
  TempDir dir("qjlimits");
  jn::JournalNodeOptions jo;
  jo.name = "jn-limits";
  jo.edits_dir = dir.path() + "/jn";
  auto node = jn::JournalNode::Open(jo);
  ASSERT_TRUE(node.ok()) << node.status();
  rpc::ServerOptions so = jn::JournalServerOptions();
  so.name = jo.name;
  so.port = PickFreePorts(1)[0];
  so.max_connections = 10;
  so.idle_timeout_ms = 6000;
  jn::JournalServer server(node->get(), so);
  std::thread t([&] { (void)server.Serve(); });
  ASSERT_TRUE(WaitForPort(so.port, 5000));
  // Ten connections, each proven served by one call, then left idle.
  std::vector<std::unique_ptr<rpc::Connection>> conns;
  for (int i = 0; i < 10; ++i) {
    auto c = rpc::Connect(HostPort{"127.0.0.1", so.port}, rpc::ClientOptions{});
    ASSERT_TRUE(c.ok()) << c.status();
    th::JournalProtocolClient client((*c)->in(), (*c)->out());
    EXPECT_FALSE(client.isFormatted("x"));
    conns.push_back(std::move(*c));
  }
  // An 11th is served: the connection idle longest (the first) is closed to make room.
  {
    auto c = rpc::Connect(HostPort{"127.0.0.1", so.port}, rpc::ClientOptions{});
    ASSERT_TRUE(c.ok()) << c.status();
    th::JournalProtocolClient client((*c)->in(), (*c)->out());
    EXPECT_FALSE(client.isFormatted("x"));
    EXPECT_TRUE(ClosedByServer(conns[0]->fd(), 3000)) << "the longest-idle connection stayed open";
    EXPECT_FALSE(ClosedByServer(conns[1]->fd(), 100)) << "another connection was closed too";
    conns.push_back(std::move(*c));
  }
  // Idle ones go after the idle timeout; then new connections are served again.
  for (auto& c : conns) EXPECT_TRUE(ClosedByServer(c->fd(), 8000));
  conns.clear();
  rpc::ClientOptions o;
  rpc::Client<th::JournalProtocolClient> c(HostPort{"127.0.0.1", so.port}, o);
  Status st = c.Call("isFormatted", [](th::JournalProtocolClient* cl) {
    cl->isFormatted("x");
    return Status::OK();
  });
  EXPECT_TRUE(st.ok()) << st;
  server.Stop();
  t.join();
}

TEST(Rpc, RefusedIsToldApartFromUnreachableByCode) {
  const int port = PickFreePorts(1)[0];
  auto c = rpc::Connect(HostPort{"127.0.0.1", port}, rpc::ClientOptions{});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kConnectionRefused) << c.status();
}

}  // namespace
}  // namespace qj
