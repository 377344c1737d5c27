// The edge over real sockets, against the fake service: limits, timeouts,
// disconnects, overload and shutdown behave as promised.
#include <sys/socket.h>
#include <unistd.h>

#include <poll.h>

#include <chrono>
#include <functional>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/net/test_server.hpp"

namespace troupe::net::testing {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

const std::string kChat = R"({"model":"fake-model","messages":[{"role":"user","content":"Hello"}]})";

bool wait_until(const std::function<bool()>& cond, std::chrono::milliseconds limit = 3000ms) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return cond();
}

TEST(Server, HealthAnswersWithARequestId) {
  test_server s;
  http_reply r = request(s.port, "GET", "/health", "", "");
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.header("x-request-id").empty());
}

TEST(Server, AChatCompletionEchoesThePromptAsTheFakeModelDoes) {
  test_server s;
  http_reply r = request(s.port, "POST", "/v1/chat/completions", kChat);
  ASSERT_EQ(r.status, 200) << r.body;
  json b = json::parse(r.body);
  EXPECT_EQ(b["choices"][0]["message"]["content"], "Hello");
  EXPECT_EQ(b["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(b["usage"]["prompt_tokens"], 5);
  EXPECT_EQ(b["usage"]["completion_tokens"], 5);
}

TEST(Server, CompletionsDefaultToSixteenTokens) {
  test_server s;
  http_reply r = request(s.port, "POST", "/v1/completions",
                         R"({"model":"fake-model","prompt":"abcdefghijklmnopqrstuvwxyz"})");
  ASSERT_EQ(r.status, 200) << r.body;
  json b = json::parse(r.body);
  EXPECT_EQ(b["choices"][0]["text"], "abcdefghijklmnop");
  EXPECT_EQ(b["choices"][0]["finish_reason"], "length");
}

TEST(Server, StreamingEndsWithDoneAfterTheUsageChunk) {
  test_server s;
  http_reply r = request(s.port, "POST", "/v1/chat/completions",
                         R"({"messages":[{"role":"user","content":"Hi"}],"stream":true,
                             "stream_options":{"include_usage":true}})");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "text/event-stream");
  EXPECT_NE(r.body.find("\"role\":\"assistant\""), std::string::npos);
  size_t usage = r.body.find("\"choices\":[],");
  size_t done = r.body.find("data: [DONE]\n\n");
  ASSERT_NE(usage, std::string::npos) << r.body;
  ASSERT_NE(done, std::string::npos);
  EXPECT_LT(usage, done);
}

TEST(Server, AWrongKeyIs401WithoutRetry) {
  test_server s;
  http_reply r = request(s.port, "POST", "/v1/chat/completions", kChat, "sk-wrong");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.header("x-should-retry"), "false");
  EXPECT_EQ(json::parse(r.body)["error"]["code"], "invalid_api_key");
}

TEST(Server, AnUnknownModelIs404ModelNotFound) {
  test_server s;
  http_reply r = request(s.port, "POST", "/v1/chat/completions",
                         R"({"model":"gpt-9","messages":[{"role":"user","content":"x"}]})");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(json::parse(r.body)["error"]["code"], "model_not_found");
}

TEST(Server, APromptLongerThanTheContextIs400ContextLengthExceeded) {
  fake_service::options fo;
  fo.max_model_len = 16;
  test_server s(fo);
  http_reply r = request(s.port, "POST", "/v1/completions",
                         R"({"prompt":"this prompt is longer than sixteen tokens"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body)["error"]["code"], "context_length_exceeded");
}

TEST(Server, AnOversizedBodyIs413) {
  config::server_config lim;
  lim.max_body_bytes = 2048;
  test_server s({}, lim);
  std::string big = R"({"prompt":")" + std::string(4096, 'a') + R"("})";
  http_reply r = request(s.port, "POST", "/v1/completions", big);
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_EQ(json::parse(r.body)["error"]["type"], "invalid_request_error");
  EXPECT_EQ(request(s.port, "GET", "/health", "", "").status, 200);
}

TEST(Server, OversizedHeadersAre431) {
  config::server_config lim;
  lim.max_header_bytes = 1024;
  test_server s({}, lim);
  int fd = connect_to(s.port);
  std::string raw = "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4000, 'b') + "\r\n\r\n";
  http_reply r = roundtrip(fd, raw);
  ::close(fd);
  EXPECT_EQ(r.status, 431);
}

TEST(Server, ASlowlorisClientIsDroppedAfterTheHeaderTimeout) {
  config::server_config lim;
  lim.header_timeout_ms = 300;
  test_server s({}, lim);
  int fd = connect_to(s.port);
  const std::string partial = "GET /health HTTP/1.1\r\nHost: x\r\n";
  ::send(fd, partial.data(), partial.size(), MSG_NOSIGNAL);
  auto t0 = std::chrono::steady_clock::now();
  // Keep dribbling header bytes; the server must still hang up.
  bool closed = false;
  for (int i = 0; i < 40 && !closed; ++i) {
    std::this_thread::sleep_for(50ms);
    ::send(fd, "X", 1, MSG_NOSIGNAL);
    char c;
    ssize_t n = ::recv(fd, &c, 1, MSG_DONTWAIT);
    closed = n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }
  ::close(fd);
  EXPECT_TRUE(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1500ms);
  EXPECT_EQ(request(s.port, "GET", "/health", "", "").status, 200);
}

TEST(Server, KeepAliveServesSeveralRequestsOnOneConnection) {
  test_server s;
  int fd = connect_to(s.port);
  for (int i = 0; i < 3; ++i) {
    http_reply r = roundtrip(fd, raw_request("POST", "/v1/completions", R"({"prompt":"ab"})", "sk-test", true));
    EXPECT_EQ(r.status, 200) << i;
  }
  ::close(fd);
}

TEST(Server, AClientVanishingMidStreamCancelsItsRequest) {
  fake_service::options fo;
  fo.step_delay_ms = 20;
  fo.max_model_len = 1024;
  test_server s(fo);
  int fd = connect_to(s.port);
  std::string body = R"({"prompt":")" + std::string(200, 'z') + R"(","max_tokens":200,"stream":true})";
  std::string raw = raw_request("POST", "/v1/completions", body, "sk-test");
  ::send(fd, raw.data(), raw.size(), MSG_NOSIGNAL);
  ASSERT_TRUE(wait_until([&] { return s.service.num_running() == 1; }));
  ::close(fd);
  EXPECT_TRUE(wait_until([&] { return s.service.num_cancelled() == 1; }));
  EXPECT_EQ(s.service.num_running(), 0u);
}

TEST(Server, AClientVanishingBeforeANonStreamingAnswerCancelsItsRequest) {
  fake_service::options fo;
  fo.step_delay_ms = 20;
  fo.max_model_len = 1024;
  test_server s(fo);
  int fd = connect_to(s.port);
  std::string body = R"({"prompt":")" + std::string(200, 'z') + R"(","max_tokens":200})";
  std::string raw = raw_request("POST", "/v1/completions", body, "sk-test");
  ::send(fd, raw.data(), raw.size(), MSG_NOSIGNAL);
  ASSERT_TRUE(wait_until([&] { return s.service.num_running() == 1; }));
  ::close(fd);
  EXPECT_TRUE(wait_until([&] { return s.service.num_cancelled() == 1; }));
}

TEST(Server, AnOverloadedServiceAnswers503WithRetryAfter) {
  fake_service::options fo;
  fo.max_running = 0;
  test_server s(fo);
  http_reply r = request(s.port, "POST", "/v1/chat/completions", kChat);
  EXPECT_EQ(r.status, 503);
  EXPECT_FALSE(r.header("retry-after").empty());
  EXPECT_EQ(json::parse(r.body)["error"]["code"], "server_is_overloaded");
}

TEST(Server, ReadyIs503UntilTheServiceIsReady) {
  test_server s;
  s.service.set_ready(false);
  EXPECT_EQ(request(s.port, "GET", "/ready", "", "").status, 503);
  s.service.set_ready(true);
  EXPECT_EQ(request(s.port, "GET", "/ready", "", "").status, 200);
}

TEST(Server, MetricsJoinEngineAndHttpFamilies) {
  test_server s;
  request(s.port, "GET", "/v1/models");
  // The count lands right after the response is written, so poll briefly.
  http_reply r;
  const std::string counted = "troupe:http_requests_total{endpoint=\"/v1/models\",status=\"200\"} 1";
  wait_until([&] {
    r = request(s.port, "GET", "/metrics", "", "");
    return r.body.find(counted) != std::string::npos;
  });
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(r.body.find("troupe:kv_free_blocks"), std::string::npos);
  EXPECT_NE(r.body.find(counted), std::string::npos) << r.body;
}

// Past shutdown_grace_ms the server does not wait any longer: the stream
// ends with an SSE error event (and a proper end of the chunked body), the
// request is cancelled in the service, and shutdown() returns.
TEST(Server, ShutdownPastTheGraceEndsAStreamWithAnErrorEventAndCancelsIt) {
  fake_service::options fo;
  fo.step_delay_ms = 50;  // 50 tokens: 2.5 s, far past the grace
  config::server_config limits;
  limits.shutdown_grace_ms = 200;
  auto s = std::make_unique<test_server>(fo, limits);
  int fd = connect_to(s->port);
  std::string prompt(200, 'x');
  std::string raw = raw_request("POST", "/v1/completions",
                                R"({"prompt":")" + prompt + R"(","max_tokens":50,"stream":true})", "sk-test");
  ::send(fd, raw.data(), raw.size(), MSG_NOSIGNAL);
  ASSERT_TRUE(wait_until([&] { return s->service.num_running() == 1; }));
  const auto t0 = std::chrono::steady_clock::now();
  std::thread stopper([&] { s->srv->shutdown(); });
  http_reply r = roundtrip(fd, "", 5000);
  stopper.join();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  ::close(fd);
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("data: {\"error\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("server_shutting_down"), std::string::npos);
  EXPECT_EQ(r.body.find("[DONE]"), std::string::npos);
  EXPECT_EQ(s->service.num_cancelled(), 1u);
  EXPECT_GE(ms, 150);
  EXPECT_LT(ms, 200 + 1500);
}

TEST(Server, ShutdownLetsAnInFlightRequestFinish) {
  fake_service::options fo;
  fo.step_delay_ms = 20;
  auto s = std::make_unique<test_server>(fo);
  int fd = connect_to(s->port);
  std::string raw = raw_request("POST", "/v1/completions", R"({"prompt":"0123456789","max_tokens":10})", "sk-test");
  ::send(fd, raw.data(), raw.size(), MSG_NOSIGNAL);
  ASSERT_TRUE(wait_until([&] { return s->service.num_running() == 1; }));
  std::thread stopper([&] { s->srv->shutdown(); });
  http_reply r = roundtrip(fd, "");
  stopper.join();
  ::close(fd);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["choices"][0]["text"], "0123456789");
  EXPECT_EQ(connect_to(s->port), -1);
  s->srv.reset();
}

TEST(Server, MaxConnectionsClosesTheExtraSocket) {
  config::server_config lim;
  lim.max_connections = 1;
  test_server s({}, lim);
  int a = connect_to(s.port);
  ASSERT_TRUE(wait_until([&] { return s.metrics.open_connections() == 1; }));
  int b = connect_to(s.port);
  char c;
  pollfd p{b, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 2000), 1);
  EXPECT_EQ(::recv(b, &c, 1, 0), 0);
  ::close(a);
  ::close(b);
}

}  // namespace
}  // namespace troupe::net::testing
