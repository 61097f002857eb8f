#include "common/http_server.h"

#include <glog/logging.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <optional>
#include <thread>

namespace qj {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
using tcp = boost::asio::ip::tcp;

struct HttpServer::Impl {
  explicit Impl(HttpServerOptions o) : opts(std::move(o)), acceptor(ioc) {}

  void Accept();
  HttpResponse Respond(const http::request<http::string_body>& req) const;

  const HttpServerOptions opts;
  std::map<std::string, Handler> handlers;  // fixed after Start()
  // Before ioc: sessions that ioc still owns when it is destroyed give their slot back.
  std::atomic<int> connections{0};
  net::io_context ioc;
  tcp::acceptor acceptor;
  std::thread thread;
  int port = 0;
  bool started = false;
};

namespace {

// One connection: read a request, answer, repeat while keep-alive. Holds a connection
// slot until destroyed.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::Impl* server)
      : stream_(std::move(socket)), server_(server) {}
  ~Session() { server_->connections.fetch_sub(1); }

  void Read() {
    parser_.emplace();
    parser_->header_limit(8 * 1024);
    parser_->body_limit(64 * 1024);
    stream_.expires_after(std::chrono::milliseconds(server_->opts.io_timeout_ms));
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

 private:
  void OnRead(beast::error_code ec, size_t) {
    if (ec) return Close();
    const auto& req = parser_->get();
    HttpResponse r = server_->Respond(req);
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(r.status), req.version());
    res->set(http::field::server, "qjournal");
    res->set(http::field::content_type, r.content_type);
    res->set(http::field::cache_control, "no-store");
    if (r.status == 405) res->set(http::field::allow, "GET, HEAD");
    res->keep_alive(req.keep_alive());
    const bool head = req.method() == http::verb::head;
    res->body() = std::move(r.body);
    res->prepare_payload();
    if (head) res->body().clear();  // Content-Length stays that of the GET answer
    stream_.expires_after(std::chrono::milliseconds(server_->opts.io_timeout_ms));
    auto self = shared_from_this();
    http::async_write(stream_, *res, [self, res](beast::error_code wec, size_t) {
      if (wec || res->need_eof()) return self->Close();
      self->Read();
    });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpServer::Impl* server_;
};

}  // namespace

void HttpServer::Impl::Accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted) return;
    if (!ec) {
      if (connections.fetch_add(1) >= opts.max_connections) {
        connections.fetch_sub(1);
        beast::error_code ignored;
        socket.close(ignored);  // over the bound: refuse rather than queue
      } else {
        std::make_shared<Session>(std::move(socket), this)->Read();
      }
    }
    Accept();
  });
}

HttpResponse HttpServer::Impl::Respond(const http::request<http::string_body>& req) const {
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    return HttpResponse{405, "text/plain; charset=utf-8", "only GET is served\n"};
  }
  std::string target(req.target());
  target = target.substr(0, target.find('?'));
  auto it = handlers.find(target);
  if (it == handlers.end()) {
    return HttpResponse{404, "text/plain; charset=utf-8", "no page at " + target + "\n"};
  }
  return it->second();
}

HttpServer::HttpServer(HttpServerOptions opts) : impl_(std::make_unique<Impl>(std::move(opts))) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Handle(const std::string& path, Handler handler) {
  impl_->handlers[path] = std::move(handler);
}

Status HttpServer::Start() {
  const std::string where = impl_->opts.bind_host + ":" + std::to_string(impl_->opts.port);
  beast::error_code ec;
  auto addr = net::ip::make_address(impl_->opts.bind_host, ec);
  if (ec) {
    return Status::InvalidArgument(impl_->opts.name + ": bad HTTP bind address '" +
                                   impl_->opts.bind_host + "': " + ec.message());
  }
  if (impl_->opts.port < 0 || impl_->opts.port > 65535) {
    return Status::InvalidArgument(impl_->opts.name + ": HTTP port out of range: " + where);
  }
  tcp::endpoint ep(addr, static_cast<uint16_t>(impl_->opts.port));
  auto& a = impl_->acceptor;
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::IOError(impl_->opts.name + ": cannot listen for HTTP on " + where + ": " +
                           ec.message());
  }
  impl_->port = a.local_endpoint().port();
  impl_->started = true;
  impl_->Accept();
  impl_->thread = std::thread([this] {
    pthread_setname_np(pthread_self(), "http");
    impl_->ioc.run();
  });
  LOG(INFO) << impl_->opts.name << ": HTTP status pages on http://" << impl_->opts.bind_host << ":"
            << impl_->port << "/";
  return Status::OK();
}

int HttpServer::port() const { return impl_->port; }

void HttpServer::Stop() {
  if (!impl_->started) return;
  impl_->started = false;
  impl_->ioc.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
}

}  // namespace qj
