#pragma once
// The HTTP/1.1 + WebSocket server of the edge, with or without TLS. This header
// is Beast-free; the Asio/Beast code lives in net/server/*.cpp only.
#include <cstdint>
#include <memory>
#include <string>

#include "config/troupe_config.hpp"
#include "net/api/router.hpp"

namespace troupe::net {

struct server_options {
  config::server_config limits;  // host, port, timeouts, sizes
  std::string cert_pem;          // both empty: plain http:// (limits.no_tls)
  std::string key_pem;
  int num_threads = 2;           // I/O threads running the sessions' strands
};

class server {
 public:
  virtual ~server() = default;
  // Binds and listens (so port() is known) but serves nothing until run*().
  static std::unique_ptr<server> create(const server_options& options, api_router& router,
                                        std::string* error);

  virtual uint16_t port() const = 0;
  virtual bool tls() const = 0;
  // Serves until SIGTERM/SIGINT, then stops accepting, lets in-flight requests
  // finish for up to shutdown_grace_ms, and returns.
  virtual void run_until_signal() = 0;
  // For tests: serve on background threads / shut down gracefully and join.
  virtual void start() = 0;
  virtual void shutdown() = 0;
};

}  // namespace troupe::net
