// HttpServer: a small HTTP/1.1 server for a daemon's metrics and status pages.
//
// GET (and HEAD) only: other methods get 405. Paths are matched exactly, the query string
// ignored; unknown paths get 404. Handlers run on the server's one I/O thread, so they
// must be quick (render from in-memory state; no RPC, no disk).
//
// Bounds: at most `max_connections` open connections (one more is accepted and closed
// at once, so a flood cannot grow memory or threads), each read and write must finish
// within `io_timeout_ms`, request headers are limited to 8 KiB and bodies to 64 KiB.
//
// Lifetime: register handlers, Start() (binds; port 0 picks a free port), Stop() or the
// destructor joins the thread. Thread-safe after Start().
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "common/status.h"

namespace qj {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

struct HttpServerOptions {
  std::string bind_host = "127.0.0.1";
  int port = 0;  // 0: any free port (tests)
  int max_connections = 32;
  int64_t io_timeout_ms = 10000;
  std::string name = "http";  // for log lines
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse()>;

  explicit HttpServer(HttpServerOptions opts);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Before Start() only.
  void Handle(const std::string& path, Handler handler);

  // Binds and starts serving. IOError (naming the address) if the bind fails;
  // InvalidArgument for a bad address.
  Status Start();
  // The bound port (after Start()).
  int port() const;
  // Closes the listener and every connection, joins the thread. Idempotent.
  void Stop();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace qj
