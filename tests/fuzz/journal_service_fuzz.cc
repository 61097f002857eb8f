// The journalnode's RPC surface: the real generated JournalProtocol processor and the
// real handler (journalnode/journal_service.h) over a real JournalNode in a fresh
// directory for every input, fed the input as one connection's framed byte stream. Any
// request sequence must be answered (a result or a declared exception) or the
// connection refused — never a crash, a leak or an allocation the frame does not back.
#include <thrift/TProcessor.h>

#include <memory>
#include <string>

#include "journalnode/journal_node.h"
#include "journalnode/journal_service.h"
#include "tests/fuzz/fuzz_target.h"
#include "tests/fuzz/thrift_driver.h"

QJ_FUZZ_TARGET(journal_service) {
  const std::string dir = qj::fuzz::ScratchDir() + "/journal_service";
  qj::fuzz::ResetDir(dir);
  qj::jn::JournalNodeOptions opts;
  opts.name = "fz";
  opts.edits_dir = dir;
  opts.self_address = "127.0.0.1:1";
  auto node = qj::jn::JournalNode::Open(opts);
  QJ_FUZZ_CHECK(node.ok(), node.status().ToString());
  {
    auto processor = qj::jn::NewJournalProcessor(node->get());
    const qj::rpc::ServerOptions server =
        qj::jn::JournalServerOptions();  // what JournalServer serves with
    qj::fuzz::ProtocolLimits limits;
    limits.max_frame_bytes = server.max_frame_bytes;
    limits.max_string_bytes = server.max_string_bytes;
    limits.max_container_elements = server.max_container_elements;
    limits.strict_read = false;
    qj::fuzz::ProcessFramed(processor.get(), data, limits);
  }
  (*node)->Shutdown();
}
