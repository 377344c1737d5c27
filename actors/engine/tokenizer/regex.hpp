#pragma once
// A compiled PCRE2 pattern with the matching semantics Hugging Face
// `tokenizers` gets from Oniguruma: Unicode properties (\p{L}, \p{N}),
// `\s` meaning exactly the Unicode White_Space property, and the iteration
// rule of the onig crate for empty matches. Thread-safe: matching allocates
// its own match data.
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace troupe::engine::tokenization {

struct byte_range {
  size_t begin = 0;
  size_t end = 0;
};

class regex {
 public:
  // Compiles `pattern` (Oniguruma/Perl syntax as found in tokenizer.json).
  static std::optional<regex> compile(std::string_view pattern, std::string* error);
  // Compiles a pattern matching `literal` exactly.
  static std::optional<regex> literal(std::string_view literal, std::string* error);

  // Non-overlapping matches from left to right. Bytes that are not valid
  // UTF-8 never match.
  std::vector<byte_range> find_all(std::string_view subject) const;

 private:
  struct code;
  std::shared_ptr<const code> code_;
};

// `pattern` with \s and \S rewritten to explicit White_Space classes (PCRE2's
// \s also matches U+180E, Oniguruma's does not). Exposed for tests.
std::string translate_whitespace_classes(std::string_view pattern);

}  // namespace troupe::engine::tokenization
