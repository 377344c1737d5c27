#pragma once
// Internal to net/server/*.cpp (it pulls in Beast): the state every session
// shares and the session entry points, one per stream type.
#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "config/troupe_config.hpp"
#include "net/api/router.hpp"

namespace troupe::net::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
// beast::tcp_stream, but with a rate-policy type of our own so that argument-
// dependent lookup finds the WebSocket teardown declared below.
struct drain_rate_policy : beast::unlimited_rate_policy {};
using plain_stream = beast::basic_stream<tcp, asio::any_io_executor, drain_rate_policy>;
using tls_stream = beast::ssl_stream<plain_stream>;
using http_request = http::request<http::string_body>;
inline constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

// Lets actor threads post engine events to a session strand only while the
// io_context is alive: the server closes it before tearing the context down.
class post_gate {
 public:
  template <class Executor, class F>
  void post(const Executor& ex, F&& f) {
    std::lock_guard lock(mu_);
    if (open_) asio::post(ex, std::forward<F>(f));
  }
  void close() {
    std::lock_guard lock(mu_);
    open_ = false;
  }

 private:
  std::mutex mu_;
  bool open_ = true;
};

// What the server needs to reach one connection at shutdown.
struct conn_handle {
  asio::any_io_executor strand;
  std::function<void()> on_drain;  // runs on strand; set by the session
  // Runs on strand when shutdown_grace_ms has passed with this connection still
  // busy: end every stream with an error event and cancel its requests.
  std::function<void()> on_abort;
};

struct server_state {
  server_state(api_router& r, config::server_config l) : router(r), limits(std::move(l)) {}
  api_router& router;
  config::server_config limits;
  std::shared_ptr<post_gate> gate = std::make_shared<post_gate>();
  std::atomic<bool> draining{false};
  std::atomic<bool> aborting{false};  // the grace period is over: cut what still runs

  // Requests started on the service and not finished yet, so that the server
  // can cancel every one of them even when its session cannot run any more.
  std::mutex running_mu;
  std::set<std::string> running;
  void request_started(const std::string& id) {
    std::lock_guard lock(running_mu);
    running.insert(id);
  }
  void request_ended(const std::string& id) {
    std::lock_guard lock(running_mu);
    running.erase(id);
  }
  std::vector<std::string> running_requests() {
    std::lock_guard lock(running_mu);
    return {running.begin(), running.end()};
  }

  std::mutex conns_mu;
  std::set<std::shared_ptr<conn_handle>> conns;
  void add(const std::shared_ptr<conn_handle>& h) {
    std::lock_guard lock(conns_mu);
    conns.insert(h);
  }
  void remove(const std::shared_ptr<conn_handle>& h) {
    std::lock_guard lock(conns_mu);
    conns.erase(h);
  }
};

// The WebSocket close of a plain TCP connection, used by Beast when it fails
// a connection itself (a frame over read_message_max: close 1009). Beast
// 1.81's own TCP teardown reads once and closes; a client still sending its
// oversized message then gets a reset, which can destroy our close frame in
// its receive buffer (it sees 1006). This one sends FIN, then reads and
// discards until the client's EOF or for at most 2 s, then closes.
struct drain_teardown_op {
  plain_stream& stream;
  std::unique_ptr<std::array<char, 16384>> scratch = std::make_unique<std::array<char, 16384>>();
  bool started = false;

  template <class Self>
  void operator()(Self& self, beast::error_code ec = {}, std::size_t = 0) {
    if (!started) {
      started = true;
      beast::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
      stream.expires_after(std::chrono::seconds(2));
      return stream.async_read_some(asio::buffer(*scratch), std::move(self));
    }
    if (!ec) return stream.async_read_some(asio::buffer(*scratch), std::move(self));
    beast::error_code ignored;
    stream.socket().close(ignored);
    self.complete(ec == asio::error::eof ? beast::error_code{} : ec);
  }
};

template <class Handler>
auto async_teardown(beast::role_type, plain_stream& stream, Handler&& handler) {
  return asio::async_compose<Handler, void(beast::error_code)>(drain_teardown_op{stream}, handler,
                                                               stream);
}

// Serves HTTP/1.1 requests on an accepted (and, for TLS, handshaken) stream
// until the client leaves, a limit or timeout hits, or the server drains.
asio::awaitable<void> run_http_session(plain_stream stream, std::shared_ptr<server_state> st,
                                       std::shared_ptr<conn_handle> handle);
asio::awaitable<void> run_http_session(tls_stream stream, std::shared_ptr<server_state> st,
                                       std::shared_ptr<conn_handle> handle);

// Takes over after an upgrade request to /v1/responses.
asio::awaitable<void> run_ws_session(plain_stream stream, http_request request, std::string request_id,
                                     std::shared_ptr<server_state> st, std::shared_ptr<conn_handle> handle);
asio::awaitable<void> run_ws_session(tls_stream stream, http_request request, std::string request_id,
                                     std::shared_ptr<server_state> st, std::shared_ptr<conn_handle> handle);

// True when the peer closed its side (FIN/RST seen): POLLRDHUP on the socket,
// so a vanished client is noticed while its request is still generating.
bool peer_gone(tcp::socket& socket);

}  // namespace troupe::net::detail
