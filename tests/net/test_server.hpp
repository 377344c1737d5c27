#pragma once
// An in-process edge (router + server) over the fake service, and a tiny
// blocking HTTP/1.1 client on POSIX sockets, for the net tests.
#include <memory>
#include <string>

#include "net/api/router.hpp"
#include "net/edge/static_key_hooks.hpp"
#include "net/server/server.hpp"
#include "tests/net/fake_service.hpp"

namespace troupe::net::testing {

struct test_server {
  explicit test_server(fake_service::options fo = {}, config::server_config limits = {},
                       std::string cert_pem = "", std::string key_pem = "");
  ~test_server();
  std::string base_url() const;

  fake_service service;
  static_key_hooks hooks{{"sk-test"}, false};
  edge_metrics metrics;
  api_router router{service, hooks, metrics};
  std::unique_ptr<server> srv;
  uint16_t port = 0;
};

struct http_reply {
  int status = 0;
  std::string head;  // status line + headers
  std::string body;  // de-chunked
  std::string header(const std::string& name) const;  // case-insensitive; "" if absent
};

// Opens a connection to 127.0.0.1:port; -1 on failure.
int connect_to(uint16_t port);
// Sends raw bytes and reads one response (Content-Length or chunked) within timeout_ms.
http_reply roundtrip(int fd, const std::string& raw, int timeout_ms = 5000);
// One request on a fresh connection.
http_reply request(uint16_t port, const std::string& method, const std::string& path,
                   const std::string& body = "", const std::string& key = "sk-test");
std::string raw_request(const std::string& method, const std::string& path, const std::string& body,
                        const std::string& key, bool keep_alive = false);

}  // namespace troupe::net::testing
