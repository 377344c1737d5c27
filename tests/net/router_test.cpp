// The API as a function of one request (no sockets): routing, hook refusals,
// tokenize/detokenize and chat-template errors.
#include "net/api/router.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "net/edge/static_key_hooks.hpp"
#include "tests/net/fake_service.hpp"

namespace troupe::net {
namespace {

using json = nlohmann::json;

// Admits nobody past authentication: a rate limit or a model permission.
class refusing_hooks final : public request_hooks {
 public:
  explicit refusing_hooks(hook_refusal r) : refusal_(std::move(r)) {}
  std::optional<hook_refusal> authenticate(const std::string&, principal* who) override {
    who->id = "key:test";
    return std::nullopt;
  }
  std::optional<hook_refusal> admit(const principal&, const std::string&, int64_t estimated,
                                    admission*) override {
    last_estimate = estimated;
    return refusal_;
  }
  void record(const principal&, int64_t, const request_record&) override {}
  int64_t last_estimate = 0;

 private:
  hook_refusal refusal_;
};

http_in post(const std::string& path, const std::string& body) {
  http_in in;
  in.method = "POST";
  in.target = path;
  in.body = body;
  in.authorization = "Bearer sk-test";
  return in;
}

std::string header(const http_out& out, const std::string& name) {
  for (const auto& [k, v] : out.headers)
    if (k == name) return v;
  return "";
}

TEST(Router, ARateLimitRefusalIs429WithItsHeaders) {
  testing::fake_service svc;
  hook_refusal r;
  r.status = 429;
  r.type = "rate_limit_error";
  r.code = "rate_limit_exceeded";
  r.message = "Rate limit reached.";
  r.headers["Retry-After"] = "7";
  refusing_hooks hooks(r);
  edge_metrics metrics;
  api_router router(svc, hooks, metrics);
  http_out out = router.handle(post("/v1/completions", R"({"prompt":"abc","max_tokens":5,"n":2})"));
  EXPECT_EQ(out.status, 429);
  EXPECT_EQ(header(out, "Retry-After"), "7");
  EXPECT_EQ(json::parse(out.body)["error"]["code"], "rate_limit_exceeded");
  EXPECT_EQ(hooks.last_estimate, 4 + 5 * 2);  // BOS + 3 prompt tokens, 5 per choice
  EXPECT_FALSE(out.generation);
}

TEST(Router, AModelPermissionRefusalIs403) {
  testing::fake_service svc;
  hook_refusal r;
  r.status = 403;
  r.type = "permission_error";
  r.message = "Key not allowed to access model 'fake-model'.";
  r.param = "model";
  refusing_hooks hooks(r);
  edge_metrics metrics;
  api_router router(svc, hooks, metrics);
  http_out out = router.handle(post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}]})"));
  EXPECT_EQ(out.status, 403);
  EXPECT_EQ(json::parse(out.body)["error"]["type"], "permission_error");
  EXPECT_EQ(json::parse(out.body)["error"]["param"], "model");
}

TEST(Router, TokenizeAndDetokenizeRoundTrip) {
  testing::fake_service svc;
  static_key_hooks hooks({"sk-test"}, false);
  edge_metrics metrics;
  api_router router(svc, hooks, metrics);
  http_out t = router.handle(post("/tokenize", R"({"prompt":"hi"})"));
  ASSERT_EQ(t.status, 200);
  json tj = json::parse(t.body);
  EXPECT_EQ(tj["tokens"], json::array({1, 'h' + 3, 'i' + 3}));
  EXPECT_EQ(tj["count"], 3);
  EXPECT_EQ(tj["max_model_len"], 256);
  http_out plain = router.handle(post("/tokenize", R"({"prompt":"hi","add_special_tokens":false})"));
  EXPECT_EQ(json::parse(plain.body)["count"], 2);
  http_out d = router.handle(post("/detokenize", R"({"tokens":[107,108]})"));
  EXPECT_EQ(json::parse(d.body)["prompt"], "hi");
}

// vLLM's behaviour: the checkpoint's generation_config.json fills what the
// client left out, and only that.
TEST(Router, SamplingFieldsLeftOutTakeTheModelsGenerationConfigDefaults) {
  testing::fake_service::options fo;
  fo.default_temperature = 0.7f;
  fo.default_top_k = 50;
  testing::fake_service svc(fo);
  static_key_hooks hooks({"sk-test"}, false);
  edge_metrics metrics;
  api_router router(svc, hooks, metrics);
  http_out left_out = router.handle(post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}]})"));
  ASSERT_TRUE(left_out.generation);
  EXPECT_FLOAT_EQ(left_out.generation->request.params.temperature, 0.7f);
  EXPECT_EQ(left_out.generation->request.params.top_k, 50);
  http_out given = router.handle(post("/v1/completions", R"({"prompt":"x","temperature":0,"top_k":3})"));
  ASSERT_TRUE(given.generation);
  EXPECT_FLOAT_EQ(given.generation->request.params.temperature, 0.0f);
  EXPECT_EQ(given.generation->request.params.top_k, 3);
  http_out null_field = router.handle(post("/v1/completions", R"({"prompt":"x","temperature":null})"));
  ASSERT_TRUE(null_field.generation);
  EXPECT_FLOAT_EQ(null_field.generation->request.params.temperature, 0.7f);
}

TEST(Router, ChatWithoutATemplateIsAClear400) {
  testing::fake_service::options fo;
  fo.has_chat_template = false;
  testing::fake_service svc(fo);
  static_key_hooks hooks({"sk-test"}, false);
  edge_metrics metrics;
  api_router router(svc, hooks, metrics);
  http_out out = router.handle(post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}]})"));
  EXPECT_EQ(out.status, 400);
  json e = json::parse(out.body)["error"];
  EXPECT_EQ(e["param"], "messages");
  EXPECT_NE(e["message"].get<std::string>().find("no chat template"), std::string::npos);
}

TEST(Router, ChatDefaultsToTheRestOfTheContextAndCompletionsTo16) {
  testing::fake_service svc;
  static_key_hooks hooks({"sk-test"}, false);
  edge_metrics metrics;
  api_router router(svc, hooks, metrics);
  http_out chat = router.handle(post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"abcd"}]})"));
  ASSERT_TRUE(chat.generation);
  EXPECT_EQ(chat.generation->request.params.max_tokens, 256 - 4);
  http_out cmpl = router.handle(post("/v1/completions", R"({"prompt":"abcd"})"));
  ASSERT_TRUE(cmpl.generation);
  EXPECT_EQ(cmpl.generation->request.params.max_tokens, 16);
  EXPECT_EQ(cmpl.generation->request.prompt_token_ids.size(), 5u);
}

TEST(Router, AuthenticationIsDisabledOnlyExplicitly) {
  testing::fake_service svc;
  edge_metrics metrics;
  static_key_hooks none({}, false);
  api_router closed(svc, none, metrics);
  http_in in = post("/v1/completions", R"({"prompt":"a"})");
  in.authorization = "";
  EXPECT_EQ(closed.handle(in).status, 401);
  static_key_hooks open({}, true);
  api_router anyone(svc, open, metrics);
  EXPECT_TRUE(anyone.handle(in).generation);
}

}  // namespace
}  // namespace troupe::net
