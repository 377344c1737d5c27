// Exact parity with Hugging Face `tokenizers` on the shared reference corpus
// (tests/data/reference/tokenizers/<name>.json, produced by
// tools/reference/make_tokenizer_reference.py): ids for every case, the
// decoded text, and incremental detokenization equal to full decoding.
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

std::string reference_path(const std::string& name) {
  return std::string(TROUPE_SOURCE_DIR) + "/tests/data/reference/tokenizers/" + name + ".json";
}

std::string streamed(const tokenizer& tok, const std::vector<int32_t>& ids, bool skip_special,
                     bool* all_valid_utf8) {
  incremental_detokenizer detok(tok, skip_special);
  std::string text;
  for (int32_t id : ids) {
    std::string delta = detok.push(id);
    *all_valid_utf8 = *all_valid_utf8 && tokenization::is_valid_utf8(delta);
    text += delta;
  }
  std::string tail = detok.flush();
  *all_valid_utf8 = *all_valid_utf8 && tokenization::is_valid_utf8(tail);
  return text + tail;
}

class TokenizerParity : public ::testing::TestWithParam<std::string> {};

TEST_P(TokenizerParity, EncodesDecodesAndStreamsEveryReferenceCaseExactlyLikeHuggingFace) {
  const std::string name = GetParam();
  std::string why;
  const tokenizer* tok = testing::real_tokenizer(name, &why);
  if (tok == nullptr) GTEST_SKIP() << why;
  std::ifstream in(reference_path(name));
  if (!in) GTEST_SKIP() << reference_path(name) << " missing";
  nlohmann::json reference = nlohmann::json::parse(in);
  ASSERT_EQ(reference.at("tokenizer").get<std::string>(), testing::npm_package_of(name));

  size_t num_cases = 0, num_id_matches = 0;
  for (const auto& c : reference.at("cases")) {
    const std::string text = c.at("text").get<std::string>();
    const bool add_special = c.at("add_special_tokens").get<bool>();
    const auto expected = c.at("ids").get<std::vector<int32_t>>();
    const std::string decoded = c.at("decoded").get<std::string>();
    ++num_cases;
    SCOPED_TRACE(name + " case " + std::to_string(num_cases) + " text=" + nlohmann::json(text).dump() +
                 " add_special_tokens=" + (add_special ? "true" : "false"));

    auto ids = tok->encode(text, add_special);
    EXPECT_EQ(ids, expected);
    num_id_matches += ids == expected;

    EXPECT_EQ(tok->decode(expected, false), decoded);
    bool valid = true;
    EXPECT_EQ(streamed(*tok, expected, false, &valid), decoded);
    EXPECT_EQ(streamed(*tok, expected, true, &valid), tok->decode(expected, true));
    EXPECT_TRUE(valid) << "a streamed delta was not valid UTF-8";
  }
  std::cout << "[ parity   ] " << name << ": " << num_id_matches << "/" << num_cases
            << " cases with identical ids\n";
  EXPECT_GT(num_cases, 0u);
}

INSTANTIATE_TEST_SUITE_P(RealTokenizers, TokenizerParity,
                         ::testing::Values("llama3", "qwen3", "llama2"));

}  // namespace
}  // namespace troupe::engine
