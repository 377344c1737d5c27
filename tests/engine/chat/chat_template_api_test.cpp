// The public API around the renderer: JSON key order, tokenizer_config.json
// fields, and rendering one parsed template from many threads.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "actors/engine/chat/chat_template.hpp"

namespace {

using troupe::engine::chat_template;
using ojson = nlohmann::ordered_json;

TEST(ChatTemplateApi, OrderedJsonKeepsTheClientsKeyOrderInTojsonAsPythonDictsDo) {
  std::string error;
  auto tmpl = chat_template::parse("{{ tools | tojson }}", &error);
  ASSERT_TRUE(tmpl) << error;
  ojson tools = ojson::parse(R"([{"type": "function", "function": {"name": "f", "description": "d"}}])");
  auto rendered = tmpl->render(ojson{{"tools", tools}}, &error);
  ASSERT_TRUE(rendered) << error;
  // json.dumps([{"type": …, "function": {"name": …, "description": …}}]) in Python:
  EXPECT_EQ(*rendered, R"([{"type": "function", "function": {"name": "f", "description": "d"}}])");

  // nlohmann::json is accepted too; its objects are sorted by key.
  auto sorted = tmpl->render(nlohmann::json{{"tools", nlohmann::json::parse(tools.dump())}}, &error);
  ASSERT_TRUE(sorted) << error;
  EXPECT_EQ(*sorted, R"([{"function": {"description": "d", "name": "f"}, "type": "function"}])");
}

TEST(ChatTemplateApi, TokenizerConfigGivesTheTemplateAndSpecialTokensInEitherForm) {
  ojson config = ojson::parse(R"({
    "bos_token": {"__type": "AddedToken", "content": "<s>"},
    "eos_token": "</s>",
    "chat_template": [{"name": "default", "template": "D"}, {"name": "tool_use", "template": "T"}]
  })");
  std::string error;
  EXPECT_EQ(troupe::engine::chat_template_source(config, &error), "D");
  EXPECT_EQ(troupe::engine::chat_template_source(config, &error, "tool_use"), "T");
  EXPECT_FALSE(troupe::engine::chat_template_source(config, &error, "rag"));
  EXPECT_NE(error.find("rag"), std::string::npos);
  EXPECT_EQ(troupe::engine::special_token_text(config, "bos_token"), "<s>");
  EXPECT_EQ(troupe::engine::special_token_text(config, "eos_token"), "</s>");
  EXPECT_EQ(troupe::engine::special_token_text(config, "unk_token"), "");
  EXPECT_FALSE(troupe::engine::chat_template_source(ojson::object(), &error));
}

TEST(ChatTemplateApi, RenderChatPassesWhatApplyChatTemplatePasses) {
  std::string error;
  auto tmpl = chat_template::parse(
      "{{ bos_token }}|{{ eos_token }}|{{ add_generation_prompt }}|{{ tools is none }}|{{ documents is none }}|"
      "{{ messages | length }}|{{ enable_thinking }}",
      &error);
  ASSERT_TRUE(tmpl) << error;
  auto rendered = troupe::engine::render_chat(*tmpl, ojson::array({{{"role", "user"}, {"content", "x"}}}), true,
                                              "<s>", "</s>", std::nullopt, &error, {{"enable_thinking", false}});
  ASSERT_TRUE(rendered) << error;
  EXPECT_EQ(*rendered, "<s>|</s>|True|True|True|1|False");
}

TEST(ChatTemplateApi, OneParsedTemplateRendersConcurrentlyOnManyThreads) {
  std::string error;
  auto tmpl = chat_template::parse(
      "{% macro turn(m) %}<{{ m.role }}>{{ m.content | trim }}{% endmacro %}"
      "{% set ns = namespace(n=0) %}{% for m in messages %}{{ turn(m) }}{% set ns.n = ns.n + loop.index %}"
      "{% endfor %}{{ ns.n }}{{ messages | tojson }}",
      &error);
  ASSERT_TRUE(tmpl) << error;
  ojson messages = ojson::array();
  for (int i = 0; i < 50; ++i) messages.push_back({{"role", i % 2 ? "assistant" : "user"}, {"content", " m" + std::to_string(i) + " "}});
  ojson context = {{"messages", messages}};
  auto expected = tmpl->render(context, &error);
  ASSERT_TRUE(expected) << error;

  constexpr int num_threads = 4;
  std::vector<int> num_mismatches(num_threads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < num_threads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        std::string thread_error;
        auto rendered = tmpl->render(context, &thread_error);
        if (!rendered || *rendered != *expected) ++num_mismatches[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < num_threads; ++t) EXPECT_EQ(num_mismatches[t], 0) << "thread " << t;
}

}  // namespace
