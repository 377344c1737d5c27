#include "net/trace/otlp_http_post.hpp"

#include <chrono>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace troupe::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

struct url_parts {
  bool tls = false;
  std::string host, port, target;
};

bool parse_url(const std::string& url, url_parts* u) {
  std::string rest;
  if (url.rfind("http://", 0) == 0) rest = url.substr(7);
  else if (url.rfind("https://", 0) == 0) u->tls = true, rest = url.substr(8);
  else return false;
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  u->target = slash == std::string::npos ? "/" : rest.substr(slash);
  size_t colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']') == std::string::npos) {
    u->host = authority.substr(0, colon);
    u->port = authority.substr(colon + 1);
  } else {
    u->host = authority;
    u->port = u->tls ? "443" : "80";
  }
  return !u->host.empty();
}

template <class Stream>
post_result exchange(Stream& stream, const url_parts& u,
                     const std::vector<std::pair<std::string, std::string>>& headers,
                     const std::string& content_type, const std::string& body) {
  http::request<http::string_body> req{http::verb::post, u.target, 11};
  req.set(http::field::host, u.host);
  req.set(http::field::user_agent, "troupe");
  req.set(http::field::content_type, content_type);
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  beast::error_code ec;
  http::write(stream, req, ec);
  if (ec) return {0, "write: " + ec.message()};
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(stream, buf, res, ec);
  if (ec) return {0, "read: " + ec.message()};
  post_result r{static_cast<int>(res.result_int()), ""};
  if (r.status < 200 || r.status >= 300) r.error = res.body().substr(0, 300);
  return r;
}

}  // namespace

post_result http_post(const std::string& url,
                      const std::vector<std::pair<std::string, std::string>>& headers,
                      const std::string& content_type, const std::string& body, int timeout_ms) {
  url_parts u;
  if (!parse_url(url, &u)) return {0, "not an http:// or https:// URL: " + url};
  asio::io_context ioc;
  asio::ip::tcp::resolver resolver(ioc);
  beast::error_code ec;
  auto endpoints = resolver.resolve(u.host, u.port, ec);
  if (ec) return {0, "resolve " + u.host + ": " + ec.message()};
  const auto timeout = std::chrono::milliseconds(timeout_ms);
  if (!u.tls) {
    beast::tcp_stream stream(ioc);
    stream.expires_after(timeout);
    stream.connect(endpoints, ec);
    if (ec) return {0, "connect " + u.host + ":" + u.port + ": " + ec.message()};
    post_result r = exchange(stream, u, headers, content_type, body);
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    return r;
  }
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.set_default_verify_paths(ec);
  ctx.set_verify_mode(asio::ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
  SSL_set_tlsext_host_name(stream.native_handle(), u.host.c_str());
  stream.set_verify_callback(asio::ssl::host_name_verification(u.host));
  beast::get_lowest_layer(stream).expires_after(timeout);
  beast::get_lowest_layer(stream).connect(endpoints, ec);
  if (ec) return {0, "connect " + u.host + ":" + u.port + ": " + ec.message()};
  stream.handshake(asio::ssl::stream_base::client, ec);
  if (ec) return {0, "TLS handshake with " + u.host + ": " + ec.message()};
  post_result r = exchange(stream, u, headers, content_type, body);
  stream.shutdown(ec);
  return r;
}

}  // namespace troupe::net
