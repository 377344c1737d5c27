#include "tests/net/test_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace troupe::net::testing {

test_server::test_server(fake_service::options fo, config::server_config limits, std::string cert_pem,
                         std::string key_pem)
    : service(fo) {
  server_options o;
  o.limits = limits;
  o.limits.host = "127.0.0.1";
  o.limits.port = 0;
  o.cert_pem = std::move(cert_pem);
  o.key_pem = std::move(key_pem);
  o.num_threads = 2;
  std::string err;
  srv = server::create(o, router, &err);
  if (!srv) throw std::runtime_error(err);
  port = srv->port();
  srv->start();
}

test_server::~test_server() {
  if (srv) srv->shutdown();
}

std::string test_server::base_url() const {
  return std::string(srv->tls() ? "https" : "http") + "://127.0.0.1:" + std::to_string(port);
}

std::string http_reply::header(const std::string& name) const {
  std::string lower_head = head, lower_name = name + ":";
  std::transform(lower_head.begin(), lower_head.end(), lower_head.begin(), ::tolower);
  std::transform(lower_name.begin(), lower_name.end(), lower_name.begin(), ::tolower);
  size_t pos = lower_head.find("\r\n" + lower_name);
  if (pos == std::string::npos) return "";
  pos += 2 + lower_name.size();
  size_t end = head.find("\r\n", pos);
  std::string v = head.substr(pos, end - pos);
  while (!v.empty() && v.front() == ' ') v.erase(v.begin());
  return v;
}

int connect_to(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

namespace {

// Returns the de-chunked body when `data` holds a complete chunked body.
bool dechunk(const std::string& data, std::string* body) {
  size_t pos = 0;
  body->clear();
  for (;;) {
    size_t eol = data.find("\r\n", pos);
    if (eol == std::string::npos) return false;
    size_t len = std::stoul(data.substr(pos, eol - pos), nullptr, 16);
    if (len == 0) return data.find("\r\n", eol + 2) != std::string::npos;
    if (data.size() < eol + 2 + len + 2) return false;
    *body += data.substr(eol + 2, len);
    pos = eol + 2 + len + 2;
  }
}

}  // namespace

http_reply roundtrip(int fd, const std::string& raw, int timeout_ms) {
  http_reply r;
  if (!raw.empty()) ::send(fd, raw.data(), raw.size(), MSG_NOSIGNAL);
  std::string data;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    size_t he = data.find("\r\n\r\n");
    if (he != std::string::npos) {
      r.head = data.substr(0, he + 2);
      if (r.head.rfind("HTTP/1.1 100", 0) == 0) {
        data.erase(0, he + 4);
        continue;
      }
      r.status = std::stoi(r.head.substr(9, 3));
      std::string rest = data.substr(he + 4);
      std::string cl = r.header("content-length");
      if (!cl.empty() && rest.size() >= std::stoul(cl)) {
        r.body = rest.substr(0, std::stoul(cl));
        return r;
      }
      if (r.header("transfer-encoding") == "chunked" && dechunk(rest, &r.body)) return r;
    }
    int left = int(std::chrono::duration_cast<std::chrono::milliseconds>(
                       deadline - std::chrono::steady_clock::now()).count());
    if (left <= 0) return r;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, left) <= 0) return r;
    char buf[16384];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      if (he != std::string::npos && r.status) r.body = data.substr(he + 4);
      return r;
    }
    data.append(buf, size_t(n));
  }
}

std::string raw_request(const std::string& method, const std::string& path, const std::string& body,
                        const std::string& key, bool keep_alive) {
  std::string r = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!key.empty()) r += "Authorization: Bearer " + key + "\r\n";
  if (!body.empty() || method == "POST")
    r += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  r += keep_alive ? "" : "Connection: close\r\n";
  return r + "\r\n" + body;
}

http_reply request(uint16_t port, const std::string& method, const std::string& path,
                   const std::string& body, const std::string& key) {
  int fd = connect_to(port);
  http_reply r = roundtrip(fd, raw_request(method, path, body, key));
  ::close(fd);
  return r;
}

}  // namespace troupe::net::testing
