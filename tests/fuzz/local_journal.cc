#include "tests/fuzz/local_journal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include "journalnode/client/quorum_writer.h"
#include "tests/fuzz/fuzz_target.h"

namespace qj::fuzz {

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

LocalJournal::LocalJournal(const std::string& dir, const std::string& journal_id,
                           int64_t namespace_id, const std::string& cluster_id) {
  ResetDir(dir);
  for (int i = 0; i < 3; ++i) {
    const int port = FreePort();
    addresses_.push_back(HostPort{"127.0.0.1", port});
    jn::JournalNodeOptions o;
    o.name = "jn" + std::to_string(i);
    o.edits_dir = dir + "/jn" + std::to_string(i);
    o.self_address = "127.0.0.1:" + std::to_string(port);
    ResetDir(o.edits_dir);
    auto node = jn::JournalNode::Open(o);
    QJ_FUZZ_CHECK(node.ok(), node.status().ToString());
    Node n;
    n.node = std::move(*node);
    rpc::ServerOptions so = jn::JournalServerOptions();
    so.name = o.name;
    so.port = port;
    n.server = std::make_unique<jn::JournalServer>(n.node.get(), so);
    jn::JournalServer* server = n.server.get();
    n.thread = std::thread([server] {
      Status s = server->Serve();
      QJ_FUZZ_CHECK(s.ok(), s.ToString());
    });
    nodes_.push_back(std::move(n));
  }
  jn::QuorumOptions q;
  q.journalnodes = addresses_;
  q.journal_id = journal_id;
  q.name = "fuzz";
  jn::NamespaceInfo ns;
  ns.namespace_id = namespace_id;
  ns.cluster_id = cluster_id;
  Status s;
  // The servers start listening on their own threads: retry until all answer, with force
  // after the first try (which may have formatted the nodes already listening).
  for (int i = 0; i < 100; ++i) {
    s = jn::FormatJournal(q, ns, /*force=*/i > 0);
    if (s.ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  QJ_FUZZ_CHECK(s.ok(), "formatting the journal: " + s.ToString());
}

LocalJournal::~LocalJournal() {
  for (auto& n : nodes_) {
    n.server->Stop();
    n.thread.join();
    n.node->Shutdown();
  }
}

}  // namespace qj::fuzz
