// Parity with Hugging Face `tokenizers` on edge cases
// (tests/data/tokenizer/extra_<name>.json, made by make_extra_reference.py
// beside it): Unicode whitespace where regex engines differ, NFC-sensitive
// text, added tokens next to each other and to spaces, Llama 3.1's BOS
// template, and decoding of arbitrary id sequences (partial UTF-8, runs of
// byte-fallback tokens, special tokens kept or skipped).
#include <fstream>
#include <iostream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "actors/engine/tokenizer/tokenizer.hpp"
#include "actors/engine/tokenizer/utf8.hpp"
#include "tests/engine/tokenizer/real_tokenizers.hpp"

namespace troupe::engine {
namespace {

class TokenizerEdgeCases : public ::testing::TestWithParam<std::string> {
 protected:
  const tokenizer* tok = nullptr;
  nlohmann::json reference;

  void SetUp() override {
    std::string why;
    tok = testing::real_tokenizer(GetParam(), &why);
    if (tok == nullptr) GTEST_SKIP() << why;
    std::string path = std::string(TROUPE_SOURCE_DIR) + "/tests/data/tokenizer/extra_" + GetParam() + ".json";
    std::ifstream in(path);
    ASSERT_TRUE(in) << path;
    reference = nlohmann::json::parse(in);
    ASSERT_EQ(reference.at("tokenizer").get<std::string>(), testing::npm_package_of(GetParam()));
  }
};

TEST_P(TokenizerEdgeCases, EncodesEveryEdgeCaseToTheIdsOfHuggingFace) {
  size_t num_cases = 0, num_matches = 0;
  for (const auto& c : reference.at("encode")) {
    const std::string text = c.at("text").get<std::string>();
    const bool add_special = c.at("add_special_tokens").get<bool>();
    const auto expected = c.at("ids").get<std::vector<int32_t>>();
    SCOPED_TRACE("text=" + nlohmann::json(text).dump() + (add_special ? " with" : " without") +
                 " special tokens");
    auto ids = tok->encode(text, add_special);
    EXPECT_EQ(ids, expected);
    ++num_cases;
    num_matches += ids == expected;
  }
  std::cout << "[ edge     ] " << GetParam() << ": " << num_matches << "/" << num_cases
            << " encode cases with identical ids\n";
  EXPECT_GT(num_cases, 0u);
}

TEST_P(TokenizerEdgeCases, DecodesArbitraryIdSequencesLikeHuggingFaceWholeAndStreamed) {
  size_t num_cases = 0;
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
    streamed += detok.flush();
    EXPECT_EQ(streamed, expected);
    ++num_cases;
  }
  EXPECT_GT(num_cases, 0u);
}

INSTANTIATE_TEST_SUITE_P(RealTokenizers, TokenizerEdgeCases,
                         ::testing::Values("llama3", "qwen3", "llama2", "llama3_1"));

}  // namespace
}  // namespace troupe::engine
