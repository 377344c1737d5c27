#include <gtest/gtest.h>

#include "actors/engine/chat/tool_calls.hpp"
#include "actors/engine/structured/byte_dfa.hpp"

using namespace troupe::engine;

TEST(ToolCalls, TheFormatComesFromTheTemplateText) {
  EXPECT_EQ(detect_tool_call_format("... <tool_call>\\n{...}</tool_call> ..."), tool_call_format::hermes);
  EXPECT_EQ(detect_tool_call_format("{{ '[TOOL_CALLS]' }}"), tool_call_format::mistral);
  EXPECT_EQ(detect_tool_call_format("{{ '<|python_tag|>' }}"), tool_call_format::llama3_json);
  EXPECT_EQ(detect_tool_call_format("plain"), tool_call_format::llama3_json);
}

TEST(ToolCalls, HermesCallsAreReadWithTheTextBeforeThemAsContent) {
  auto p = parse_tool_calls(tool_call_format::hermes,
                            "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": "
                            "{\"city\": \"Oslo\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"f\", "
                            "\"arguments\": {}}\n</tool_call>");
  ASSERT_EQ(p.calls.size(), 2u);
  EXPECT_EQ(p.calls[0].name, "get_weather");
  EXPECT_EQ(p.calls[0].arguments_json, R"({"city":"Oslo"})");
  EXPECT_EQ(p.calls[1].arguments_json, "{}");
  EXPECT_EQ(*p.content, "Let me check.");
  auto only = parse_tool_calls(tool_call_format::hermes, "<tool_call>{\"name\":\"f\",\"arguments\":{\"a\":1}}</tool_call>");
  EXPECT_FALSE(only.content.has_value());
}

TEST(ToolCalls, TextThatIsNotACallStaysContent) {
  for (const char* text : {"no calls here", "<tool_call>{not json}</tool_call>", "<tool_call>{\"x\":1}</tool_call>"}) {
    auto p = parse_tool_calls(tool_call_format::hermes, text);
    EXPECT_TRUE(p.calls.empty()) << text;
    EXPECT_EQ(*p.content, text);
  }
  EXPECT_TRUE(parse_tool_calls(tool_call_format::llama3_json, "{\"a\": 1}").calls.empty());
  EXPECT_TRUE(parse_tool_calls(tool_call_format::mistral, "[1, 2]").calls.empty());
}

TEST(ToolCalls, Llama3JsonWithOrWithoutThePythonTagAndSeveralCalls) {
  auto p = parse_tool_calls(tool_call_format::llama3_json,
                            "<|python_tag|>{\"name\": \"search\", \"parameters\": {\"q\": \"a;b\"}}");
  ASSERT_EQ(p.calls.size(), 1u);
  EXPECT_EQ(p.calls[0].arguments_json, R"({"q":"a;b"})");
  auto two = parse_tool_calls(tool_call_format::llama3_json,
                              "{\"name\": \"a\", \"parameters\": {}}; {\"name\": \"b\", \"arguments\": {\"x\": 2}}");
  ASSERT_EQ(two.calls.size(), 2u);
  EXPECT_EQ(two.calls[1].name, "b");
  EXPECT_EQ(two.calls[1].arguments_json, R"({"x":2})");
}

TEST(ToolCalls, MistralListWithOrWithoutTheMarker) {
  for (const char* text : {"[TOOL_CALLS][{\"name\": \"f\", \"arguments\": {\"k\": true}}]",
                           "[{\"name\": \"f\", \"arguments\": {\"k\": true}}]"}) {
    auto p = parse_tool_calls(tool_call_format::mistral, text);
    ASSERT_EQ(p.calls.size(), 1u) << text;
    EXPECT_EQ(p.calls[0].arguments_json, R"({"k":true})");
  }
}

TEST(ToolCalls, TheConstraintMatchesExactlyWhatTheParserReads) {
  const std::vector<tool_call_pattern> fns = {{"get_weather", R"(\{"city":"[a-z]+"\})"}, {"f.x", R"(\{\})"}};
  struct cse {
    tool_call_format f;
    const char* good;
    const char* bad;
  };
  for (const cse& c : {cse{tool_call_format::hermes,
                           "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\":\"oslo\"}}\n</tool_call>\n"
                           "<tool_call>\n{\"name\": \"f.x\", \"arguments\": {}}\n</tool_call>",
                           "<tool_call>\n{\"name\": \"other\", \"arguments\": {}}\n</tool_call>"},
                       cse{tool_call_format::llama3_json, "{\"name\": \"f.x\", \"parameters\": {}}",
                           "{\"name\": \"fxx\", \"parameters\": {}}"},
                       cse{tool_call_format::mistral,
                           "[{\"name\": \"get_weather\", \"arguments\": {\"city\":\"a\"}}, {\"name\": \"f.x\", \"arguments\": {}}]",
                           "[]"}}) {
    std::string error;
    auto dfa = structured::regex_to_dfa(tool_call_regex(c.f, fns, /*parallel=*/true), &error);
    ASSERT_TRUE(dfa) << error;
    EXPECT_TRUE(dfa->matches(c.good)) << to_string(c.f);
    EXPECT_FALSE(dfa->matches(c.bad)) << to_string(c.f);
    EXPECT_FALSE(parse_tool_calls(c.f, c.good).calls.empty()) << to_string(c.f);
  }
}
