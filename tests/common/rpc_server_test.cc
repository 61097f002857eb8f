// rpc::Server's answer path (common/rpc/rpc.cc): a small answer is written to the socket
// by the worker that made it, a large one (or one that finds the socket full) by the I/O
// thread; every answer arrives whole either way, and a client that sends calls without
// reading the answers neither stops the server serving others nor stalls Stop().
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <thrift/TProcessor.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "JournalProtocol.h"
#include "common/rpc/rpc.h"
#include "tests/support/process.h"
#include "tests/support/raw_conn.h"

namespace qj {
namespace {

namespace th = ::qjournal::thrift;
using apache::thrift::TSingletonProcessorFactory;

// Answers isFormatted ("yes" only) and getSegmentChunk (maxBytes bytes, byte i of the
// chunk = (offset + i) % 251), the rest as the generated null service.
class Handler final : public th::JournalProtocolNull {
 public:
  bool isFormatted(const std::string& journal_id) override { return journal_id == "yes"; }
  void getSegmentChunk(th::SegmentChunk& r, const std::string&, int64_t start, int64_t end,
                       int64_t offset, int32_t max_bytes) override {
    r.startTxId = start;
    r.endTxId = end;
    r.offset = offset;
    r.data.resize(static_cast<size_t>(max_bytes));
    for (int32_t i = 0; i < max_bytes; ++i) r.data[i] = static_cast<char>((offset + i) % 251);
    r.eof = false;
    ++calls;
  }
  std::atomic<int64_t> calls{0};
};

class RpcServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    handler_ = std::make_shared<Handler>();
    rpc::ServerOptions o;
    o.name = "rpc-test";
    o.port = testing::PickFreePorts(1)[0];
    server_ =
        std::make_unique<rpc::Server>(std::make_shared<TSingletonProcessorFactory>(
                                          std::make_shared<th::JournalProtocolProcessor>(handler_)),
                                      o);
    ASSERT_TRUE(server_->Start().ok());
    port_ = o.port;
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }
  static bool ChunkOk(const th::SegmentChunk& c, int64_t offset, int32_t bytes) {
    if (c.offset != offset || c.data.size() != static_cast<size_t>(bytes)) return false;
    for (int32_t i = 0; i < bytes; ++i) {
      if (c.data[i] != static_cast<char>((offset + i) % 251)) return false;
    }
    return true;
  }

  // The server counts an answer after it has left, so a client can hold its last answer
  // before the count moves: wait (up to 10 s) until `total` answers are counted.
  rpc::ServerStats StatsOnceCounted(int64_t total) {
    rpc::ServerStats s = server_->stats();
    for (int i = 0; i < 1000 && s.direct_answers + s.io_thread_answers < total; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      s = server_->stats();
    }
    return s;
  }

  std::shared_ptr<Handler> handler_;
  std::unique_ptr<rpc::Server> server_;
  int port_ = 0;
};

TEST_F(RpcServerTest, SmallAnswersAreWrittenByTheWorker) {
  auto c = rpc::Connect(HostPort{"127.0.0.1", port_}, rpc::ClientOptions{});
  ASSERT_TRUE(c.ok()) << c.status();
  th::JournalProtocolClient client((*c)->in(), (*c)->out());
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(client.isFormatted(i % 2 == 0 ? "yes" : "no"), i % 2 == 0) << "call " << i;
  }
  const rpc::ServerStats s = StatsOnceCounted(200);
  EXPECT_EQ(s.direct_answers, 200);
  EXPECT_EQ(s.io_thread_answers, 0);
}

TEST_F(RpcServerTest, AnswersOfEverySizeArriveWhole_LargeOnesThroughTheIoThread) {
  rpc::ClientOptions co;
  co.max_frame_bytes = 8 << 20;
  auto c = rpc::Connect(HostPort{"127.0.0.1", port_}, co);
  ASSERT_TRUE(c.ok()) << c.status();
  th::JournalProtocolClient client((*c)->in(), (*c)->out());
  int large = 0;
  int64_t offset = 0;
  for (int round = 0; round < 3; ++round) {
    for (int32_t bytes : {0, 1, 100, 8100, 8150, 8200, 9000, 65536, 1 << 20, 10}) {
      th::SegmentChunk chunk;
      client.getSegmentChunk(chunk, "j", 1, 2, offset, bytes);
      ASSERT_TRUE(ChunkOk(chunk, offset, bytes)) << bytes << " bytes at offset " << offset;
      // The frame is the data plus ~40 bytes of envelope and fields: 8150 bytes of data
      // and up go past the 8 KiB bound.
      if (bytes >= 8150) ++large;
      ++offset;
    }
  }
  const rpc::ServerStats s = StatsOnceCounted(30);
  EXPECT_EQ(s.direct_answers + s.io_thread_answers, 30);
  EXPECT_EQ(s.io_thread_answers, large);
}

// A client that pipelines calls and never reads: the answers fill its socket; the worker
// falls back to the I/O thread (or, with half an answer out, gives up on the connection
// within a second). Meanwhile another client is served, and Stop() does not hang.
TEST_F(RpcServerTest, ClientNotReadingItsAnswers_OthersServedAndStopReturns) {
  const int fd = testing::RawConnect(port_, 2000);
  ASSERT_GE(fd, 0);
  int small = 4096;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  // 3000 getSegmentChunk calls, each answered with ~7 KiB (under the direct bound): 21 MB,
  // more than the socket buffers on both sides hold.
  auto mem = std::make_shared<apache::thrift::transport::TMemoryBuffer>();
  auto framed = std::make_shared<apache::thrift::transport::TFramedTransport>(mem);
  th::JournalProtocolClient writer(
      std::make_shared<apache::thrift::protocol::TBinaryProtocol>(framed));
  for (int i = 0; i < 3000; ++i) writer.send_getSegmentChunk("j", 1, 2, i, 7000);
  const std::string bytes = mem->getBufferAsString();
  std::thread pusher([&] {
    size_t off = 0;
    while (off < bytes.size()) {
      const ssize_t k = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (k <= 0) break;  // send timeout (the server stopped reading) or closed
      off += static_cast<size_t>(k);
    }
  });
  // Wait until the answers have filled the sockets (the handler stops being called).
  int64_t last = -1;
  for (int i = 0; i < 100 && handler_->calls.load() != last; ++i) {
    last = handler_->calls.load();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_LT(handler_->calls.load(), 3000) << "every answer fitted: the test proves nothing";
  {
    auto c = rpc::Connect(HostPort{"127.0.0.1", port_}, rpc::ClientOptions{});
    ASSERT_TRUE(c.ok()) << c.status();
    th::JournalProtocolClient client((*c)->in(), (*c)->out());
    for (int i = 0; i < 20; ++i) EXPECT_TRUE(client.isFormatted("yes"));
  }
  const rpc::ServerStats st = server_->stats();
  std::printf(
      "not reading: %lld calls, %lld answers direct, %lld by the I/O thread, %lld open\n",
      static_cast<long long>(handler_->calls.load()), static_cast<long long>(st.direct_answers),
      static_cast<long long>(st.io_thread_answers), static_cast<long long>(st.open_connections));
  const auto t0 = std::chrono::steady_clock::now();
  server_->Stop();
  const double stop_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("Stop() with a client not reading: %.3f s\n", stop_s);
  ::shutdown(fd, SHUT_RDWR);
  pusher.join();
  ::close(fd);
  server_.reset();
}

}  // namespace
}  // namespace qj
