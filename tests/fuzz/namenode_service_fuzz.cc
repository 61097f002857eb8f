// The namenode's RPC surface: the real generated ClientProtocol processor and the real
// handler (namenode/service_handler.h) over a real, ACTIVE NamenodeServer whose journal is
// three real journalnodes served over Thrift on 127.0.0.1 in this process (ports picked
// here). The input is one client connection's framed byte stream; every call decodes,
// runs against the live namespace and is journaled on the quorum when it mutates.
//
// Unlike the other targets the state is NOT fresh per input (a namenode with a quorum
// takes far too long to start for that): the namespace grows across inputs, and after an
// input that left the namenode not serving (transitionToStandby, a lapsed renewLease) it
// is made active again. A crash input therefore reproduces most reliably from the same
// corpus order; its own bytes are usually enough, since each seed builds what it uses.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <thrift/TProcessor.h>

#include "journalnode/client/quorum_writer.h"
#include "journalnode/journal_node.h"
#include "journalnode/journal_service.h"
#include "namenode/image.h"
#include "namenode/namenode_server.h"
#include "namenode/service_handler.h"
#include "tests/fuzz/fuzz_target.h"
#include "tests/fuzz/thrift_driver.h"

namespace {

// A port on 127.0.0.1 free at the time of asking (the kernel's pick for port 0).
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  QJ_FUZZ_CHECK(fd >= 0, "socket");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  QJ_FUZZ_CHECK(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0, "bind");
  socklen_t len = sizeof(a);
  QJ_FUZZ_CHECK(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0, "getsockname");
  close(fd);
  return ntohs(a.sin_port);
}

struct JnProcess {
  std::unique_ptr<qj::jn::JournalNode> node;
  std::unique_ptr<qj::jn::JournalServer> server;
  std::thread thread;
};

// Lives for the whole process; stopped at exit.
struct Cluster {
  std::vector<JnProcess> jns;
  std::unique_ptr<qj::NamenodeServer> nn;
  std::shared_ptr<apache::thrift::TProcessor> processor;
};

void MakeActive(Cluster* c) {
  qj::Status s = c->nn->TransitionToStandby();
  (void)s;  // already standby is fine
  s = c->nn->TransitionToActive(0);
  QJ_FUZZ_CHECK(s.ok(), "the namenode cannot become active again: " + s.ToString());
}

Cluster* cluster = nullptr;

// At exit (libFuzzer's, or the gtest binary's): stop the namenode, then the journalnodes.
void StopCluster() {
  Cluster* c = cluster;
  if (c == nullptr) return;
  c->processor.reset();
  c->nn->Stop();
  for (auto& jn : c->jns) {
    jn.server->Stop();
    jn.thread.join();
    jn.node->Shutdown();
  }
}

Cluster* Start() {
  auto* c = new Cluster();
  const std::string dir = qj::fuzz::ScratchDir() + "/namenode_service";
  qj::fuzz::ResetDir(dir);
  qj::ClusterConfig conf;
  conf.namespace_id = 7;
  conf.cluster_id = "c1";
  conf.journal.journal_id = "ns1";
  conf.automatic_failover = false;
  for (int i = 0; i < 3; ++i) {
    const int port = FreePort();
    conf.journal.journalnodes.push_back(qj::HostPort{"127.0.0.1", port});
    qj::jn::JournalNodeOptions o;
    o.name = "jn" + std::to_string(i);
    o.edits_dir = dir + "/jn" + std::to_string(i);
    o.self_address = "127.0.0.1:" + std::to_string(port);
    qj::fuzz::ResetDir(o.edits_dir);
    auto node = qj::jn::JournalNode::Open(o);
    QJ_FUZZ_CHECK(node.ok(), node.status().ToString());
    JnProcess jn;
    jn.node = std::move(*node);
    qj::jn::ServerOptions so;
    so.port = port;
    jn.server = std::make_unique<qj::jn::JournalServer>(jn.node.get(), so);
    qj::jn::JournalServer* server = jn.server.get();
    jn.thread = std::thread([server] {
      qj::Status s = server->Serve();
      QJ_FUZZ_CHECK(s.ok(), s.ToString());
    });
    c->jns.push_back(std::move(jn));
  }
  qj::NamenodeInfo nn1;
  nn1.id = "nn1";
  nn1.host = "127.0.0.1";
  nn1.rpc_port = FreePort();
  nn1.failoverd_port = FreePort();
  conf.namenodes.push_back(nn1);

  qj::NamenodeOptions o;
  o.namenode_id = "nn1";
  o.cluster = conf;
  o.name_dir = dir + "/name";
  o.ns_options.namespace_id = conf.namespace_id;
  o.quorum.journalnodes = conf.journal.journalnodes;
  o.quorum.journal_id = conf.journal.journal_id;
  o.quorum.name = "nn1";
  o.checkpoint_check_interval_ms = 3600 * 1000;
  o.commit_timeout_ms = 10000;
  qj::fuzz::ResetDir(o.name_dir);

  qj::jn::NamespaceInfo ns;
  ns.namespace_id = conf.namespace_id;
  ns.cluster_id = conf.cluster_id;
  qj::Status s;
  // The servers start listening on their own threads: retry until all answer, with force
  // after the first try (which may have formatted the nodes already listening).
  for (int i = 0; i < 100; ++i) {
    s = qj::jn::FormatJournal(o.quorum, ns, /*force=*/i > 0);
    if (s.ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  QJ_FUZZ_CHECK(s.ok(), "formatting the journal: " + s.ToString());
  qj::FsNamespace empty(o.ns_options);
  s = qj::SaveImage(empty, 0, o.name_dir);
  QJ_FUZZ_CHECK(s.ok(), s.ToString());
  c->nn = std::make_unique<qj::NamenodeServer>(o);
  s = c->nn->Start();
  QJ_FUZZ_CHECK(s.ok(), s.ToString());
  MakeActive(c);
  c->processor = qj::NewNamenodeProcessor(c->nn.get());
  cluster = c;
  atexit(StopCluster);
  return c;
}

}  // namespace

QJ_FUZZ_TARGET(namenode_service) {
  if (cluster == nullptr) Start();
  const qj::RpcServerOptions server;  // the limits NamenodeRpcServer serves with
  qj::fuzz::ProtocolLimits limits;
  limits.max_frame_bytes = server.max_frame_bytes;
  limits.max_string_bytes = server.max_string_bytes;
  limits.max_container_elements = server.max_container_elements;
  limits.strict_read = true;
  qj::fuzz::ProcessFramed(cluster->processor.get(), data, limits);
  const qj::NamenodeStatus st = cluster->nn->GetStatus();
  if (st.role != qj::HaRole::kActive || st.lease_deadline_mono_ns != 0 ||
      !cluster->nn->CheckHealth().ok()) {
    MakeActive(cluster);
  }
}
