// The Responses WebSocket mode at /v1/responses: one socket carries several
// generation streams (stream_id lanes). A reader coroutine takes client events
// (response.create, response.cancel); engine events arrive on the same strand
// and are turned into JSON text frames queued for a writer coroutine, so reads
// and writes overlap but each side has one operation in flight.
#include <algorithm>
#include <chrono>
#include <deque>
#include <map>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <nlohmann/json.hpp>

#include "net/server/generation_tally.hpp"
#include "net/server/session.hpp"

namespace troupe::net::detail {
namespace {

namespace websocket = beast::websocket;
using json = nlohmann::json;

constexpr size_t kMaxStreamsPerSocket = 16;
constexpr const char* kKeyProtocol = "openai-insecure-api-key.";

struct lane {
  std::string stream_id;
  std::unique_ptr<ws_response_formatter> formatter;
  int64_t estimated_tokens = 0;
  generation_tally tally;  // its log row, filled as the request goes
  request_trace_ids trace;  // when tracing: a child of the upgrade's traceparent
  actors::generation_request request;  // sampling parameters, for the trace
};

template <class Stream>
struct ws_conn : std::enable_shared_from_this<ws_conn<Stream>> {
  ws_conn(Stream s, std::shared_ptr<server_state> state)
      : ws(std::move(s)), st(std::move(state)), out_signal(ws.get_executor()) {
    beast::error_code ec;
    auto peer = beast::get_lowest_layer(ws).socket().remote_endpoint(ec);
    if (!ec) client_address = peer.address().to_string();
  }

  std::string client_address;

  websocket::stream<Stream> ws;
  std::shared_ptr<server_state> st;
  principal who;
  std::string traceparent;            // the upgrade request's, parent of every lane's trace
  std::map<std::string, lane> lanes;  // by request id
  std::deque<std::string> out;
  asio::steady_timer out_signal;
  bool closing = false;            // writer: send close after the queue drains
  bool writer_done = false;
  bool draining = false;
  websocket::close_reason close_with{websocket::close_code::normal};

  void send(std::string frame) {
    out.push_back(std::move(frame));
    out_signal.cancel();
  }
  void start_close(websocket::close_reason why) {
    if (closing) return;
    closing = true;
    close_with = std::move(why);
    out_signal.cancel();
  }

  // Writes the lane's log row and settles its token reservation; returns its seconds.
  double record_lane(lane& l, int status, const std::string& reason) {
    const request_record& rec = l.tally.finish(status, reason);
    st->router.hooks().record(who, l.estimated_tokens, rec);
    if (otlp_exporter* tracer = st->router.tracer()) {
      request_trace_input t;
      t.ids = l.trace;
      t.operation = "chat";
      t.record = &rec;
      t.t0_unix_ns = l.tally.t0_unix_ns();
      t.started_ms = l.tally.created_ms();
      t.first_output_ms = l.tally.first_output_ms();
      t.end_ms = l.tally.seconds() * 1e3;
      t.max_tokens = l.request.params.max_tokens;
      t.temperature = l.request.params.temperature;
      t.top_p = l.request.params.top_p;
      t.stream = true;
      tracer->submit(request_spans(t));
    }
    return l.tally.seconds();
  }

  void finish_lane(std::map<std::string, lane>::iterator it, int status, const std::string& reason) {
    double secs = record_lane(it->second, status, reason);
    st->router.metrics().request_finished("ws:/v1/responses", status, secs);
    if (status == 200)
      st->router.metrics().generation_finished(reason, secs, it->second.tally.finish(status, reason));
    st->request_ended(it->first);
    lanes.erase(it);
    if (draining && lanes.empty()) start_close(websocket::close_reason(websocket::close_code::going_away));
  }

  void on_engine_event(const std::string& request_id, actors::generation_event ev) {
    auto it = lanes.find(request_id);
    if (it == lanes.end()) return;  // cancelled lane: late events are dropped
    std::vector<std::string> frames;
    it->second.tally.on_event(ev);
    bool terminal = it->second.formatter->on_event(ev, &frames);
    for (auto& f : frames) send(std::move(f));
    if (out.size() > static_cast<size_t>(st->limits.max_queued_writes)) {
      // The client reads slower than we produce: drop it rather than buffer.
      st->router.metrics().slow_client_dropped();
      abort_all();
      start_close(websocket::close_reason(websocket::close_code::policy_error, "reader too slow"));
      return;
    }
    if (terminal) {
      bool failed = ev.error != actors::service_error::none;
      // The terminal event is the request's `done`, which carries no reason
      // of its own: the reason is the one choice 0 finished with.
      const std::string reason = !ev.finish_reason_text.empty() ? ev.finish_reason_text
                                                                : it->second.tally.finish_reason_seen();
      finish_lane(it, failed ? from_service_error(ev.error, "").status : 200,
                  failed ? "error" : reason);
    }
  }

  // The client left or is dropped: cancel every lane, each still logged (499).
  void abort_all() {
    for (auto& [id, l] : lanes) {
      st->router.service().cancel(id);
      record_lane(l, 499, "abort");
      st->request_ended(id);
    }
    lanes.clear();
  }

  // The server's grace period ran out: every lane ends with an error event
  // (503, server_shutting_down) and the socket closes with 1001.
  void cut_all() {
    const api_error cut = cut_by_shutdown();
    for (auto& [id, l] : lanes) {
      st->router.service().cancel(id);
      send(ws_error_event(cut, l.stream_id));
      double secs = record_lane(l, cut.status, "abort");
      st->router.metrics().request_finished("ws:/v1/responses", cut.status, secs);
      st->request_ended(id);
    }
    lanes.clear();
    start_close(websocket::close_reason(websocket::close_code::going_away));
  }

  // A refused connection or response.create still gets its request log row
  // (as refused HTTP generations do); the principal is empty when the
  // credential was refused.
  void record_refusal(const std::string& request_id, int status, const std::string& model = "",
                      const std::string& user = "") {
    request_record rec;
    rec.request_id = request_id;
    rec.model = model;
    rec.user = user;
    rec.principal_id = who.id;
    rec.endpoint = "ws:/v1/responses";
    rec.status = status;
    rec.client_address = client_address;
    rec.started_at_unix_ms = unix_now_ms();
    st->router.hooks().record(who, /*estimated_tokens=*/0, rec);
  }

  void error_event(const api_error& e, const std::string& stream_id) {
    st->router.metrics().request_finished("ws:/v1/responses", e.status, 0.0);
    send(ws_error_event(e, stream_id));
  }

  void on_client_event(const std::string& text) {
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded()) return error_event(invalid_json("the event is not a JSON object"), "");
    if (!j.is_object()) return error_event(invalid_request("An event must be a JSON object."), "");
    std::string stream_id;
    if (auto s = j.find("stream_id"); s != j.end() && s->is_string()) stream_id = s->get<std::string>();
    auto type = j.find("type");
    if (type == j.end() || !type->is_string())
      return error_event(invalid_request("The 'type' field is missing.", std::string("type")), stream_id);
    const std::string t = type->get<std::string>();
    if (t == "response.cancel") {
      for (auto it = lanes.begin(); it != lanes.end(); ++it) {
        if (it->second.stream_id != stream_id) continue;
        st->router.service().cancel(it->first);
        send(it->second.formatter->cancelled_event());
        finish_lane(it, 200, "abort");
        return;
      }
      return error_event(invalid_request("No active response on stream_id '" + stream_id + "'.",
                                         std::string("stream_id")), stream_id);
    }
    if (t != "response.create")
      return error_event(invalid_request("Unknown event type '" + t + "'.", std::string("type")), stream_id);
    if (draining) return error_event(shutting_down(), stream_id);
    for (auto& [id, l] : lanes)
      if (l.stream_id == stream_id)
        return error_event(invalid_request("stream_id '" + stream_id + "' already has a response in "
                                           "progress.", std::string("stream_id"),
                                           std::string("stream_id_in_use")), stream_id);
    if (lanes.size() >= kMaxStreamsPerSocket)
      return error_event(invalid_request("At most " + std::to_string(kMaxStreamsPerSocket) +
                                         " streams may run at once on one socket.",
                                         std::string("stream_id"),
                                         std::string("websocket_stream_limit_reached")), stream_id);
    std::string requested_model;
    auto prepared = st->router.prepare_response_create(text, who, &requested_model);
    if (auto* e = std::get_if<api_error>(&prepared)) {
      // The model asked for, once the event parsed (as HTTP refusals are logged).
      std::string user;
      if (auto u = j.find("user"); !requested_model.empty() && u != j.end() && u->is_string())
        user = u->get<std::string>().substr(0, 256);
      record_refusal(api_router::new_id("resp_"), e->status, requested_model, user);
      return error_event(*e, stream_id);
    }
    pending_ws_generation& gen = std::get<pending_ws_generation>(prepared);
    const std::string request_id = gen.request.request_id;
    auto self = this->shared_from_this();
    auto gate = st->gate;
    auto ex = ws.get_executor();
    actors::event_sink sink = [self, gate, ex, request_id](actors::generation_event ev) {
      gate->post(ex, [self, request_id, ev = std::move(ev)]() mutable {
        self->on_engine_event(request_id, std::move(ev));
      });
    };
    std::string err;
    gen.request.principal = who.id;
    actors::service_error se = st->router.service().start(gen.request, std::move(sink), &err);
    if (se != actors::service_error::none) {
      api_error e = from_service_error(se, err);
      record_refusal(request_id, e.status, gen.request.model, gen.request.user);
      return error_event(e, stream_id);
    }
    send(gen.formatter->created_event());
    lane l{stream_id, std::move(gen.formatter), gen.estimated_tokens,
           generation_tally(gen.request, who, "ws:/v1/responses", client_address, gen.prompt_text,
                            generation_tally::clock_type::now()),
           new_request_trace(traceparent), gen.request};
    lanes.emplace(request_id, std::move(l));
    st->request_started(request_id);
  }

  asio::awaitable<void> writer() {
    auto self = this->shared_from_this();
    for (;;) {
      while (out.empty() && !closing) {
        out_signal.expires_at(asio::steady_timer::time_point::max());
        co_await out_signal.async_wait(nothrow);
      }
      if (out.empty() && closing) break;
      ws.text(true);
      auto [ec, n] = co_await ws.async_write(asio::buffer(out.front()), nothrow);
      if (ec) break;
      out.pop_front();
    }
    if (closing) co_await ws.async_close(close_with, nothrow);
    writer_done = true;
  }
};

// The key from Authorization, or from the browser subprotocol convention.
std::string credential_of(const http_request& req, std::string* accepted_protocol) {
  std::string authz(req[http::field::authorization]);
  std::string offered(req[http::field::sec_websocket_protocol]);
  std::string key_from_protocol, other;
  size_t pos = 0;
  while (pos < offered.size()) {
    size_t comma = offered.find(',', pos);
    std::string p = offered.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    while (!p.empty() && p.front() == ' ') p.erase(p.begin());
    while (!p.empty() && p.back() == ' ') p.pop_back();
    if (p.rfind(kKeyProtocol, 0) == 0) {
      key_from_protocol = p.substr(std::string(kKeyProtocol).size());
      if (accepted_protocol->empty()) *accepted_protocol = p;
    } else if (!p.empty() && other.empty()) {
      other = p;
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  // Echo a non-secret protocol when one was offered alongside the key.
  if (!other.empty()) *accepted_protocol = other;
  if (authz.empty() && !key_from_protocol.empty()) authz = "Bearer " + key_from_protocol;
  return authz;
}

template <class Stream>
asio::awaitable<void> ws_loop(Stream stream, http_request req, std::string request_id,
                              std::shared_ptr<server_state> st, std::shared_ptr<conn_handle> handle) {
  auto conn = std::make_shared<ws_conn<Stream>>(std::move(stream), st);
  conn->traceparent = std::string(req["traceparent"]);
  std::string protocol;
  const std::string authz = credential_of(req, &protocol);
  std::optional<api_error> auth_error = st->router.authenticate(authz, conn->client_address, &conn->who);

  conn->ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
  // Beast checks each frame header against the limit: a frame (or the sum
  // of a fragmented message's frames) that declares more is refused at its
  // header with close code 1009, before any of its payload is awaited. The
  // loop below checks the bytes received as well.
  const uint64_t max_message_bytes = static_cast<uint64_t>(st->limits.max_body_bytes);
  conn->ws.read_message_max(static_cast<size_t>(max_message_bytes));
  conn->ws.set_option(websocket::stream_base::decorator([protocol, request_id](websocket::response_type& res) {
    res.set(http::field::server, "troupe");
    res.set("x-request-id", request_id);
    if (!protocol.empty()) res.set(http::field::sec_websocket_protocol, protocol);
  }));
  auto [aec] = co_await conn->ws.async_accept(req, nothrow);
  if (aec) co_return;
  if (auth_error) {
    // Say why in an error event, then close with 1008 (policy violation).
    conn->ws.text(true);
    co_await conn->ws.async_write(asio::buffer(ws_error_event(*auth_error, "")), nothrow);
    st->router.metrics().request_finished("ws:/v1/responses", auth_error->status, 0.0);
    conn->record_refusal(request_id, auth_error->status);
    co_await conn->ws.async_close(websocket::close_reason(websocket::close_code::policy_error,
                                                          "invalid api key"), nothrow);
    co_return;
  }
  handle->on_drain = [weak = std::weak_ptr<ws_conn<Stream>>(conn)] {
    if (auto c = weak.lock()) {
      c->draining = true;
      if (c->lanes.empty()) c->start_close(websocket::close_reason(websocket::close_code::going_away));
    }
  };
  handle->on_abort = [weak = std::weak_ptr<ws_conn<Stream>>(conn)] {
    if (auto c = weak.lock()) c->cut_all();
  };
  asio::co_spawn(conn->ws.get_executor(), conn->writer(), asio::detached);

  beast::flat_buffer buf;
  for (;;) {
    buf.clear();
    beast::error_code ec;
    bool too_big = false;
    do {
      auto [rec, n] = co_await conn->ws.async_read_some(buf, 64 * 1024, nothrow);
      ec = rec;
      too_big = buf.size() > max_message_bytes;
    } while (!ec && !too_big && !conn->ws.is_message_done());
    if (too_big) {
      conn->start_close(websocket::close_reason(websocket::close_code::too_big, "message too big"));
      break;
    }
    if (ec) break;
    if (!conn->ws.got_text()) {
      conn->error_event(invalid_request("Binary frames are not supported; send JSON text frames."), "");
      continue;
    }
    try {
      conn->on_client_event(beast::buffers_to_string(buf.data()));
    } catch (const std::exception&) {
      conn->abort_all();
      conn->start_close(websocket::close_reason(websocket::close_code::internal_error));
      break;
    }
    if (conn->closing) break;
  }
  // The client left (or we close): its generations stop and free their KV blocks.
  if (!conn->lanes.empty()) st->router.metrics().client_disconnected();
  conn->abort_all();
  if (!conn->closing) conn->start_close(websocket::close_reason(websocket::close_code::normal));
  asio::steady_timer wait(conn->ws.get_executor());
  for (int i = 0; i < 100 && !conn->writer_done; ++i) {
    wait.expires_after(std::chrono::milliseconds(20));
    co_await wait.async_wait(nothrow);
  }
  handle->on_drain = nullptr;
  handle->on_abort = nullptr;
}

}  // namespace

asio::awaitable<void> run_ws_session(plain_stream stream, http_request request, std::string request_id,
                                     std::shared_ptr<server_state> st, std::shared_ptr<conn_handle> handle) {
  co_await ws_loop(std::move(stream), std::move(request), std::move(request_id), std::move(st),
                   std::move(handle));
}

asio::awaitable<void> run_ws_session(tls_stream stream, http_request request, std::string request_id,
                                     std::shared_ptr<server_state> st, std::shared_ptr<conn_handle> handle) {
  co_await ws_loop(std::move(stream), std::move(request), std::move(request_id), std::move(st),
                   std::move(handle));
}

}  // namespace troupe::net::detail
