#include "net/api/openai_response.hpp"

#include <strings.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace troupe::net {
namespace {

using json = nlohmann::json;

actors::generation_event text(const std::string& t) {
  actors::generation_event e;
  e.text_delta = t;
  return e;
}

actors::generation_event last(const std::string& t, const char* reason) {
  actors::generation_event e = text(t);
  e.finished = std::string(reason) == "length" ? engine::finish_reason::length : engine::finish_reason::stop;
  e.finish_reason_text = reason;
  e.done = true;
  e.prompt_tokens = 5;
  e.completion_tokens = 2;
  return e;
}

// Splits "data: …\n\n" events into their payloads.
std::vector<std::string> payloads(const std::string& sse) {
  std::vector<std::string> out;
  size_t pos = 0;
  while ((pos = sse.find("data: ", pos)) != std::string::npos) {
    size_t end = sse.find("\n\n", pos);
    out.push_back(sse.substr(pos + 6, end - pos - 6));
    pos = end + 2;
  }
  return out;
}

openai_formatter::options chat_opts(bool stream, bool usage) {
  openai_formatter::options o;
  o.kind = api_kind::chat;
  o.id = "chatcmpl-1";
  o.model = "m";
  o.created_unix_s = 123;
  o.stream = stream;
  o.include_usage = usage;
  return o;
}

TEST(ChatStream, RoleFirstFinishReasonOnLastContentUsageChunkThenDone) {
  openai_formatter f(chat_opts(true, true));
  std::string sse = f.on_event(text("He")).bytes;
  auto step = f.on_event(last("y", "stop"));
  EXPECT_TRUE(step.complete);
  sse += step.bytes;
  auto p = payloads(sse);
  ASSERT_EQ(p.size(), 5u);  // role, "He", "y"+finish, usage, [DONE]
  json role = json::parse(p[0]);
  EXPECT_EQ(role["object"], "chat.completion.chunk");
  EXPECT_EQ(role["choices"][0]["delta"]["role"], "assistant");
  EXPECT_TRUE(role["usage"].is_null());
  EXPECT_TRUE(role.contains("usage"));
  EXPECT_EQ(json::parse(p[1])["choices"][0]["delta"]["content"], "He");
  EXPECT_TRUE(json::parse(p[1])["choices"][0]["finish_reason"].is_null());
  json fin = json::parse(p[2]);
  EXPECT_EQ(fin["choices"][0]["delta"]["content"], "y");
  EXPECT_EQ(fin["choices"][0]["finish_reason"], "stop");
  json usage = json::parse(p[3]);
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["prompt_tokens"], 5);
  EXPECT_EQ(usage["usage"]["completion_tokens"], 2);
  EXPECT_EQ(usage["usage"]["total_tokens"], 7);
  EXPECT_EQ(p[4], "[DONE]");
  for (int i = 0; i < 4; ++i) EXPECT_EQ(json::parse(p[i])["id"], "chatcmpl-1");
}

TEST(ChatStream, WithoutIncludeUsageChunksHaveNoUsageKey) {
  openai_formatter f(chat_opts(true, false));
  auto p = payloads(f.on_event(last("x", "length")).bytes);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_FALSE(json::parse(p[0]).contains("usage"));
  EXPECT_EQ(json::parse(p[1])["choices"][0]["finish_reason"], "length");
}

TEST(ChatStream, AStandaloneFinalEventOnNoChoiceEndsTheStream) {
  openai_formatter f(chat_opts(true, true));
  actors::generation_event fin = text("!");
  fin.finished = engine::finish_reason::stop;
  fin.finish_reason_text = "stop";
  std::string sse = f.on_event(fin).bytes;
  actors::generation_event done;
  done.index = -1;
  done.done = true;
  done.prompt_tokens = 3;
  done.completion_tokens = 1;
  auto step = f.on_event(done);
  EXPECT_TRUE(step.complete);
  sse += step.bytes;
  auto p = payloads(sse);
  ASSERT_EQ(p.size(), 4u);  // role, "!"+finish, usage, [DONE]
  EXPECT_EQ(json::parse(p[1])["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(json::parse(p[2])["usage"]["total_tokens"], 4);
  EXPECT_EQ(p[3], "[DONE]");
}

TEST(WsResponse, AStandaloneFinalEventCompletesTheResponse) {
  ws_response_formatter f("resp_x", "", "m", 1);
  std::vector<std::string> out;
  EXPECT_FALSE(f.on_event(text("a"), &out));
  actors::generation_event done;
  done.index = -1;
  done.done = true;
  done.prompt_tokens = 2;
  done.completion_tokens = 1;
  EXPECT_TRUE(f.on_event(done, &out));
  // in_progress, item added, part added, delta, text done, part done, item done, completed
  ASSERT_EQ(out.size(), 8u);
  EXPECT_EQ(json::parse(out[7])["response"]["usage"]["total_tokens"], 3);
}

TEST(ChatJson, OneBodyWithMessageAndUsage) {
  openai_formatter f(chat_opts(false, false));
  EXPECT_TRUE(f.on_event(text("Hel")).bytes.empty());
  auto step = f.on_event(last("lo", "stop"));
  ASSERT_TRUE(step.complete);
  json b = json::parse(step.bytes);
  EXPECT_EQ(b["object"], "chat.completion");
  EXPECT_EQ(b["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(b["choices"][0]["message"]["content"], "Hello");
  EXPECT_EQ(b["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(b["usage"]["total_tokens"], 7);
}

TEST(CompletionJson, TextCompletionWithLogprobs) {
  openai_formatter::options o = chat_opts(false, false);
  o.kind = api_kind::completion;
  o.logprobs = true;
  openai_formatter f(o);
  auto e = last("ab", "length");
  e.logprobs.push_back({"ab", -0.25f, {{"ab", -0.25f}, {"x", -2.0f}}});
  json b = json::parse(f.on_event(e).bytes);
  EXPECT_EQ(b["object"], "text_completion");
  EXPECT_EQ(b["choices"][0]["text"], "ab");
  EXPECT_EQ(b["choices"][0]["logprobs"]["tokens"][0], "ab");
  EXPECT_FLOAT_EQ(b["choices"][0]["logprobs"]["token_logprobs"][0].get<float>(), -0.25f);
  EXPECT_FLOAT_EQ(b["choices"][0]["logprobs"]["top_logprobs"][0]["x"].get<float>(), -2.0f);
  EXPECT_EQ(b["choices"][0]["logprobs"]["text_offset"][0], 0);
}

TEST(ChatStream, AnErrorAfterTheStreamStartedIsADataErrorEventAndTheEnd) {
  openai_formatter f(chat_opts(true, false));
  f.on_event(text("a"));
  actors::generation_event e;
  e.error = actors::service_error::internal;
  auto step = f.on_event(e);
  EXPECT_TRUE(step.complete);
  auto p = payloads(step.bytes);
  ASSERT_EQ(p.size(), 1u);
  json err = json::parse(p[0]);
  EXPECT_EQ(err["error"]["type"], "server_error");
  EXPECT_EQ(step.bytes.find("[DONE]"), std::string::npos);
}

TEST(WsResponse, EventsEchoStreamIdAndCountSequenceNumbers) {
  ws_response_formatter f("resp_abc", "s1", "m", 1);
  json created = json::parse(f.created_event());
  EXPECT_EQ(created["type"], "response.created");
  EXPECT_EQ(created["stream_id"], "s1");
  EXPECT_EQ(created["sequence_number"], 0);
  std::vector<std::string> out;
  EXPECT_FALSE(f.on_event(text("Hi"), &out));
  EXPECT_TRUE(f.on_event(last("!", "stop"), &out));
  ASSERT_EQ(out.size(), 9u);
  std::vector<std::string> types;
  for (const auto& e : out) types.push_back(json::parse(e)["type"]);
  EXPECT_EQ(types, (std::vector<std::string>{
                       "response.in_progress", "response.output_item.added", "response.content_part.added",
                       "response.output_text.delta", "response.output_text.delta", "response.output_text.done",
                       "response.content_part.done", "response.output_item.done", "response.completed"}));
  json d = json::parse(out[3]);
  EXPECT_EQ(d["type"], "response.output_text.delta");
  EXPECT_EQ(d["delta"], "Hi");
  EXPECT_EQ(d["output_index"], 0);
  EXPECT_EQ(d["content_index"], 0);
  EXPECT_EQ(d["sequence_number"], 4);
  EXPECT_EQ(json::parse(out[5])["text"], "Hi!");
  EXPECT_EQ(json::parse(out[7])["item"]["content"][0]["text"], "Hi!");
  json done = json::parse(out[8]);
  EXPECT_EQ(done["type"], "response.completed");
  EXPECT_EQ(done["response"]["status"], "completed");
  EXPECT_EQ(done["response"]["usage"]["input_tokens"], 5);
  EXPECT_EQ(done["response"]["usage"]["total_tokens"], 7);
  EXPECT_EQ(done["response"]["output"][0]["content"][0]["text"], "Hi!");
  EXPECT_EQ(json::parse(f.cancelled_event())["response"]["status"], "cancelled");
}

TEST(Errors, EveryErrorBodyHasAllFourKeysAndRetryHeaders) {
  for (const api_error& e : {invalid_request("x"), model_not_found("m"), overloaded(2), internal_error(),
                             body_too_large(10), method_not_allowed("GET", "/p", "POST")}) {
    json b = json::parse(error_body(e));
    for (const char* k : {"message", "type", "param", "code"}) EXPECT_TRUE(b["error"].contains(k)) << k;
  }
  auto h = error_headers(invalid_request("x"));
  EXPECT_NE(std::find(h.begin(), h.end(), std::make_pair(std::string("x-should-retry"), std::string("false"))),
            h.end());
  h = error_headers(overloaded(2));
  EXPECT_NE(std::find(h.begin(), h.end(), std::make_pair(std::string("Retry-After"), std::string("2"))), h.end());
  EXPECT_EQ(model_not_found("m").code, "model_not_found");
  EXPECT_EQ(from_service_error(actors::service_error::overloaded, "").status, 503);
  EXPECT_EQ(from_service_error(actors::service_error::context_length_exceeded, "").code, "context_length_exceeded");
}

TEST(Errors, AHookRetryAfterInLowerCaseIsNotReplacedByTheDefault) {
  hook_refusal r;
  r.status = 429;
  r.type = "rate_limit_error";
  r.message = "Rate limit reached.";
  r.headers["retry-after"] = "7";
  auto h = error_headers(from_refusal(r));
  int num_retry_after = 0;
  for (const auto& [k, v] : h) {
    if (strcasecmp(k.c_str(), "retry-after") == 0) {
      ++num_retry_after;
      EXPECT_EQ(v, "7");
    }
  }
  EXPECT_EQ(num_retry_after, 1);
}

}  // namespace
}  // namespace troupe::net
