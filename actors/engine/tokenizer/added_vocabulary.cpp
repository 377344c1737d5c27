#include "actors/engine/tokenizer/added_vocabulary.hpp"

#include <algorithm>

#include <utf8proc.h>

#include "actors/engine/tokenizer/utf8.hpp"

namespace troupe::engine::tokenization {
namespace {

// Rust regex's \s: the Unicode White_Space property.
bool is_white_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

// Rust regex's \w: alphabetic, marks, decimal digits, connector punctuation,
// join controls (approximated by general category).
bool is_word_char(char32_t c) {
  if (c == 0x200C || c == 0x200D) return true;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_PC:
      return true;
    default:
      return false;
  }
}

// Code point ending at byte `end` (exclusive), if the bytes before form one.
std::optional<char32_t> code_point_before(std::string_view s, size_t end) {
  for (size_t back = 1; back <= 4 && back <= end; ++back) {
    char32_t cp;
    size_t length;
    if (decode_code_point(s, end - back, cp, length) && length == back) return cp;
  }
  return std::nullopt;
}

std::optional<char32_t> code_point_at(std::string_view s, size_t at) {
  char32_t cp;
  size_t length;
  if (decode_code_point(s, at, cp, length)) return cp;
  return std::nullopt;
}

}  // namespace

added_token_matcher::added_token_matcher(std::vector<std::string> patterns,
                                         std::vector<added_token> tokens)
    : tokens_(std::move(tokens)) {
  nodes_.emplace_back();
  for (size_t t = 0; t < patterns.size(); ++t) {
    const std::string& p = patterns[t];
    if (p.empty()) continue;
    first_byte_[static_cast<unsigned char>(p[0])] = true;
    int32_t n = 0;
    for (char ch : p) {
      auto b = static_cast<unsigned char>(ch);
      int32_t next = child(n, b);
      if (next < 0) {
        next = static_cast<int32_t>(nodes_.size());
        nodes_.emplace_back();
        auto& kids = nodes_[n].children;
        kids.insert(std::lower_bound(kids.begin(), kids.end(), std::make_pair(b, int32_t{-1})),
                    {b, next});
      }
      n = next;
    }
    // Two tokens with the same pattern: the first one listed wins.
    if (nodes_[n].token_index < 0) nodes_[n].token_index = static_cast<int32_t>(t);
  }
}

int32_t added_token_matcher::child(int32_t n, unsigned char b) const {
  const auto& kids = nodes_[n].children;
  auto it = std::lower_bound(kids.begin(), kids.end(), std::make_pair(b, int32_t{-1}));
  if (it == kids.end() || it->first != b) return -1;
  return it->second;
}

std::pair<int32_t, size_t> added_token_matcher::longest_at(std::string_view text, size_t at) const {
  std::pair<int32_t, size_t> best{-1, 0};
  int32_t n = 0;
  for (size_t i = at; i < text.size(); ++i) {
    n = child(n, static_cast<unsigned char>(text[i]));
    if (n < 0) break;
    if (nodes_[n].token_index >= 0) best = {nodes_[n].token_index, i + 1 - at};
  }
  return best;
}

std::vector<text_piece> added_token_matcher::split(std::string_view text) const {
  std::vector<text_piece> pieces;
  if (text.empty()) return pieces;
  size_t piece_start = 0;  // end of the last emitted token
  size_t search = 0;
  while (search < text.size()) {
    if (!first_byte_[static_cast<unsigned char>(text[search])]) {
      ++search;
      continue;
    }
    auto [index, length] = longest_at(text, search);
    if (index < 0) {
      ++search;
      continue;
    }
    size_t start = search;
    size_t stop = search + length;
    search = stop;  // the matcher resumes after this match even if it is rejected
    const added_token& token = tokens_[index];
    if (token.single_word) {
      auto before = start == 0 ? std::nullopt : code_point_before(text, start);
      auto after = stop == text.size() ? std::nullopt : code_point_at(text, stop);
      if ((before && is_word_char(*before)) || (after && is_word_char(*after))) continue;
    }
    if (token.lstrip) {
      size_t new_start = start;
      while (auto cp = code_point_before(text, new_start)) {
        if (!is_white_space(*cp)) break;
        std::string encoded;
        append_code_point(encoded, *cp);
        new_start -= encoded.size();
      }
      start = std::max(new_start, piece_start);
    }
    if (token.rstrip) {
      while (auto cp = code_point_at(text, stop)) {
        if (!is_white_space(*cp)) break;
        stop += valid_sequence_length(text, stop);
      }
    }
    if (piece_start < start) pieces.push_back({piece_start, start, std::nullopt});
    pieces.push_back({start, stop, token.id});
    piece_start = stop;
    search = std::max(search, stop);
  }
  if (piece_start < text.size()) pieces.push_back({piece_start, text.size(), std::nullopt});
  return pieces;
}

}  // namespace troupe::engine::tokenization
