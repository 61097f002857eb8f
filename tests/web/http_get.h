// A minimal blocking HTTP/1.1 client for the web tests: one request per connection.
#pragma once

#include <string>

namespace qj::testweb {

struct Reply {
  int status = 0;       // 0: no answer (connection failed or closed early)
  std::string headers;  // raw header block
  std::string body;
};

// Sends `method path` to 127.0.0.1:port with Connection: close and reads to EOF.
Reply Request(int port, const std::string& method, const std::string& path);
inline Reply Get(int port, const std::string& path) { return Request(port, "GET", path); }

}  // namespace qj::testweb
