// The failoverd's RPC surface (thrift/failover.thrift): the real generated
// FailoverController processor and the real handler (failover/failover_service.h) over
// real Controllers, whose lease client talks to three real journalnodes served over Thrift
// on 127.0.0.1 in this process. Two controllers, chosen by the input's first byte (even:
// nn1, odd: nn2); the rest of the input is one connection's framed byte stream:
//  * nn1 with automatic failover on: cedeActive and gracefulFailover reach the controller
//    core (a cede releases the lease through the journalnodes; a graceful failover asks
//    nn2's failoverd, whose port nothing serves, and fails);
//  * nn2 with automatic failover off: both are refused before the controller sees them.
// No namenode runs, so both controllers see theirs UNRESPONSIVE and never make it active.
//
// As in namenode_service, the controllers are started once and keep their state across
// inputs (a cede keeps nn1 out of the contest for up to 10 minutes).
#include <thrift/TProcessor.h>

#include <memory>
#include <string>

#include "common/clock.h"
#include "failover/controller.h"
#include "failover/failover_service.h"
#include "journalnode/client/lease_client.h"
#include "tests/fuzz/fuzz_target.h"
#include "tests/fuzz/local_journal.h"
#include "tests/fuzz/thrift_driver.h"

namespace {

struct Failoverds {
  std::unique_ptr<qj::fuzz::LocalJournal> journal;
  std::unique_ptr<qj::fo::Controller> controllers[2];
  std::shared_ptr<apache::thrift::TProcessor> processors[2];
};

Failoverds* failoverds = nullptr;

// At exit (libFuzzer's, or the gtest binary's): the controllers, then the journalnodes.
void StopFailoverds() {
  Failoverds* f = failoverds;
  if (f == nullptr) return;
  for (int i = 0; i < 2; ++i) {
    f->processors[i].reset();
    f->controllers[i]->Stop();
    f->controllers[i].reset();
  }
  f->journal.reset();
}

void Start() {
  auto* f = new Failoverds();
  const std::string dir = qj::fuzz::ScratchDir() + "/failover_service";
  qj::fuzz::ResetDir(dir);
  qj::ClusterConfig conf;
  conf.namespace_id = 7;
  conf.cluster_id = "c1";
  conf.journal.journal_id = "ns1";
  conf.automatic_failover = true;
  conf.lease_duration_ms = 1500;
  f->journal = std::make_unique<qj::fuzz::LocalJournal>(dir + "/journal", conf.journal.journal_id,
                                                        conf.namespace_id, conf.cluster_id);
  conf.journal.journalnodes = f->journal->addresses();
  for (const char* id : {"nn1", "nn2"}) {
    qj::NamenodeInfo nn;
    nn.id = id;
    nn.host = "127.0.0.1";
    nn.rpc_port = qj::fuzz::FreePort();  // nothing listens: the namenode is down
    nn.failoverd_port = qj::fuzz::FreePort();
    conf.namenodes.push_back(nn);
  }
  for (int i = 0; i < 2; ++i) {
    qj::fo::ControllerOptions o;
    o.namenode_id = conf.namenodes[i].id;
    o.automatic = (i == 0);
    o.health.interval_ms = 100;
    o.health.timeout_ms = 200;
    o.rpc_timeout_ms = 500;
    o.transition_timeout_ms = 1000;
    o.graceful_acquire_timeout_ms = 500;
    qj::jn::LeaseClientOptions lo;
    lo.journal_id = conf.journal.journal_id;
    lo.holder_id = o.namenode_id;
    lo.duration_ms = conf.lease_duration_ms;
    lo.round_timeout_ms = 500;
    auto lease = qj::jn::NewLeaseClient(lo, conf.journal.journalnodes, o.rpc_timeout_ms,
                                        qj::RealClock::Get());
    f->controllers[i] =
        std::make_unique<qj::fo::Controller>(o, conf, std::move(lease), qj::RealClock::Get());
    f->controllers[i]->Start();
    f->processors[i] = qj::fo::NewFailoverProcessor(f->controllers[i].get());
  }
  failoverds = f;
  atexit(StopFailoverds);
}

}  // namespace

QJ_FUZZ_TARGET(failover_service) {
  if (failoverds == nullptr) Start();
  qj::fuzz::Input in(data);
  const int which = in.U8() & 1;
  // The limits FailoverServer serves with (rpc::ServerOptions' defaults; rpc::Server reads
  // without strict_read).
  const qj::rpc::ServerOptions server;
  qj::fuzz::ProtocolLimits limits;
  limits.max_frame_bytes = server.max_frame_bytes;
  limits.max_string_bytes = server.max_string_bytes;
  limits.max_container_elements = server.max_container_elements;
  limits.strict_read = false;
  qj::fuzz::ProcessFramed(failoverds->processors[which].get(), in.Rest(), limits);
}
