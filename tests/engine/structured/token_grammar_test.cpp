#include <gtest/gtest.h>

#include <random>

#include "actors/engine/structured/byte_dfa.hpp"
#include "actors/engine/structured/json_schema_regex.hpp"
#include "actors/engine/structured/token_grammar.hpp"

using namespace troupe::engine::structured;

namespace {

// A vocabulary with every single byte, some multi-byte tokens sharing
// prefixes, duplicates and an unusable (special) id.
std::shared_ptr<const token_vocabulary> test_vocabulary() {
  std::vector<std::string> v;
  for (int b = 0; b < 256; ++b) v.push_back(std::string(1, static_cast<char>(b)));
  for (const char* t : {"{\"", "\":", "\",\"", "true", "tru", "false", "null", "12", "123", "\"}",
                        "ab", "abc", "abcd", "abd", "\xC3\xA9", "\xC3", "},{", "[1", "]", "name",
                        "\"name\":\"", "age", "ab"})
    v.push_back(t);
  v.push_back("");  // a special token
  return make_vocabulary(std::move(v));
}

std::vector<uint32_t> naive_mask(const token_grammar& g, int32_t state) {
  const token_vocabulary& v = g.vocabulary();
  std::vector<uint32_t> m(v.mask_words(), 0);
  for (int32_t id = 0; id < v.vocab_size; ++id)
    if (!v.bytes[id].empty() && g.dfa().walk(state, v.bytes[id]) >= 0) m[id >> 5] |= 1u << (id & 31);
  return m;
}

bool allowed(const std::vector<uint32_t>& m, int32_t id) { return (m[id >> 5] >> (id & 31)) & 1u; }

std::shared_ptr<const token_grammar> grammar(const std::string& pattern) {
  std::string error;
  auto dfa = regex_to_dfa(pattern, &error);
  EXPECT_TRUE(dfa) << error;
  return std::make_shared<const token_grammar>(std::move(*dfa), test_vocabulary());
}

}  // namespace

TEST(TokenGrammar, TheByteOrderWalkGivesTheSameMaskAsCheckingEveryToken) {
  const std::string pattern = json_schema_to_regex(nlohmann::ordered_json::parse(
      R"({"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"},
          "ok":{"type":"boolean"}},"required":["name","age"]})")).regex;
  auto g = grammar(pattern);
  // Every state reachable along a few random walks.
  std::mt19937 rng(7);
  for (int walk = 0; walk < 20; ++walk) {
    int32_t state = 0;
    for (int step = 0; step < 40 && state >= 0; ++step) {
      const auto& m = g->mask(state);
      ASSERT_EQ(m, naive_mask(*g, state)) << "state " << state;
      std::vector<int32_t> ids;
      for (int32_t id = 0; id < g->vocabulary().vocab_size; ++id)
        if (allowed(m, id)) ids.push_back(id);
      if (ids.empty()) break;
      state = g->advance(state, ids[rng() % ids.size()]);
      ASSERT_GE(state, 0);
      if (g->complete(state)) break;
    }
  }
}

TEST(TokenGrammar, UnusableIdsAreNeverAllowed) {
  auto g = grammar("[a-z]*");
  const int32_t special = g->vocabulary().vocab_size - 1;
  EXPECT_FALSE(allowed(g->mask(0), special));
  EXPECT_EQ(g->advance(0, special), -1);
}

TEST(TokenGrammar, ABudgetedWalkIsAWholeMatchWhenTheTokensRunOut) {
  // Free strings and arrays could run forever; within a budget of N tokens
  // the output must end as a whole match.
  const std::string pattern = json_schema_to_regex(nlohmann::ordered_json::parse(
      R"({"type":"object","properties":{"s":{"type":"string"},"xs":{"type":"array","items":{"type":"integer"}}},
          "required":["s","xs"]})")).regex;
  auto g = grammar(pattern);
  std::mt19937 rng(3);
  for (int32_t max_tokens : {20, 25, 40, 80}) {
    for (int walk = 0; walk < 30; ++walk) {
      int32_t state = 0;
      int32_t used = 0;
      for (; used < max_tokens && !g->complete(state); ++used) {
        const auto& m = g->mask_within(state, max_tokens - used - 1);
        std::vector<int32_t> ids;
        for (int32_t id = 0; id < g->vocabulary().vocab_size; ++id)
          if (allowed(m, id)) ids.push_back(id);
        if (g->accepting(state) && rng() % 4 == 0) break;  // an end token
        ASSERT_FALSE(ids.empty());
        state = g->advance(state, ids[rng() % ids.size()]);
        ASSERT_GE(state, 0);
      }
      EXPECT_TRUE(g->accepting(state)) << "max_tokens " << max_tokens << " walk " << walk;
    }
  }
}

TEST(GrammarCache, SamePatternSameGrammarAndBadPatternsAreErrors) {
  grammar_cache cache(test_vocabulary(), 2);
  std::string error;
  auto a = cache.get("a+", &error);
  ASSERT_TRUE(a);
  EXPECT_EQ(cache.get("a+", &error), a);
  EXPECT_EQ(cache.get("(a", &error), nullptr);
  EXPECT_NE(error.find("missing ')'"), std::string::npos);
}

TEST(TokenVocabulary, SortedTokensCarryTheirSharedPrefixLengths) {
  auto v = make_vocabulary({"ab", "", "abc", "b", "a"});
  ASSERT_EQ(v->sorted_ids, (std::vector<int32_t>{4, 0, 2, 3}));
  EXPECT_EQ(v->lcp, (std::vector<int32_t>{0, 1, 2, 0}));
  EXPECT_EQ(v->max_token_bytes, 3);
}
