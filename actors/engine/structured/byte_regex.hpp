#pragma once
// A regular expression over bytes, compiled to a Thompson NFA. The pattern
// language is the common subset of ECMAScript / Python `re` that JSON-schema
// `pattern`s and vLLM's `guided_regex` use: literals (UTF-8 characters become
// their byte sequences), `.`, escapes `\d \w \s \D \W \S \n \t \r \f \v \\ \xNN
// \uNNNN` and escaped punctuation, classes `[...]` / `[^...]` with ranges,
// groups `(...)`, `(?:...)`, alternation `|`, quantifiers `* + ? {n} {n,}
// {n,m}` (a trailing lazy `?` is accepted: laziness does not change the
// language). The whole pattern must match (anchors `^` at the start and `$`
// at the end are accepted and change nothing). `.` and negated classes match
// one whole UTF-8 character, so generated text stays valid UTF-8.
// Not supported (an error naming it): backreferences, lookaround, `\b`,
// named groups, non-ASCII ranges inside classes.
#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace troupe::engine::structured {

struct nfa_state {
  std::vector<int32_t> epsilon;   // targets reachable without input
  std::bitset<256> bytes;         // when any bit is set: on those bytes go to `next`
  int32_t next = -1;
};

struct byte_nfa {
  std::vector<nfa_state> states;
  int32_t start = 0;
  int32_t accept = 0;             // the single accepting state
};

// Compiles `pattern`; nullopt with *error set (position and reason) if the
// pattern is malformed or uses an unsupported feature. max_states bounds the
// NFA (bounded repetitions copy their operand).
std::optional<byte_nfa> compile_regex(std::string_view pattern, std::string* error,
                                      int32_t max_states = 400000);

// `text` with every regex metacharacter escaped (matches exactly `text`).
std::string regex_escape(std::string_view text);

}  // namespace troupe::engine::structured
