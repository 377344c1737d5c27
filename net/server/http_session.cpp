// One HTTP/1.1 connection as one coroutine on its own strand: read a request
// (header and body limits and timeouts), answer it or stream a generation, and
// loop while keep-alive holds. The write side of a streaming response is
// bounded by max_queued_writes: a client that reads slower than the engine
// produces is dropped (and its request cancelled) instead of buffering.
#include <poll.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <deque>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "net/server/generation_tally.hpp"
#include "net/server/session.hpp"
#include "net/server/ws_upgrade_check.hpp"

namespace troupe::net::detail {
namespace {

using std::chrono::milliseconds;
using clock_type = std::chrono::steady_clock;

// Engine events delivered to the session strand.
struct event_queue {
  explicit event_queue(asio::any_io_executor ex) : signal(ex) {}
  std::deque<actors::generation_event> events;
  asio::steady_timer signal;
};

actors::event_sink make_sink(std::shared_ptr<post_gate> gate, std::shared_ptr<event_queue> q) {
  return [gate, q](actors::generation_event ev) {
    gate->post(q->signal.get_executor(), [q, ev = std::move(ev)]() mutable {
      q->events.push_back(std::move(ev));
      q->signal.cancel();
    });
  };
}

std::string request_id_for(const http_request& req) {
  auto it = req.find("x-request-id");
  if (it != req.end()) {
    std::string v(it->value());
    bool sane = !v.empty() && v.size() <= 128;
    for (char c : v) sane = sane && c > 32 && c < 127;
    if (sane) return v;
  }
  return api_router::new_id("req_");
}

http::response<http::string_body> make_response(const http_out& out, const std::string& request_id,
                                                bool keep_alive) {
  http::response<http::string_body> res{static_cast<http::status>(out.status), 11};
  res.set(http::field::server, "troupe");
  res.set(http::field::content_type, out.content_type);
  res.set("x-request-id", request_id);
  for (const auto& [k, v] : out.headers) res.set(k, v);
  res.keep_alive(keep_alive);
  res.body() = out.body;
  res.prepare_payload();
  return res;
}

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

template <class Stream>
asio::awaitable<bool> write_reply(Stream& stream, const http_out& out, const std::string& request_id,
                                  bool keep_alive, server_state& st) {
  auto res = make_response(out, request_id, keep_alive);
  beast::get_lowest_layer(stream).expires_after(milliseconds(st.limits.idle_timeout_ms));
  auto [ec, n] = co_await http::async_write(stream, res, nothrow);
  co_return !ec;
}

// Streams (or collects) one generation. Returns false when the connection
// cannot be reused (client gone, write failed, slow reader dropped).
template <class Stream>
asio::awaitable<bool> serve_generation(Stream& stream, http_out& out, const std::string& request_id,
                                       bool keep_alive, server_state& st, int* status_out,
                                       clock_type::time_point t0, const std::string& client_address) {
  pending_generation& gen = *out.generation;
  auto& lowest = beast::get_lowest_layer(stream);
  auto ex = co_await asio::this_coro::executor;
  auto q = std::make_shared<event_queue>(ex);
  std::string err_msg;
  actors::generation_service& service = st.router.service();
  generation_tally tally(gen.request, gen.who, gen.endpoint, client_address, gen.prompt_text, t0);
  auto record = [&](int status, const std::string& finish) {
    const request_record& rec = tally.finish(status, finish);
    st.router.hooks().record(gen.who, gen.estimated_tokens, rec);
    if (status == 200) st.router.metrics().generation_finished(finish, tally.seconds(), rec);
    if (otlp_exporter* tracer = st.router.tracer()) {
      request_trace_input t;
      t.ids = gen.trace;
      t.operation = gen.operation;
      t.record = &rec;
      t.t0_unix_ns = tally.t0_unix_ns();
      t.auth_ms = gen.auth_ms;
      t.started_ms = tally.created_ms();
      t.first_output_ms = tally.first_output_ms();
      t.end_ms = tally.seconds() * 1e3;
      t.max_tokens = gen.request.params.max_tokens;
      t.temperature = gen.request.params.temperature;
      t.top_p = gen.request.params.top_p;
      t.stream = gen.stream;
      tracer->submit(request_spans(t));
    }
  };

  actors::service_error err = service.start(gen.request, make_sink(st.gate, q), &err_msg);
  if (err != actors::service_error::none) {
    http_out e = api_router::error_reply(from_service_error(err, err_msg));
    *status_out = e.status;
    record(e.status, "error");
    co_return co_await write_reply(stream, e, request_id, keep_alive, st);
  }
  *status_out = 200;
  // Until this returns, the server may cancel the request itself at shutdown.
  struct running_guard {
    server_state& st;
    std::string id;
    ~running_guard() { st.request_ended(id); }
  } running{st, gen.request.request_id};
  st.request_started(running.id);

  http::response<http::empty_body> head{http::status::ok, 11};
  std::optional<http::response_serializer<http::empty_body>> sr;
  if (gen.stream) {
    head.set(http::field::server, "troupe");
    head.set(http::field::content_type, "text/event-stream");
    head.set(http::field::cache_control, "no-cache");
    head.set("x-request-id", request_id);
    for (const auto& [k, v] : gen.headers) head.set(k, v);
    head.keep_alive(keep_alive);
    head.chunked(true);
    sr.emplace(head);
    lowest.expires_after(milliseconds(st.limits.idle_timeout_ms));
    auto [ec, n] = co_await http::async_write_header(stream, *sr, nothrow);
    if (ec) {
      service.cancel(gen.request.request_id);
      st.router.metrics().client_disconnected();
      record(499, "abort");
      co_return false;
    }
  }

  auto abandon = [&](bool slow) {
    service.cancel(gen.request.request_id);
    if (slow) st.router.metrics().slow_client_dropped();
    else st.router.metrics().client_disconnected();
    record(499, "abort");
  };

  // Rate-limited, and checked between events too: a busy generation must
  // notice its client leaving as well as an idle one.
  auto next_peer_check = clock_type::now();
  auto client_left = [&] {
    if (clock_type::now() < next_peer_check) return false;
    next_peer_check = clock_type::now() + milliseconds(100);
    return peer_gone(lowest.socket());
  };
  for (;;) {
    bool left = false;
    while (q->events.empty() && !(left = client_left()) && !st.aborting) {
      q->signal.expires_after(milliseconds(100));
      co_await q->signal.async_wait(nothrow);
    }
    if (left || client_left()) {
      abandon(false);
      co_return false;
    }
    if (st.aborting) {
      // The grace period is over: stop the generation and tell the client why
      // (an SSE error event, or a 503 before any byte of a plain response).
      service.cancel(gen.request.request_id);
      const api_error cut = cut_by_shutdown();
      *status_out = cut.status;
      record(cut.status, "abort");
      if (!gen.stream) {
        co_await write_reply(stream, api_router::error_reply(cut), request_id, false, st);
        co_return false;
      }
      lowest.expires_after(milliseconds(500));
      const std::string ev = sse_error_event(cut);
      auto [ec, n] = co_await asio::async_write(stream, http::make_chunk(asio::buffer(ev)), nothrow);
      if (!ec) co_await asio::async_write(stream, http::make_chunk_last(), nothrow);
      co_return false;
    }
    if (q->events.size() > static_cast<size_t>(st.limits.max_queued_writes)) {
      abandon(true);
      co_return false;
    }
    std::string bytes;
    bool complete = false;
    std::optional<api_error> failure;
    while (!q->events.empty() && !complete) {
      tally.on_event(q->events.front());
      format_step step = gen.formatter->on_event(q->events.front());
      q->events.pop_front();
      bytes += step.bytes;
      complete = step.complete;
      failure = std::move(step.error);
    }
    if (!gen.stream) {
      if (!complete) continue;
      if (failure) {
        http_out e = api_router::error_reply(*failure);
        *status_out = e.status;
        record(e.status, "error");
        co_return co_await write_reply(stream, e, request_id, keep_alive, st);
      }
      http_out ok;
      ok.body = std::move(bytes);
      for (const auto& [k, v] : gen.headers) ok.headers.emplace_back(k, v);
      record(200, gen.formatter->finish_reason());
      bool written = co_await write_reply(stream, ok, request_id, keep_alive, st);
      if (!written) st.router.metrics().client_disconnected();
      co_return written;
    }
    if (!bytes.empty()) {
      lowest.expires_after(milliseconds(st.limits.idle_timeout_ms));
      auto [ec, n] = co_await asio::async_write(stream, http::make_chunk(asio::buffer(bytes)), nothrow);
      if (ec) {
        if (!complete) abandon(false);
        co_return false;
      }
    }
    if (complete) {
      auto [ec, n] = co_await asio::async_write(stream, http::make_chunk_last(), nothrow);
      record(200, gen.formatter->finish_reason());
      co_return !ec;
    }
  }
}

bool is_timeout(const beast::error_code& ec) { return ec == beast::error::timeout; }

template <class Stream>
asio::awaitable<void> close_stream(Stream& stream);

template <>
asio::awaitable<void> close_stream(plain_stream& stream) {
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  co_return;
}

template <>
asio::awaitable<void> close_stream(tls_stream& stream) {
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
  co_await stream.async_shutdown(nothrow);
}

// After refusing a request we did not read in full (bad framing, 413, 431):
// send FIN right after the answer, so that a client reading to end-of-stream
// has it at once, then keep reading and discarding for a short while before
// closing: closing with unread bytes makes the kernel send RST, and the client
// would see "connection reset" instead of our answer (nginx's lingering close).
// Over TLS the FIN comes without close_notify; the answer is framed by its
// Content-Length, so clients take it whole.
template <class Stream>
asio::awaitable<void> linger(Stream& stream, const config::server_config& lim) {
  auto& lowest = beast::get_lowest_layer(stream);
  beast::error_code ec;
  lowest.socket().shutdown(tcp::socket::shutdown_send, ec);
  lowest.expires_after(std::chrono::seconds(2));
  std::array<char, 16384> scratch;
  uint64_t drained = 0;
  while (drained < 2 * uint64_t(lim.max_body_bytes)) {
    auto [rec, n] = co_await lowest.socket().async_read_some(asio::buffer(scratch), nothrow);
    if (rec) break;
    drained += n;
  }
}

// The client left or went quiet: nothing to answer.
bool peer_left(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::ssl::error::stream_truncated || ec == asio::error::connection_reset ||
         ec == asio::error::operation_aborted || ec == asio::error::broken_pipe;
}

// The answer to a request whose head or body could not be read.
api_error framing_error(const beast::error_code& ec, const config::server_config& lim) {
  if (ec == http::error::header_limit) return header_too_large(lim.max_header_bytes);
  if (ec == http::error::body_limit) return body_too_large(lim.max_body_bytes);
  return invalid_request("Malformed HTTP request: " + ec.message() + ".");
}

template <class Stream>
asio::awaitable<void> session_loop(Stream stream, std::shared_ptr<server_state> st,
                                   std::shared_ptr<conn_handle> handle) {
  auto& lowest = beast::get_lowest_layer(stream);
  const config::server_config& lim = st->limits;
  edge_metrics& metrics = st->router.metrics();
  beast::flat_buffer buffer;
  bool idle = true;
  // Draining: an idle connection is closed now, a busy one after its response.
  handle->on_drain = [&lowest, &idle] {
    if (idle) lowest.cancel();
  };
  beast::error_code peer_ec;
  std::string client_address = lowest.socket().remote_endpoint(peer_ec).address().to_string();

  for (;;) {
    idle = true;
    if (st->draining) break;
    if (buffer.size() == 0) {
      // Wait for the first byte of the next request (keep-alive idle time).
      lowest.expires_after(milliseconds(lim.idle_timeout_ms));
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), nothrow);
      if (ec) {
        if (is_timeout(ec)) metrics.timeout_dropped();
        co_return;
      }
      buffer.commit(n);
    }
    idle = false;
    const auto t0 = clock_type::now();
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(lim.max_header_bytes));
    parser.body_limit(static_cast<std::uint64_t>(lim.max_body_bytes));
    lowest.expires_after(milliseconds(lim.header_timeout_ms));
    auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, nothrow);
    if (hec) {
      if (is_timeout(hec)) {
        metrics.timeout_dropped();
        co_return;  // slowloris: drop without a word
      }
      if (peer_left(hec)) co_return;
      // A Content-Length over body_limit already fails while reading the header.
      api_error e = framing_error(hec, lim);
      http_out out = api_router::error_reply(e);
      co_await write_reply(stream, out, api_router::new_id("req_"), false, *st);
      metrics.request_finished("other", e.status, seconds_since(t0));
      co_await linger(stream, lim);
      co_return;
    }
    const std::string request_id = request_id_for(parser.get());
    const std::string target(parser.get().target());
    if (beast::websocket::is_upgrade(parser.get())) {
      const std::string path = target.substr(0, target.find('?'));
      if (path == "/v1/responses") {
        if (auto refused = check_ws_upgrade(parser.get())) {
          http_out out = api_router::error_reply(*refused);
          co_await write_reply(stream, out, request_id, false, *st);
          metrics.request_finished("ws:/v1/responses", refused->status, seconds_since(t0));
          break;
        }
        lowest.expires_never();
        handle->on_drain = nullptr;  // the WebSocket session installs its own
        co_await run_ws_session(std::move(stream), parser.release(), request_id, st, handle);
        co_return;
      }
    }
    if (parser.content_length() && *parser.content_length() > uint64_t(lim.max_body_bytes)) {
      http_out out = api_router::error_reply(body_too_large(lim.max_body_bytes));
      co_await write_reply(stream, out, request_id, false, *st);
      metrics.request_finished("other", 413, seconds_since(t0));
      co_await linger(stream, lim);
      co_return;
    }
    if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
      http::response<http::empty_body> cont{http::status::continue_, 11};
      co_await http::async_write(stream, cont, nothrow);
    }
    lowest.expires_after(milliseconds(lim.read_timeout_ms));
    auto [bec, bn] = co_await http::async_read(stream, buffer, parser, nothrow);
    if (bec) {
      if (is_timeout(bec)) {
        metrics.timeout_dropped();
        co_return;
      }
      if (peer_left(bec)) co_return;
      // An oversized or badly framed body (chunk size "zz"): say so, then close.
      api_error e = framing_error(bec, lim);
      http_out out = api_router::error_reply(e);
      co_await write_reply(stream, out, request_id, false, *st);
      metrics.request_finished("other", e.status, seconds_since(t0));
      co_await linger(stream, lim);
      co_return;
    }
    http_request req = parser.release();
    http_in in;
    in.method = std::string(req.method_string());
    in.target = target;
    in.body = std::move(req.body());
    in.authorization = std::string(req[http::field::authorization]);
    in.request_id = request_id;
    in.client_address = client_address;
    in.traceparent = std::string(req["traceparent"]);
    bool keep_alive = req.keep_alive() && !st->draining;

    http_out out;
    try {
      out = st->router.handle(in);
    } catch (const std::exception&) {
      out = api_router::error_reply(internal_error());
      out.endpoint = "other";
    }
    int status = out.status;
    bool reusable = true;
    if (out.generation) {
      reusable = co_await serve_generation(stream, out, request_id, keep_alive, *st, &status, t0,
                                           client_address);
    } else {
      reusable = co_await write_reply(stream, out, request_id, keep_alive, *st);
    }
    metrics.request_finished(out.endpoint.empty() ? "other" : out.endpoint, status, seconds_since(t0));
    if (!reusable) co_return;
    if (!keep_alive || st->draining) break;
  }
  co_await close_stream(stream);
}

}  // namespace

bool peer_gone(tcp::socket& socket) {
  pollfd p{};
  p.fd = socket.native_handle();
  p.events = POLLRDHUP;
  if (::poll(&p, 1, 0) <= 0) return false;
  return (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

asio::awaitable<void> run_http_session(plain_stream stream, std::shared_ptr<server_state> st,
                                       std::shared_ptr<conn_handle> handle) {
  co_await session_loop(std::move(stream), std::move(st), std::move(handle));
}

asio::awaitable<void> run_http_session(tls_stream stream, std::shared_ptr<server_state> st,
                                       std::shared_ptr<conn_handle> handle) {
  co_await session_loop(std::move(stream), std::move(st), std::move(handle));
}

}  // namespace troupe::net::detail
