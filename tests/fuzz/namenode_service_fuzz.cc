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
#include <thrift/TProcessor.h>

#include <memory>
#include <string>

#include "namenode/image.h"
#include "namenode/namenode_server.h"
#include "namenode/service_handler.h"
#include "tests/fuzz/fuzz_target.h"
#include "tests/fuzz/local_journal.h"
#include "tests/fuzz/thrift_driver.h"

namespace {

// Lives for the whole process; stopped at exit.
struct Cluster {
  std::unique_ptr<qj::fuzz::LocalJournal> journal;
  std::unique_ptr<qj::nn::NamenodeServer> nn;
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
  c->journal.reset();
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
  c->journal = std::make_unique<qj::fuzz::LocalJournal>(dir + "/journal", conf.journal.journal_id,
                                                        conf.namespace_id, conf.cluster_id);
  conf.journal.journalnodes = c->journal->addresses();
  qj::NamenodeInfo nn1;
  nn1.id = "nn1";
  nn1.host = "127.0.0.1";
  nn1.rpc_port = qj::fuzz::FreePort();
  nn1.failoverd_port = qj::fuzz::FreePort();
  conf.namenodes.push_back(nn1);

  qj::nn::NamenodeOptions o;
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

  qj::nn::FsNamespace empty(o.ns_options);
  qj::Status s = qj::nn::SaveImage(empty, 0, o.name_dir);
  QJ_FUZZ_CHECK(s.ok(), s.ToString());
  c->nn = std::make_unique<qj::nn::NamenodeServer>(o);
  s = c->nn->Start();
  QJ_FUZZ_CHECK(s.ok(), s.ToString());
  MakeActive(c);
  c->processor = qj::nn::NewNamenodeProcessor(c->nn.get());
  cluster = c;
  atexit(StopCluster);
  return c;
}

}  // namespace

QJ_FUZZ_TARGET(namenode_service) {
  if (cluster == nullptr) Start();
  // The limits NamenodeRpcServer serves with (rpc::Server reads without strict_read).
  const qj::rpc::ServerOptions server = qj::nn::NamenodeRpcServerOptions();
  qj::fuzz::ProtocolLimits limits;
  limits.max_frame_bytes = server.max_frame_bytes;
  limits.max_string_bytes = server.max_string_bytes;
  limits.max_container_elements = server.max_container_elements;
  limits.strict_read = false;
  qj::fuzz::ProcessFramed(cluster->processor.get(), data, limits);
  const qj::nn::NamenodeStatus st = cluster->nn->GetStatus();
  if (st.role != qj::nn::HaRole::kActive || st.lease_deadline_mono_ns != 0 ||
      !cluster->nn->CheckHealth().ok()) {
    MakeActive(cluster);
  }
}
