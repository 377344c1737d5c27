#include "actors/node/cluster_link.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <chrono>
#include <filesystem>

namespace troupe::actors {

std::optional<host_port> parse_host_port(const std::string& text) {
  std::string host;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return std::nullopt;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host.empty() || port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  const int value = std::stoi(port);
  if (value > 65535) return std::nullopt;
  return host_port{host, static_cast<uint16_t>(value)};
}

namespace {

bool is_loopback(const std::string& host) {
  if (host == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

}  // namespace

std::optional<std::string> check_cluster_options(const cluster_options& o,
                                                 const std::string& host) {
  if (o.plaintext) {
    if (!is_loopback(host))
      return "--cluster-plaintext is allowed on loopback addresses only ('" + host +
             "' is not one); give the node --cluster-cert, --cluster-key and --cluster-ca";
    return std::nullopt;
  }
  if (o.cert_file.empty() || o.key_file.empty() || o.ca_file.empty())
    return "node-to-node traffic is mutually authenticated TLS: give --cluster-cert, "
           "--cluster-key and --cluster-ca (or --cluster-plaintext on loopback, for tests)";
  for (const std::string* f : {&o.cert_file, &o.key_file, &o.ca_file})
    if (!std::filesystem::exists(*f)) return "cluster TLS file '" + *f + "' does not exist";
  return std::nullopt;
}

void configure_cluster(caf::actor_system_config& cfg, const cluster_options& o) {
  cfg.load<caf::io::middleman>();
  // A peer that stops talking is dropped after eject_after_ms: its proxies go
  // down, which is what request actors fail over on when a link is cut.
  cfg.set("middleman.heartbeat-interval",
          caf::timespan{std::chrono::milliseconds(std::max<int64_t>(100, o.heartbeat_ms))});
  cfg.set("middleman.connection-timeout",
          caf::timespan{std::chrono::milliseconds(std::max<int64_t>(500, o.eject_after_ms))});
  if (o.plaintext) return;
  cfg.load<caf::openssl::manager>();
  cfg.openssl_certificate = o.cert_file;
  cfg.openssl_key = o.key_file;
  cfg.openssl_cafile = o.ca_file;
}

bool tcp_reachable(const host_port& peer, std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(peer.host.c_str(), std::to_string(peer.port).c_str(), &hints, &found) != 0) return false;
  bool ok = false;
  for (addrinfo* a = found; a && !ok; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
      ok = true;
    } else if (errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      if (poll(&p, 1, static_cast<int>(timeout.count())) == 1) {
        int err = 0;
        socklen_t len = sizeof(err);
        ok = getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
      }
    }
    close(fd);
  }
  freeaddrinfo(found);
  return ok;
}

caf::io::middleman_actor cluster_connector(caf::actor_system& sys, const cluster_options& o) {
  if (o.plaintext) return sys.middleman().actor_handle();
  return sys.openssl_manager().actor_handle();
}

}  // namespace troupe::actors
