// etcd_driver: drives an etcd cluster over its native gRPC API (KV.Put), the way etcd's own
// benchmark tool does: asynchronous calls with many requests outstanding from one client,
// spread over a few HTTP/2 connections; then synchronous single puts for latency.
// Prints BENCH lines (see peer_common.h).
//
//   etcd_driver --server 127.0.0.1:2379 --pids 11,12,13 [--ops 100000] [--outstanding 1000]
//               [--payloads 64,256,1024] [--latency_ops 2000] [--nodes 3] [--conns 4]
//
// Why gRPC and not the JSON gateway: the gateway turns each HTTP/1.1 request into a gRPC
// call on loopback inside etcd, so it would charge etcd for JSON and an extra hop that its
// real clients do not pay. A Put returns only after the entry is committed (fsynced by a
// quorum) and applied. Exits non-zero if any put fails.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "etcd_kv.grpc.pb.h"
#include "peer_common.h"

namespace {

constexpr int kKeys = 1000;

struct Call {
  grpc::ClientContext ctx;
  etcdserverpb::PutResponse resp;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<etcdserverpb::PutResponse>> reader;
};

std::string Key(long i) { return "qjbench/k" + std::to_string(i % kKeys); }

// Issues `ops` asynchronous puts with at most `window` outstanding; returns microseconds.
double RunAsync(std::vector<std::unique_ptr<etcdserverpb::KV::Stub>>& stubs, long ops, long window,
                int payload, long* failed) {
  grpc::CompletionQueue cq;
  etcdserverpb::PutRequest req;
  req.set_value(std::string(static_cast<size_t>(payload), 'v'));
  long issued = 0, done = 0;
  auto issue = [&]() {
    auto* call = new Call;
    req.set_key(Key(issued));
    call->reader = stubs[issued % stubs.size()]->AsyncPut(&call->ctx, req, &cq);
    call->reader->Finish(&call->resp, &call->status, call);
    issued++;
  };
  double t0 = peer_now_us();
  while (issued < ops && issued < window) issue();
  void* tag;
  bool ok;
  while (done < ops && cq.Next(&tag, &ok)) {
    auto* call = static_cast<Call*>(tag);
    if (!ok || !call->status.ok()) {
      if (*failed == 0) {
        fprintf(stderr, "etcd_driver: put failed: %s\n", call->status.error_message().c_str());
      }
      (*failed)++;
    }
    delete call;
    done++;
    if (issued < ops) issue();
  }
  double t1 = peer_now_us();
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return t1 - t0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string server = "127.0.0.1:2379", pids_arg, payloads_arg = "64,256,1024";
  long ops = 100000, window = 1000, latency_ops = 2000;
  int nodes = 3, conns = 4;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string f = argv[i], v = argv[i + 1];
    if (f == "--server")
      server = v;
    else if (f == "--pids")
      pids_arg = v;
    else if (f == "--payloads")
      payloads_arg = v;
    else if (f == "--ops")
      ops = atol(v.c_str());
    else if (f == "--outstanding")
      window = atol(v.c_str());
    else if (f == "--latency_ops")
      latency_ops = atol(v.c_str());
    else if (f == "--nodes")
      nodes = atoi(v.c_str());
    else if (f == "--conns")
      conns = atoi(v.c_str());
    else {
      fprintf(stderr, "etcd_driver: unknown flag %s\n", f.c_str());
      return 2;
    }
  }
  peer_pids pids;
  peer_parse_pids(pids_arg.c_str(), &pids);

  // One HTTP/2 connection per stub: a local subchannel pool keeps channels from sharing one.
  std::vector<std::unique_ptr<etcdserverpb::KV::Stub>> stubs;
  for (int i = 0; i < conns; i++) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("qjbench.conn", i);
    auto ch = grpc::CreateCustomChannel(server, grpc::InsecureChannelCredentials(), args);
    if (!ch->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(30))) {
      fprintf(stderr, "etcd_driver: cannot connect to %s\n", server.c_str());
      return 1;
    }
    stubs.push_back(etcdserverpb::KV::NewStub(ch));
  }
  long failed = 0;
  RunAsync(stubs, ops / 5 > 10000 ? ops / 5 : 10000, window, 256, &failed);  // warm up

  for (const char* p = payloads_arg.c_str(); p && *p;) {
    int payload = atoi(p);
    double s0 = peer_servers_cpu_us(&pids), c0 = peer_self_cpu_us();
    double us = RunAsync(stubs, ops, window, payload, &failed);
    double s1 = peer_servers_cpu_us(&pids), c1 = peer_self_cpu_us();
    printf(
        "BENCH name=commit_rate system=etcd payload=%d nodes=%d cores=%d ops=%ld "
        "outstanding=%ld value=%.0f unit=writes/s cpu_us_per_op=%.2f "
        "server_cpu_us_per_op=%.2f client_cpu_us_per_op=%.2f\n",
        payload, nodes, peer_cores(), ops, window, ops / (us / 1e6), (s1 - s0 + c1 - c0) / ops,
        (s1 - s0) / ops, (c1 - c0) / ops);
    fflush(stdout);
    p = strchr(p, ',');
    if (p) p++;
  }

  std::vector<double> lat(static_cast<size_t>(latency_ops));
  etcdserverpb::PutRequest req;
  req.set_value(std::string(256, 'v'));
  double s0 = peer_servers_cpu_us(&pids), c0 = peer_self_cpu_us();
  for (long i = 0; i < latency_ops; i++) {
    grpc::ClientContext ctx;
    etcdserverpb::PutResponse resp;
    req.set_key(Key(i));
    double t0 = peer_now_us();
    grpc::Status st = stubs[0]->Put(&ctx, req, &resp);
    lat[i] = peer_now_us() - t0;
    if (!st.ok()) {
      fprintf(stderr, "etcd_driver: put: %s\n", st.error_message().c_str());
      return 1;
    }
  }
  double s1 = peer_servers_cpu_us(&pids), c1 = peer_self_cpu_us();
  double p50 = peer_percentile(lat.data(), static_cast<int>(latency_ops), 0.50);
  double p99 = peer_percentile(lat.data(), static_cast<int>(latency_ops), 0.99);
  printf(
      "BENCH name=write_latency system=etcd payload=256 nodes=%d cores=%d ops=%ld "
      "p50_us=%.0f p99_us=%.0f value=%.0f unit=us cpu_us_per_op=%.2f\n",
      nodes, peer_cores(), latency_ops, p50, p99, p50, (s1 - s0 + c1 - c0) / latency_ops);
  if (failed) {
    fprintf(stderr, "etcd_driver: %ld puts failed\n", failed);
    return 1;
  }
  return 0;
}
