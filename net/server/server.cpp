// Listener, TLS handshake and shutdown. Each accepted socket gets its own
// strand; over max_connections a socket is closed at once. SIGTERM/SIGINT
// stop the acceptor, close idle connections, let busy ones finish their
// current request for up to shutdown_grace_ms, then end what still runs with
// an error event, cancel its requests and stop the I/O threads.
#include "net/server/server.hpp"

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "net/server/session.hpp"

namespace troupe::net {
namespace {

using namespace detail;
using std::chrono::milliseconds;
// How long busy sessions get, once the grace period is over, to write their
// error events before the I/O threads stop.
constexpr int kAbortMs = 500;

class beast_server final : public server {
 public:
  beast_server(const server_options& opt, api_router& router)
      : opt_(opt),
        st_(std::make_shared<server_state>(router, opt.limits)),
        tls_ctx_(asio::ssl::context::tls_server),
        acceptor_(ioc_),
        signals_(ioc_) {}

  ~beast_server() override {
    st_->gate->close();
    if (!threads_.empty()) {
      ioc_.stop();
      for (auto& t : threads_) t.join();
    }
  }

  bool init(std::string* error) {
    tls_ = !opt_.cert_pem.empty();
    if (tls_) {
      beast::error_code ec;
      tls_ctx_.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                           asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                           asio::ssl::context::no_tlsv1_1);
      // OpenSSL's server session cache holds up to 20,480 sessions by
      // default, a few KiB each, filled by every new client; bound it.
      SSL_CTX_sess_set_cache_size(tls_ctx_.native_handle(), 1024);
      tls_ctx_.use_certificate_chain(asio::buffer(opt_.cert_pem), ec);
      if (ec) return fail(error, "TLS certificate: " + ec.message());
      tls_ctx_.use_private_key(asio::buffer(opt_.key_pem), asio::ssl::context::pem, ec);
      if (ec) return fail(error, "TLS private key: " + ec.message());
    }
    beast::error_code ec;
    auto address = asio::ip::make_address(opt_.limits.host, ec);
    if (ec) return fail(error, "server.host '" + opt_.limits.host + "' is not an IP address");
    tcp::endpoint ep(address, static_cast<unsigned short>(opt_.limits.port));
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      return fail(error, "cannot listen on " + opt_.limits.host + ":" +
                             std::to_string(opt_.limits.port) + ": " + ec.message());
    port_ = acceptor_.local_endpoint().port();
    return true;
  }

  uint16_t port() const override { return port_; }
  bool tls() const override { return tls_; }

  void start() override {
    asio::co_spawn(acceptor_.get_executor(), accept_loop(), asio::detached);
    int n = std::max(1, opt_.num_threads);
    for (int i = 0; i < n; ++i) threads_.emplace_back([this] { ioc_.run(); });
  }

  void run_until_signal() override {
    signals_.add(SIGINT);
    signals_.add(SIGTERM);
    signals_.async_wait([this](const beast::error_code& ec, int) {
      if (!ec) begin_shutdown();
    });
    start();
    join_and_cancel_leftovers();
  }

  void shutdown() override {
    asio::post(ioc_, [this] { begin_shutdown(); });
    join_and_cancel_leftovers();
  }

 private:
  static bool fail(std::string* error, std::string message) {
    if (error) *error = std::move(message);
    return false;
  }

  // After the I/O threads stop, a request whose session could not end it
  // (its coroutine was stuck writing to a client) is still running in the
  // service: cancel it, so that the engine side can stop its actors.
  void join_and_cancel_leftovers() {
    for (auto& t : threads_) t.join();
    threads_.clear();
    for (const std::string& id : st_->running_requests()) st_->router.service().cancel(id);
  }

  void begin_shutdown() {
    if (st_->draining.exchange(true)) return;
    beast::error_code ec;
    acceptor_.close(ec);
    signals_.cancel(ec);
    std::vector<std::shared_ptr<conn_handle>> conns;
    {
      std::lock_guard lock(st_->conns_mu);
      conns.assign(st_->conns.begin(), st_->conns.end());
    }
    for (auto& h : conns)
      asio::post(h->strand, [h] {
        if (h->on_drain) h->on_drain();
      });
    deadline_ = std::chrono::steady_clock::now() + milliseconds(opt_.limits.shutdown_grace_ms);
    asio::co_spawn(ioc_, wait_drained(), asio::detached);
  }

  asio::awaitable<void> wait_drained() {
    asio::steady_timer t(ioc_);
    while (std::chrono::steady_clock::now() < deadline_) {
      {
        std::lock_guard lock(st_->conns_mu);
        if (st_->conns.empty()) break;
      }
      t.expires_after(milliseconds(20));
      co_await t.async_wait(nothrow);
    }
    // In-flight work past the grace period is cut: each busy session ends its
    // streams with an error event and cancels its requests (HTTP sessions see
    // `aborting` within their 100 ms poll, WebSocket ones get on_abort), and
    // gets kAbortMs to write that before the I/O threads stop.
    bool busy;
    {
      std::lock_guard lock(st_->conns_mu);
      busy = !st_->conns.empty();
    }
    if (busy) {
      st_->aborting = true;
      std::vector<std::shared_ptr<conn_handle>> conns;
      {
        std::lock_guard lock(st_->conns_mu);
        conns.assign(st_->conns.begin(), st_->conns.end());
      }
      for (auto& h : conns)
        asio::post(h->strand, [h] {
          if (h->on_abort) h->on_abort();
        });
      const auto abort_deadline = std::chrono::steady_clock::now() + milliseconds(kAbortMs);
      while (std::chrono::steady_clock::now() < abort_deadline) {
        {
          std::lock_guard lock(st_->conns_mu);
          if (st_->conns.empty()) break;
        }
        t.expires_after(milliseconds(20));
        co_await t.async_wait(nothrow);
      }
    }
    // The gate keeps late engine events from reaching a stopped context.
    st_->gate->close();
    ioc_.stop();
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto strand = asio::make_strand(ioc_);
      auto [ec, socket] = co_await acceptor_.async_accept(strand, nothrow);
      if (ec) {
        if (ec == asio::error::operation_aborted || st_->draining) co_return;
        // EMFILE and friends: back off instead of spinning.
        asio::steady_timer t(ioc_);
        t.expires_after(milliseconds(50));
        co_await t.async_wait(nothrow);
        continue;
      }
      edge_metrics& m = st_->router.metrics();
      if (m.open_connections() >= opt_.limits.max_connections) {
        m.connection_rejected();
        beast::error_code ignored;
        socket.close(ignored);
        continue;
      }
      m.connection_opened();
      auto handle = std::make_shared<conn_handle>();
      handle->strand = strand;
      st_->add(handle);
      auto st = st_;
      asio::co_spawn(strand, connection(std::move(socket), handle),
                     [st, handle](std::exception_ptr e) {
                       if (e) {
                         try {
                           std::rethrow_exception(e);
                         } catch (const std::exception& x) {
                           std::fprintf(stderr, "troupe: connection failed: %s\n", x.what());
                         }
                       }
                       handle->on_drain = nullptr;
                       st->remove(handle);
                       st->router.metrics().connection_closed();
                     });
    }
  }

  asio::awaitable<void> connection(tcp::socket socket, std::shared_ptr<conn_handle> handle) {
    beast::error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    if (!tls_) {
      co_await run_http_session(plain_stream(std::move(socket)), st_, handle);
      co_return;
    }
    tls_stream stream(plain_stream(std::move(socket)), tls_ctx_);
    beast::get_lowest_layer(stream).expires_after(milliseconds(opt_.limits.header_timeout_ms));
    auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::server, nothrow);
    if (hec) {
      if (hec == beast::error::timeout) st_->router.metrics().timeout_dropped();
      co_return;
    }
    co_await run_http_session(std::move(stream), st_, handle);
  }

  server_options opt_;
  std::shared_ptr<server_state> st_;
  asio::io_context ioc_;
  asio::ssl::context tls_ctx_;
  tcp::acceptor acceptor_;
  asio::signal_set signals_;
  std::vector<std::thread> threads_;
  std::chrono::steady_clock::time_point deadline_;
  uint16_t port_ = 0;
  bool tls_ = false;
};

}  // namespace

std::unique_ptr<server> server::create(const server_options& options, api_router& router,
                                       std::string* error) {
  auto s = std::make_unique<beast_server>(options, router);
  if (!s->init(error)) return nullptr;
  return s;
}

}  // namespace troupe::net
