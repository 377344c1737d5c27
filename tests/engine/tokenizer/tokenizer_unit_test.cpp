// Behaviour of the tokenizer's parts against independent expectations:
// Unicode's published examples, GPT-2's byte table, and properties any
// correct tokenizer has (round trips, streaming equals whole decoding).
#include <gtest/gtest.h>

#include "actors/engine/tokenizer/byte_level.hpp"
#include "actors/engine/tokenizer/regex.hpp"
#include "actors/engine/tokenizer/tokenizer.hpp"
#include "actors/engine/tokenizer/utf8.hpp"
#include "tests/engine/tokenizer/real_tokenizers.hpp"

namespace troupe::engine {
namespace {

using tokenization::append_lossy_utf8;
using tokenization::is_valid_utf8;

std::string lossy(std::string_view bytes) {
  std::string out;
  append_lossy_utf8(bytes, true, out);
  return out;
}

const tokenizer& require(const std::string& name) {
  std::string why;
  const tokenizer* t = testing::real_tokenizer(name, &why);
  if (t == nullptr) throw std::runtime_error(why);
  return *t;
}

#define SKIP_WITHOUT(name)                                           \
  do {                                                               \
    std::string why_;                                                \
    if (testing::real_tokenizer(name, &why_) == nullptr) GTEST_SKIP() << why_; \
  } while (0)

// Unicode 15, section 3.9, Table 3-8: U+FFFD for each maximal subpart.
TEST(Utf8, LossyDecodingReplacesEachMaximalSubpartLikeTheUnicodeStandardExample) {
  std::string bytes = "\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64";
  EXPECT_EQ(lossy(bytes), "a\uFFFD\uFFFD\uFFFD" "b\uFFFD" "c\uFFFD\uFFFD" "d");
  EXPECT_EQ(lossy("\xED\xA0\x80"), "\uFFFD\uFFFD\uFFFD");  // a surrogate is never valid
  EXPECT_EQ(lossy("\xF0\x9F\x99\x82"), "\U0001F642");
}

TEST(Utf8, StreamingLossyDecodingHoldsBackOnlyAnIncompleteTail) {
  std::string out;
  EXPECT_EQ(append_lossy_utf8("ab\xF0\x9F\x99", false, out), 2u);
  EXPECT_EQ(out, "ab");
  EXPECT_EQ(append_lossy_utf8("\xF0\x9F\x99\x82", false, out), 4u);
  EXPECT_EQ(out, "ab\U0001F642");
  out.clear();
  EXPECT_EQ(append_lossy_utf8("\xF0\x9F\x41", false, out), 3u);  // already broken: emitted
  EXPECT_EQ(out, "\uFFFD" "A");
}

TEST(ByteLevel, MapsBytesToGpt2Characters) {
  EXPECT_EQ(tokenization::byte_to_char(' '), "\u0120");   // Ġ
  EXPECT_EQ(tokenization::byte_to_char('\n'), "\u010A");  // Ċ
  EXPECT_EQ(tokenization::byte_to_char('a'), "a");
  EXPECT_EQ(tokenization::byte_to_char(0xAD), "\u0143");  // the last shifted byte
  for (int b = 0; b < 256; ++b) {
    char32_t cp;
    size_t length;
    ASSERT_TRUE(tokenization::decode_code_point(tokenization::byte_to_char(b), 0, cp, length));
    EXPECT_EQ(tokenization::char_to_byte(cp), b);
  }
}

TEST(Regex, WhiteSpaceClassIsUnicodeWhiteSpaceNotPcreSpace) {
  std::string error;
  auto r = tokenization::regex::compile(R"(\s+|[^\s]+)", &error);
  ASSERT_TRUE(r) << error;
  // U+180E is not White_Space (since Unicode 6.3) although PCRE2's \s matches it.
  auto m = r->find_all("a\u180E\u3000\u00A0b");
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].end, 4u);  // "a" + U+180E is one non-space run
  EXPECT_EQ(m[1].end, 9u);  // U+3000 U+00A0
}

TEST(Regex, InvalidUtf8IsNeverMatchedAndDoesNotStopMatching) {
  std::string error;
  auto r = tokenization::regex::compile(R"(\p{L}+)", &error);
  ASSERT_TRUE(r) << error;
  auto m = r->find_all("ab\xFF\xFE" "cd");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[1].begin, 4u);
  EXPECT_EQ(m[1].end, 6u);
}

TEST(Tokenizer, LoadingNamesTheUnsupportedComponent) {
  std::string error;
  auto t = tokenizer::from_json_text(
      R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
          "pre_tokenizer": {"type": "Whitespace"}})",
      &error);
  EXPECT_FALSE(t);
  EXPECT_NE(error.find("pre_tokenizer"), std::string::npos) << error;
  EXPECT_NE(error.find("Whitespace"), std::string::npos) << error;

  t = tokenizer::from_json_text(R"({"model": {"type": "Unigram", "vocab": []}})", &error);
  EXPECT_FALSE(t);
  EXPECT_NE(error.find("Unigram"), std::string::npos) << error;

  EXPECT_FALSE(tokenizer::load("/nonexistent/tokenizer.json", &error));
  EXPECT_NE(error.find("/nonexistent/tokenizer.json"), std::string::npos) << error;
}

TEST(Tokenizer, MergesGivenAsStringsOrPairsEncodeTheSame) {
  const char* vocab = R"("vocab": {"a": 0, "b": 1, "c": 2, "ab": 3, "abc": 4, "bc": 5})";
  std::string error;
  auto strings = tokenizer::from_json_text(
      std::string(R"({"model": {"type": "BPE", )") + vocab +
          R"(, "merges": ["b c", "a b", "ab c"]}})",
      &error);
  ASSERT_TRUE(strings) << error;
  auto pairs = tokenizer::from_json_text(
      std::string(R"({"model": {"type": "BPE", )") + vocab +
          R"(, "merges": [["b", "c"], ["a", "b"], ["ab", "c"]]}})",
      &error);
  ASSERT_TRUE(pairs) << error;
  // "b c" has the lowest rank, so "abc" becomes a + bc (there is no a+bc merge).
  EXPECT_EQ(strings->encode("abc", false), (std::vector<int32_t>{0, 5}));
  EXPECT_EQ(pairs->encode("abc", false), strings->encode("abc", false));
  EXPECT_EQ(strings->encode("ab", false), (std::vector<int32_t>{3}));
}

TEST(Tokenizer, ByteLevelModelsEncodeInvalidUtf8AndDecodeItLossily) {
  SKIP_WITHOUT("llama3");
  const tokenizer& tok = require("llama3");
  std::string bytes = "ok \xFF\xFE bytes \xE2\x82";
  auto ids = tok.encode(bytes, false);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(tok.decode(ids, false), lossy(bytes));
}

TEST(Tokenizer, ByteFallbackModelsEncodeInvalidUtf8AsByteTokens) {
  SKIP_WITHOUT("llama2");
  const tokenizer& tok = require("llama2");
  auto ids = tok.encode("\xFF", false);
  // "▁" then the byte token <0xFF> (id 3 + 0xFF).
  EXPECT_EQ(ids, (std::vector<int32_t>{*tok.token_to_id("\u2581"), *tok.token_to_id("<0xFF>")}));
  EXPECT_EQ(*tok.token_to_id("<0xFF>"), 3 + 0xFF);
  EXPECT_EQ(tok.decode(ids, false), "\uFFFD");
}

TEST(Tokenizer, SpecialTokensAreMatchedInTextAndSkippedOnRequest) {
  SKIP_WITHOUT("qwen3");
  const tokenizer& tok = require("qwen3");
  auto im_start = tok.token_to_id("<|im_start|>");
  auto think = tok.token_to_id("<think>");
  ASSERT_TRUE(im_start && think);
  EXPECT_TRUE(tok.is_special(*im_start));
  EXPECT_FALSE(tok.is_special(*think));  // an added token that is not special
  auto ids = tok.encode("<|im_start|>user<think>", false);
  EXPECT_EQ(ids.front(), *im_start);
  EXPECT_EQ(ids.back(), *think);
  EXPECT_EQ(tok.decode(ids, true), "user<think>");
  EXPECT_EQ(tok.id_to_token(*im_start), "<|im_start|>");
  EXPECT_EQ(tok.vocab_size(), 151669);
  EXPECT_EQ(tok.id_to_token(tok.vocab_size()), "");
}

TEST(IncrementalDetokenizer, NeverEmitsABrokenCharacterWhenOneCharacterSpansTokens) {
  for (const char* name : {"llama3", "qwen3", "llama2"}) {
    std::string why;
    const tokenizer* tok = testing::real_tokenizer(name, &why);
    if (tok == nullptr) GTEST_SKIP() << why;
    const std::string text = "emoji \U0001F469\u200D\U0001F52C and \U00010348 \u00e9\u4e2d";
    auto ids = tok->encode(text, false);
    incremental_detokenizer detok(*tok);
    std::string streamed;
    for (int32_t id : ids) {
      std::string delta = detok.push(id);
      EXPECT_TRUE(is_valid_utf8(delta)) << name;
      streamed += delta;
    }
    streamed += detok.flush();
    EXPECT_EQ(streamed, tok->decode(ids, true)) << name;
    EXPECT_NE(streamed.find("\U0001F469\u200D\U0001F52C"), std::string::npos) << name;
  }
}

TEST(IncrementalDetokenizer, HoldsAnIncompleteByteFallbackRunUntilItEnds) {
  SKIP_WITHOUT("llama2");
  const tokenizer& tok = require("llama2");
  incremental_detokenizer detok(tok);
  EXPECT_EQ(detok.push(*tok.token_to_id("<0xE2>")), "");
  EXPECT_EQ(detok.push(*tok.token_to_id("<0x82>")), "");
  EXPECT_EQ(detok.push(*tok.token_to_id("<0xAC>")), "");  // the run may still grow
  EXPECT_EQ(detok.push(*tok.token_to_id("\u2581is")), "\u20AC is");
  EXPECT_EQ(detok.flush(), "");
}

TEST(IncrementalDetokenizer, FlushReplacesATruncatedCharacterAsDecodeDoes) {
  SKIP_WITHOUT("llama3");
  const tokenizer& tok = require("llama3");
  auto ids = tok.encode("\U0001F642", false);
  ASSERT_GE(ids.size(), 2u);
  ids.pop_back();
  incremental_detokenizer detok(tok);
  std::string streamed;
  for (int32_t id : ids) streamed += detok.push(id);
  EXPECT_EQ(streamed, "");
  streamed += detok.flush();
  EXPECT_EQ(streamed, tok.decode(ids, false));
  EXPECT_EQ(streamed.find("\uFFFD"), 0u);
}

}  // namespace
}  // namespace troupe::engine
