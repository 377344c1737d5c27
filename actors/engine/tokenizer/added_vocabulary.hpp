#pragma once
// Added tokens of tokenizer.json ("added_tokens"): strings matched in the raw
// text before the model ever sees it, as Hugging Face `tokenizers` does it.
// Tokens with normalized=false are matched in the original text, those with
// normalized=true in each normalized piece; matching is leftmost-longest,
// honoring single_word, lstrip and rstrip.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace troupe::engine::tokenization {

struct added_token {
  int32_t id = 0;
  std::string content;
  bool special = false;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
};

// A piece of text between matches, or a matched added token.
struct text_piece {
  size_t begin = 0;  // byte offsets in the searched text
  size_t end = 0;
  std::optional<int32_t> token_id;
};

// Leftmost-longest matcher over a fixed set of strings (a byte trie).
class added_token_matcher {
 public:
  // `patterns[i]` is the string to find for `tokens[i]`.
  added_token_matcher(std::vector<std::string> patterns, std::vector<added_token> tokens);
  added_token_matcher() = default;

  // Splits `text` into pieces covering it, in order. Empty text yields nothing.
  std::vector<text_piece> split(std::string_view text) const;
  bool empty() const { return tokens_.empty(); }

 private:
  struct node {
    std::vector<std::pair<unsigned char, int32_t>> children;  // sorted by byte
    int32_t token_index = -1;
  };
  int32_t child(int32_t n, unsigned char b) const;
  // Longest pattern starting at `at`: (token index, length), or index -1.
  std::pair<int32_t, size_t> longest_at(std::string_view text, size_t at) const;

  std::vector<node> nodes_;
  std::vector<added_token> tokens_;
  bool first_byte_[256] = {};
};

}  // namespace troupe::engine::tokenization
