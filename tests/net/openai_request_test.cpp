#include "net/api/openai_request.hpp"

#include <gtest/gtest.h>

namespace troupe::net {
namespace {

api_error error_of(const parse_result& r) {
  EXPECT_TRUE(std::holds_alternative<api_error>(r));
  return std::holds_alternative<api_error>(r) ? std::get<api_error>(r) : api_error{};
}

TEST(ChatRequest, AllSamplingFieldsAreRead) {
  auto r = parse_chat_request(R"({"model":"m","messages":[{"role":"system","content":"s"},
    {"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}],
    "max_completion_tokens":7,"temperature":0.5,"top_p":0.9,"top_k":40,"min_p":0.1,
    "presence_penalty":1,"frequency_penalty":-1,"repetition_penalty":1.1,"seed":42,
    "stop":["x","y"],"n":2,"logprobs":true,"top_logprobs":3,"user":"u","ignore_eos":true,
    "stream":true,"stream_options":{"include_usage":true},"some_future_field":{"x":1}})");
  ASSERT_TRUE(std::holds_alternative<openai_request>(r)) << error_of(r).message;
  const auto& q = std::get<openai_request>(r);
  EXPECT_EQ(q.model, "m");
  ASSERT_EQ(q.messages.size(), 2u);
  EXPECT_EQ(q.messages[1].content, "ab");
  EXPECT_EQ(*q.max_tokens, 7);
  EXPECT_FLOAT_EQ(q.params.temperature, 0.5f);
  EXPECT_FLOAT_EQ(q.params.top_p, 0.9f);
  EXPECT_EQ(q.params.top_k, 40);
  EXPECT_FLOAT_EQ(q.params.min_p, 0.1f);
  EXPECT_FLOAT_EQ(q.params.presence_penalty, 1.0f);
  EXPECT_FLOAT_EQ(q.params.frequency_penalty, -1.0f);
  EXPECT_FLOAT_EQ(q.params.repetition_penalty, 1.1f);
  EXPECT_TRUE(q.has_seed);
  EXPECT_EQ(q.params.seed, 42u);
  EXPECT_EQ(q.stop, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(q.n, 2);
  EXPECT_TRUE(q.logprobs);
  EXPECT_EQ(q.top_logprobs, 3);
  EXPECT_TRUE(q.params.ignore_eos);
  EXPECT_TRUE(q.stream);
  EXPECT_TRUE(q.include_usage);
}

TEST(ChatRequest, WrongTypesNameTheFieldInParam) {
  EXPECT_EQ(error_of(parse_chat_request(R"({"messages":[{"role":"user","content":"x"}],"temperature":"hot"})")).param,
            "temperature");
  EXPECT_EQ(error_of(parse_chat_request(R"({"messages":[{"role":"user","content":"x"}],"max_tokens":1.5})")).param,
            "max_tokens");
  EXPECT_EQ(error_of(parse_chat_request(R"({"messages":"hi"})")).param, "messages");
  EXPECT_EQ(error_of(parse_chat_request(R"({"messages":[{"role":"user","content":"x"}],"stream":"yes"})")).param,
            "stream");
  EXPECT_EQ(error_of(parse_chat_request(R"({"messages":[{"role":"user","content":"x"}],"stream_options":{"include_usage":1}})")).param,
            "stream_options.include_usage");
  EXPECT_EQ(error_of(parse_chat_request(R"({"messages":[{"role":"wizard","content":"x"}]})")).param,
            "messages[0].role");
}

TEST(ChatRequest, OutOfRangeValuesAreRejected) {
  const std::string m = R"("messages":[{"role":"user","content":"x"}])";
  EXPECT_EQ(error_of(parse_chat_request("{" + m + R"(,"max_tokens":-5})")).param, "max_tokens");
  EXPECT_EQ(error_of(parse_chat_request("{" + m + R"(,"max_tokens":0})")).param, "max_tokens");
  EXPECT_EQ(error_of(parse_chat_request("{" + m + R"(,"temperature":3})")).param, "temperature");
  EXPECT_EQ(error_of(parse_chat_request("{" + m + R"(,"top_logprobs":21,"logprobs":true})")).param, "top_logprobs");
  std::string many_stops = R"(,"stop":[)";
  for (int i = 0; i < 65; ++i) many_stops += (i ? ",\"s" : "\"s") + std::to_string(i) + "\"";
  EXPECT_EQ(error_of(parse_chat_request("{" + m + many_stops + "]}")).param, "stop");
  EXPECT_EQ(std::get<openai_request>(parse_chat_request("{" + m + R"(,"stop":["a","b","c","d","e"]})")).stop.size(), 5u);
  EXPECT_EQ(error_of(parse_chat_request("{" + m + R"(,"n":0})")).param, "n");
}

TEST(ChatRequest, NullMeansNotGiven) {
  auto r = parse_chat_request(R"({"messages":[{"role":"user","content":"x"}],"temperature":null,"stop":null})");
  ASSERT_TRUE(std::holds_alternative<openai_request>(r));
  EXPECT_FLOAT_EQ(std::get<openai_request>(r).params.temperature, 1.0f);
}

TEST(ChatRequest, MalformedJsonAndInvalidUtf8Are400) {
  api_error e = error_of(parse_chat_request(R"({"messages": [)"));
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.code, "invalid_json");
  e = error_of(parse_chat_request("{\"messages\":[{\"role\":\"user\",\"content\":\"\xff\xfe\"}]}"));
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.code, "invalid_json");
  e = error_of(parse_chat_request("[1,2]"));
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(error_of(parse_chat_request("{}")).param, "messages");
}

TEST(CompletionRequest, PromptShapes) {
  auto a = parse_completion_request(R"({"prompt":"hello"})");
  EXPECT_EQ(*std::get<openai_request>(a).prompt_text, "hello");
  auto b = parse_completion_request(R"({"prompt":["hello"]})");
  EXPECT_EQ(*std::get<openai_request>(b).prompt_text, "hello");
  auto c = parse_completion_request(R"({"prompt":[1,2,3]})");
  EXPECT_EQ(std::get<openai_request>(c).prompt_token_ids, (std::vector<int32_t>{1, 2, 3}));
  auto d = parse_completion_request(R"({"prompt":[[4,5]]})");
  EXPECT_EQ(std::get<openai_request>(d).prompt_token_ids, (std::vector<int32_t>{4, 5}));
  auto several = std::get<openai_request>(parse_completion_request(R"({"prompt":["a",[7,8],"c"]})"));
  EXPECT_EQ(*several.prompt_text, "a");
  ASSERT_EQ(several.extra_prompts.size(), 2u);
  EXPECT_EQ(several.extra_prompts[0].token_ids, (std::vector<int32_t>{7, 8}));
  EXPECT_EQ(*several.extra_prompts[1].text, "c");
  EXPECT_EQ(error_of(parse_completion_request(R"({"prompt":[]})")).param, "prompt");
  EXPECT_EQ(error_of(parse_completion_request(R"({"prompt":{"x":1}})")).param, "prompt");
  EXPECT_EQ(error_of(parse_completion_request(R"({"prompt":[-1]})")).param, "prompt");
  EXPECT_EQ(error_of(parse_completion_request(R"({"max_tokens":3})")).param, "prompt");
}

TEST(CompletionRequest, LogprobsIsAnIntegerUpToFive) {
  auto r = parse_completion_request(R"({"prompt":"x","logprobs":2})");
  EXPECT_TRUE(std::get<openai_request>(r).logprobs);
  EXPECT_EQ(std::get<openai_request>(r).top_logprobs, 2);
  EXPECT_EQ(error_of(parse_completion_request(R"({"prompt":"x","logprobs":6})")).param, "logprobs");
  EXPECT_EQ(error_of(parse_completion_request(R"({"prompt":"x","logprobs":true})")).param, "logprobs");
}

TEST(ResponseCreate, InputInstructionsAndStreamId) {
  auto r = parse_response_create(R"({"type":"response.create","stream_id":"a_1","input":"hi",
    "instructions":"be brief","max_output_tokens":5,"top_k":3})");
  ASSERT_TRUE(std::holds_alternative<openai_request>(r));
  const auto& q = std::get<openai_request>(r);
  EXPECT_EQ(q.stream_id, "a_1");
  ASSERT_EQ(q.messages.size(), 2u);
  EXPECT_EQ(q.messages[0].role, "system");
  EXPECT_EQ(q.messages[1].content, "hi");
  EXPECT_EQ(*q.max_tokens, 5);
  EXPECT_EQ(q.params.top_k, 3);
  EXPECT_EQ(error_of(parse_response_create(R"({"stream_id":"bad id!","input":"x"})")).param, "stream_id");
  EXPECT_EQ(error_of(parse_response_create(R"({"stream_id":"a"})")).param, "input");
}

}  // namespace
}  // namespace troupe::net
