// Errors are values with a position, and hostile templates are stopped by
// limits instead of crashing or running away.
#include <gtest/gtest.h>

#include <chrono>
#include <random>

#include "actors/engine/chat/chat_template.hpp"

namespace {

using troupe::engine::chat_template;
using ojson = nlohmann::ordered_json;

std::string parse_error(std::string_view source) {
  std::string error;
  auto tmpl = chat_template::parse(source, &error);
  EXPECT_FALSE(tmpl) << "parsed: " << source;
  return error;
}

std::string render_error(std::string_view source, const ojson& context = ojson::object()) {
  std::string error;
  auto tmpl = chat_template::parse(source, &error);
  if (!tmpl) {
    ADD_FAILURE() << "parse failed: " << error;
    return error;
  }
  auto rendered = tmpl->render(context, &error);
  EXPECT_FALSE(rendered) << "rendered: " << rendered.value_or("");
  return error;
}

TEST(ChatTemplateErrors, AnUnknownFilterIsASyntaxErrorNamingItAndItsLineAndColumn) {
  std::string error = parse_error("Hello\n  {{ name | frobnicate }}");
  EXPECT_NE(error.find("line 2, column 13"), std::string::npos) << error;
  EXPECT_NE(error.find("no filter named 'frobnicate'"), std::string::npos) << error;
}

TEST(ChatTemplateErrors, AnUnclosedBlockSaysWhichEndTagWasExpected) {
  std::string error = parse_error("{% for m in messages %}{{ m }}");
  EXPECT_NE(error.find("'endfor'"), std::string::npos) << error;
}

TEST(ChatTemplateErrors, RaiseExceptionReturnsTheTemplatesMessageWithItsPosition) {
  std::string error = render_error(
      "{% for m in messages %}\n{% if m.role == 'tool' %}{{ raise_exception('Tools are not supported') }}"
      "{% endif %}{% endfor %}",
      {{"messages", {{{"role", "tool"}, {"content", "x"}}}}});
  EXPECT_NE(error.find("Tools are not supported"), std::string::npos) << error;
  EXPECT_NE(error.find("line 2, column"), std::string::npos) << error;
}

TEST(ChatTemplateErrors, UsingAnUndefinedValueNamesTheMissingVariable) {
  std::string error = render_error("{{ '<s>' + system_prompt }}");
  EXPECT_NE(error.find("'system_prompt' is undefined"), std::string::npos) << error;
}

TEST(ChatTemplateErrors, RenderChatRejectsMessagesThatAreNotAList) {
  std::string error;
  auto tmpl = chat_template::parse("{{ messages }}", &error);
  ASSERT_TRUE(tmpl) << error;
  EXPECT_FALSE(troupe::engine::render_chat(*tmpl, ojson::object(), true, "", "", std::nullopt, &error));
  EXPECT_NE(error.find("array"), std::string::npos) << error;
}

TEST(ChatTemplateErrors, DeeplyNestedExpressionsAndBlocksAreRejectedInsteadOfOverflowingTheStack) {
  const int depth = 100000;
  std::string parens = "{{ " + std::string(depth, '(') + "1" + std::string(depth, ')') + " }}";
  EXPECT_NE(parse_error(parens).find("nested too deeply"), std::string::npos);
  std::string lists = "{{ " + std::string(depth, '[') + std::string(depth, ']') + " }}";
  EXPECT_NE(parse_error(lists).find("nested too deeply"), std::string::npos);
  std::string nots = "{{ ";
  for (int i = 0; i < depth; ++i) nots += "not ";
  EXPECT_NE(parse_error(nots + "x }}").find("nested too deeply"), std::string::npos);
  std::string minus = "{{ " + std::string(depth, '-') + "1 }}";
  EXPECT_NE(parse_error(minus).find("nested too deeply"), std::string::npos);
  std::string ifs;
  for (int i = 0; i < depth; ++i) ifs += "{% if true %}";
  EXPECT_NE(parse_error(ifs).find("nested too deeply"), std::string::npos);
}

TEST(ChatTemplateErrors, UnboundedMacroRecursionStopsWithAnError) {
  std::string error = render_error("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
  EXPECT_NE(error.find("macro calls nested deeper"), std::string::npos) << error;
}

TEST(ChatTemplateErrors, OutputGrowthAndLoopCountsAreBounded) {
  std::string error = render_error("{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}");
  EXPECT_NE(error.find("rendered output exceeds"), std::string::npos) << error;
  error = render_error("{{ 'x' * 1000000000000 }}");
  EXPECT_NE(error.find("too large"), std::string::npos) << error;
  auto start = std::chrono::steady_clock::now();
  error = render_error("{% for i in range(1000000) %}{% for j in range(1000000) %}{% endfor %}{% endfor %}");
  EXPECT_NE(error.find("loop iterations"), std::string::npos) << error;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

TEST(ChatTemplateErrors, ListAndStringDoublingIsStoppedBeforeMemoryRunsOut) {
  std::string error = render_error(
      "{% set ns = namespace(l=[1]) %}{% for i in range(64) %}{% set ns.l = ns.l + ns.l %}{% endfor %}");
  EXPECT_NE(error.find("list is too long"), std::string::npos) << error;
  error = render_error(
      "{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}");
  EXPECT_NE(error.find("too large"), std::string::npos) << error;
  error = render_error("{{ ('x' * 1000000)|replace('', 'yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy') }}");
  EXPECT_NE(error.find("too large"), std::string::npos) << error;
  error = render_error("{{ 'a\nb'|indent(100000000) }}");
  EXPECT_NE(error.find("larger than"), std::string::npos) << error;
  error = render_error("{{ [[1]]|tojson(indent=100000000) }}");
  EXPECT_NE(error.find("larger than"), std::string::npos) << error;
}

TEST(ChatTemplateErrors, DeeplyNestedMessageDataIsAnErrorWhenPrintedNotACrash) {
  ojson content = "leaf";
  for (int i = 0; i < 5000; ++i) content = ojson::array({std::move(content)});
  ojson context = {{"messages", {{{"role", "user"}, {"content", content}}}}};
  for (const char* source : {"{{ messages[0].content }}", "{{ messages[0].content | tojson }}",
                             "{{ messages[0].content == messages[0].content }}"}) {
    std::string error = render_error(source, context);
    EXPECT_NE(error.find("nested too deeply"), std::string::npos) << source << ": " << error;
  }
}

// Random token soup: every template either parses or not, renders or not,
// but always returns (no crash, no exception escaping the API).
TEST(ChatTemplateErrors, RandomTemplatesNeverCrashTheParserOrRenderer) {
  const char* pieces[] = {"{{", "}}", "{%", "%}", "{#", "#}", "-", "+", "for", "in", "if", "elif", "else",
                          "endif", "endfor", "set", "ns", ".", "x", "messages", "[", "]", "(", ")", "{", "}",
                          "'a'", "\"b\"", "1", "2.5", "|", "trim", "length", "is", "not", "defined", "none",
                          "loop", "index0", ",", ":", "=", "==", "~", "*", "**", "/", "//", "%", "namespace",
                          "macro", "endmacro", "raw", "endraw", " ", "\n", "content", "startswith", "tojson"};
  std::mt19937 rng(12345);
  ojson context = {{"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"x", {1, 2, 3}}};
  int num_parsed = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string source;
    int num_pieces = 1 + static_cast<int>(rng() % 30);
    for (int k = 0; k < num_pieces; ++k) source += pieces[rng() % std::size(pieces)];
    std::string error;
    auto tmpl = chat_template::parse(source, &error);
    if (!tmpl) {
      EXPECT_FALSE(error.empty()) << source;
      continue;
    }
    ++num_parsed;
    error.clear();
    auto rendered = tmpl->render(context, &error);
    if (!rendered) {
      EXPECT_FALSE(error.empty()) << source;
    }
  }
  EXPECT_GT(num_parsed, 0);
}

}  // namespace
