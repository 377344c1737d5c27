#include "bench/serving/client.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <deque>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

namespace troupe::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using asio::awaitable;
using asio::use_awaitable;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

bool parse_base_url(const std::string& url, endpoint_url* out, std::string* error) {
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    out->tls = true;
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    out->tls = false;
    rest = url.substr(7);
  } else {
    *error = "--base-url must start with http:// or https://";
    return false;
  }
  const auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  out->path_prefix = slash == std::string::npos ? "" : rest.substr(slash);
  while (!out->path_prefix.empty() && out->path_prefix.back() == '/') out->path_prefix.pop_back();
  if (out->path_prefix.size() >= 3 &&
      out->path_prefix.compare(out->path_prefix.size() - 3, 3, "/v1") == 0)
    out->path_prefix.resize(out->path_prefix.size() - 3);
  const auto colon = authority.rfind(':');
  if (colon == std::string::npos) {
    out->host = authority;
    out->port = out->tls ? "443" : "80";
  } else {
    out->host = authority.substr(0, colon);
    out->port = authority.substr(colon + 1);
  }
  if (out->host.empty()) {
    *error = "--base-url has no host";
    return false;
  }
  return true;
}

namespace {

// A counting semaphore for coroutines on one single-threaded io_context.
class async_semaphore {
 public:
  async_semaphore(asio::any_io_executor ex, int32_t slots) : ex_(ex), available_(slots) {}
  awaitable<void> acquire() {
    if (available_ > 0) {
      --available_;
      co_return;
    }
    auto timer = std::make_shared<asio::steady_timer>(ex_, clock_type::time_point::max());
    waiters_.push_back(timer);
    co_await timer->async_wait(asio::as_tuple(use_awaitable));  // woken by release()
  }
  void release() {
    if (waiters_.empty()) {
      ++available_;
      return;
    }
    auto t = waiters_.front();
    waiters_.pop_front();
    t->cancel();
  }

 private:
  asio::any_io_executor ex_;
  int32_t available_;
  std::deque<std::shared_ptr<asio::steady_timer>> waiters_;
};

std::string request_body(const client_options& o, const bench_request& r) {
  nlohmann::json body = {{"model", o.model},
                         {"max_tokens", r.output_len},
                         {"stream", true},
                         {"stream_options", {{"include_usage", true}}},
                         {"temperature", 0}};
  if (o.ignore_eos) body["ignore_eos"] = true;
  if (o.endpoint == "chat")
    body["messages"] = nlohmann::json::array({{{"role", "user"}, {"content", r.prompt}}});
  else
    body["prompt"] = r.prompt;
  return body.dump();
}

// Reads SSE events out of the response bytes and timestamps content.
struct sse_reader {
  std::string pending;
  request_timing* timing;
  clock_type::time_point sent, last_content;
  bool saw_done = false;
  int32_t content_events = 0;

  void feed(const char* data, std::size_t n) {
    pending.append(data, n);
    std::size_t end;
    while ((end = pending.find("\n\n")) != std::string::npos) {
      std::string event = pending.substr(0, end);
      pending.erase(0, end + 2);
      on_event(event);
    }
  }
  void on_event(const std::string& event) {
    std::istringstream lines(event);
    std::string line;
    while (std::getline(lines, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.rfind("data:", 0) != 0) continue;
      std::string data = line.substr(line.size() > 5 && line[5] == ' ' ? 6 : 5);
      if (data == "[DONE]") {
        saw_done = true;
        continue;
      }
      auto j = nlohmann::json::parse(data, nullptr, false);
      if (j.is_discarded()) continue;
      if (j.contains("error")) {
        timing->error = j["error"].dump();
        continue;
      }
      if (j.contains("usage") && j["usage"].is_object()) {
        timing->prompt_tokens = j["usage"].value("prompt_tokens", timing->prompt_tokens);
        timing->output_tokens = j["usage"].value("completion_tokens", timing->output_tokens);
      }
      if (!j.contains("choices") || !j["choices"].is_array() || j["choices"].empty()) continue;
      const auto& c = j["choices"][0];
      std::string text;
      if (c.contains("text") && c["text"].is_string()) text = c["text"].get<std::string>();
      if (c.contains("delta") && c["delta"].is_object() && c["delta"].contains("content") &&
          c["delta"]["content"].is_string())
        text = c["delta"]["content"].get<std::string>();
      if (text.empty()) continue;
      const auto now = clock_type::now();
      if (content_events == 0) timing->ttft_s = std::chrono::duration<double>(now - sent).count();
      else timing->itl_s.push_back(std::chrono::duration<double>(now - last_content).count());
      last_content = now;
      ++content_events;
    }
  }
};

template <class Stream>
awaitable<bool> exchange(Stream& stream, const endpoint_url& url, const client_options& o,
                         const bench_request& r, request_timing& t) {
  http::request<http::string_body> req{http::verb::post,
                                       url.path_prefix + (o.endpoint == "chat"
                                                              ? "/v1/chat/completions"
                                                              : "/v1/completions"),
                                       11};
  req.set(http::field::host, url.host);
  req.set(http::field::content_type, "application/json");
  req.set(http::field::accept, "text/event-stream");
  if (!o.api_key.empty()) req.set(http::field::authorization, "Bearer " + o.api_key);
  req.body() = request_body(o, r);
  req.prepare_payload();
  sse_reader reader;
  reader.timing = &t;
  reader.sent = clock_type::now();
  co_await http::async_write(stream, req, use_awaitable);
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  co_await http::async_read_header(stream, buffer, parser, use_awaitable);
  const int status = parser.get().result_int();
  std::string raw;
  char chunk[16384];
  while (!parser.is_done()) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof chunk;
    // read_some, not read: read would wait until the chunk buffer is full or
    // the stream has ended, so every event of a short stream would get the
    // same timestamp (TTFT = E2E, ITL = 0).
    auto [ec, n] =
        co_await http::async_read_some(stream, buffer, parser, asio::as_tuple(use_awaitable));
    if (ec == http::error::need_buffer) ec = {};
    if (ec) throw beast::system_error(ec);
    const std::size_t got = sizeof chunk - parser.get().body().size;
    if (status == 200) reader.feed(chunk, got);
    else raw.append(chunk, got);
  }
  t.e2e_s = std::chrono::duration<double>(clock_type::now() - reader.sent).count();
  if (status != 200) {
    t.error = "HTTP " + std::to_string(status) + ": " + raw.substr(0, 300);
  } else if (t.error.empty() && !reader.saw_done) {
    t.error = "stream ended without [DONE]";
  } else if (t.error.empty()) {
    if (t.output_tokens == 0) t.output_tokens = reader.content_events;
    if (t.prompt_tokens == 0) t.prompt_tokens = r.input_len;
    t.ok = reader.content_events > 0;
    if (!t.ok) t.error = "no content in the stream";
  }
  co_return parser.get().keep_alive();
}

struct load_run {
  const client_options& options;
  endpoint_url url;
  ssl::context* tls;
  const std::vector<bench_request>& requests;
  std::vector<request_timing> timings;
  async_semaphore slots;
  const std::function<void(int, int)>& progress;
  int done = 0;
  std::deque<std::unique_ptr<beast::tcp_stream>> idle_plain;
  std::deque<std::unique_ptr<beast::ssl_stream<beast::tcp_stream>>> idle_tls;
  clock_type::time_point started;

  template <class Stream>
  awaitable<void> send_on(std::deque<std::unique_ptr<Stream>>& idle, std::size_t i) {
    auto ex = co_await asio::this_coro::executor;
    std::unique_ptr<Stream> stream;
    if (!idle.empty()) {
      stream = std::move(idle.front());
      idle.pop_front();
    } else {
      tcp::resolver resolver(ex);
      auto endpoints = co_await resolver.async_resolve(url.host, url.port, use_awaitable);
      if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
        stream = std::make_unique<Stream>(ex);
        co_await stream->async_connect(endpoints, use_awaitable);
      } else {
        stream = std::make_unique<Stream>(ex, *tls);
        SSL_set_tlsext_host_name(stream->native_handle(), url.host.c_str());
        co_await beast::get_lowest_layer(*stream).async_connect(endpoints, use_awaitable);
        co_await stream->async_handshake(ssl::stream_base::client, use_awaitable);
      }
    }
    beast::get_lowest_layer(*stream).expires_after(
        std::chrono::milliseconds(static_cast<int64_t>(options.request_timeout_s * 1000)));
    const bool keep = co_await exchange(*stream, url, options, requests[i], timings[i]);
    beast::get_lowest_layer(*stream).expires_never();
    if (keep) idle.push_back(std::move(stream));
  }

  awaitable<void> one(std::size_t i) {
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer at(ex, started + std::chrono::microseconds(
                                            static_cast<int64_t>(requests[i].send_at_s * 1e6)));
    co_await at.async_wait(use_awaitable);
    co_await slots.acquire();
    try {
      if (url.tls) co_await send_on(idle_tls, i);
      else co_await send_on(idle_plain, i);
    } catch (const std::exception& e) {
      timings[i].ok = false;
      timings[i].error = e.what();
    }
    slots.release();
    ++done;
    if (progress) progress(done, static_cast<int>(requests.size()));
  }
};

bool configure_tls(const client_options& options, ssl::context& tls, std::string* error) {
  if (options.insecure) {
    tls.set_verify_mode(ssl::verify_none);
    return true;
  }
  tls.set_verify_mode(ssl::verify_peer);
  if (options.cacert.empty()) {
    tls.set_default_verify_paths();
    return true;
  }
  boost::system::error_code ec;
  tls.load_verify_file(options.cacert, ec);
  if (ec) *error = "--cacert " + options.cacert + ": " + ec.message();
  return !ec;
}

template <class Stream>
bool get_on(Stream& stream, const endpoint_url& url, const client_options& o,
            const std::string& path, std::string* body, std::string* error) {
  http::request<http::empty_body> req{http::verb::get, url.path_prefix + path, 11};
  req.set(http::field::host, url.host);
  if (!o.api_key.empty()) req.set(http::field::authorization, "Bearer " + o.api_key);
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  if (res.result_int() != 200) {
    *error = "GET " + path + ": HTTP " + std::to_string(res.result_int());
    return false;
  }
  *body = std::move(res.body());
  return true;
}

}  // namespace

bool fetch_text(const client_options& options, const std::string& path, std::string* body,
                std::string* error) {
  endpoint_url url;
  if (!parse_base_url(options.base_url, &url, error)) return false;
  try {
    asio::io_context io;
    tcp::resolver resolver(io);
    const auto endpoints = resolver.resolve(url.host, url.port);
    if (!url.tls) {
      beast::tcp_stream stream(io);
      stream.expires_after(std::chrono::seconds(30));
      stream.connect(endpoints);
      return get_on(stream, url, options, path, body, error);
    }
    ssl::context tls(ssl::context::tls_client);
    if (!configure_tls(options, tls, error)) return false;
    beast::ssl_stream<beast::tcp_stream> stream(io, tls);
    SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str());
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
    beast::get_lowest_layer(stream).connect(endpoints);
    stream.handshake(ssl::stream_base::client);
    return get_on(stream, url, options, path, body, error);
  } catch (const std::exception& e) {
    *error = "GET " + path + ": " + e.what();
    return false;
  }
}

std::vector<request_timing> run_load(const client_options& options,
                                     const std::vector<bench_request>& requests,
                                     const std::function<void(int, int)>& progress,
                                     double* duration_s, std::string* error) {
  endpoint_url url;
  if (!parse_base_url(options.base_url, &url, error)) return {};
  ssl::context tls(ssl::context::tls_client);
  if (url.tls && !configure_tls(options, tls, error)) return {};
  asio::io_context io;
  const int32_t slots = options.max_concurrency > 0 ? options.max_concurrency : 1 << 30;
  load_run run{options, url, &tls, requests, std::vector<request_timing>(requests.size()),
               async_semaphore(io.get_executor(), slots), progress};
  run.started = clock_type::now();
  for (std::size_t i = 0; i < requests.size(); ++i)
    asio::co_spawn(io, run.one(i), asio::detached);
  io.run();
  *duration_s = std::chrono::duration<double>(clock_type::now() - run.started).count();
  return std::move(run.timings);
}

}  // namespace troupe::bench
