#include <gtest/gtest.h>

#include "actors/engine/structured/byte_dfa.hpp"

using namespace troupe::engine::structured;

namespace {
bool full_match(const std::string& pattern, const std::string& text) {
  std::string error;
  auto dfa = regex_to_dfa(pattern, &error);
  EXPECT_TRUE(dfa.has_value()) << pattern << ": " << error;
  return dfa && dfa->matches(text);
}
std::string compile_error(const std::string& pattern) {
  std::string error;
  auto dfa = regex_to_dfa(pattern, &error);
  return dfa ? "" : error;
}
}  // namespace

TEST(ByteRegex, LiteralsClassesAndQuantifiersMatchTheWholeText) {
  EXPECT_TRUE(full_match("abc", "abc"));
  EXPECT_FALSE(full_match("abc", "abcd"));
  EXPECT_FALSE(full_match("abc", "ab"));
  EXPECT_TRUE(full_match("a[0-9]+z", "a123z"));
  EXPECT_FALSE(full_match("a[0-9]+z", "az"));
  EXPECT_TRUE(full_match("colou?r", "color"));
  EXPECT_TRUE(full_match("colou?r", "colour"));
  EXPECT_TRUE(full_match("(ab|cd)*", ""));
  EXPECT_TRUE(full_match("(ab|cd)*", "abcdab"));
  EXPECT_FALSE(full_match("(ab|cd)*", "abc"));
  EXPECT_TRUE(full_match("x{2,3}", "xx"));
  EXPECT_TRUE(full_match("x{2,3}", "xxx"));
  EXPECT_FALSE(full_match("x{2,3}", "xxxx"));
  EXPECT_TRUE(full_match("x{2,}", "xxxxxx"));
  EXPECT_TRUE(full_match("(?:a|b){3}", "bab"));
  EXPECT_TRUE(full_match("^\\d{3}-\\w+$", "123-ab_9"));
  EXPECT_TRUE(full_match("a.c", "a\xC3\xA9" "c"));  // . is one whole UTF-8 character
  EXPECT_FALSE(full_match("a.c", "a\nc"));
  EXPECT_TRUE(full_match("[^a-z]+", "AB1\xE2\x82\xAC"));
  EXPECT_FALSE(full_match("[^a-z]+", "AbC"));
  EXPECT_TRUE(full_match("\\.\\*\\(", ".*("));
  EXPECT_TRUE(full_match("caf\xC3\xA9", "caf\xC3\xA9"));
  EXPECT_TRUE(full_match("[\xC3\xA9x]", "\xC3\xA9"));
  EXPECT_TRUE(full_match("\\u00e9", "\xC3\xA9"));
  EXPECT_TRUE(full_match("a+?b", "aab"));  // lazy quantifiers: same language
  EXPECT_TRUE(full_match("\\s\\S", " x"));
  EXPECT_TRUE(full_match("{", "{"));       // a brace that is not a bound is a literal
}

TEST(ByteRegex, NegatedClassesNeverProduceInvalidUtf8) {
  std::string error;
  auto dfa = regex_to_dfa("[^\"]*", &error);
  ASSERT_TRUE(dfa);
  EXPECT_TRUE(dfa->matches("h\xC3\xA9llo"));
  EXPECT_FALSE(dfa->matches("\xC3"));        // a lone lead byte
  EXPECT_FALSE(dfa->matches("\x80"));        // a lone continuation byte
  EXPECT_GE(dfa->walk(0, "\xC3"), 0);        // but a prefix of a character is alive
}

TEST(ByteRegex, UnsupportedFeaturesAreErrorsThatSayWhat) {
  EXPECT_NE(compile_error("(a").find("missing ')'"), std::string::npos);
  EXPECT_NE(compile_error("a(?=b)").find("lookaround"), std::string::npos);
  EXPECT_NE(compile_error("(a)\\1").find("backreference"), std::string::npos);
  EXPECT_NE(compile_error("\\bword").find("\\b"), std::string::npos);
  EXPECT_NE(compile_error("*a").find("nothing to repeat"), std::string::npos);
  EXPECT_NE(compile_error("x{3,2}").find("m < n"), std::string::npos);
  EXPECT_NE(compile_error("[\xC3\xA0-\xC3\xBF]").find("non-ASCII"), std::string::npos);
  EXPECT_NE(compile_error("(?:a{1000}){1000}").find("too large"), std::string::npos);
}

TEST(ByteDfa, OnlyStatesThatCanStillMatchAreKept) {
  std::string error;
  auto dfa = regex_to_dfa("ab|ac", &error);
  ASSERT_TRUE(dfa);
  EXPECT_GE(dfa->walk(0, "a"), 0);
  EXPECT_EQ(dfa->walk(0, "ad"), -1);
  const int32_t done = dfa->walk(0, "ab");
  ASSERT_GE(done, 0);
  EXPECT_TRUE(dfa->accepting[done]);
  EXPECT_FALSE(dfa->has_exit[done]);
}
