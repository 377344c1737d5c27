#pragma once
// The `pre_tokenizer` section of tokenizer.json: splits a normalized piece of
// text into words, each encoded by the model on its own. Supported: Split
// (regex or string pattern, every delimiter behavior, invert), ByteLevel
// (add_prefix_space, use_regex with the GPT-2 pattern), Metaspace
// (replacement, prepend_scheme, split), Digits, Sequence, and null.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace troupe::engine::tokenization {

struct word {
  std::string text;
  // The word begins at byte 0 of the original input (Metaspace's "first"
  // prepend scheme depends on it).
  bool at_input_start = false;
};

class pre_tokenizer {
 public:
  static std::optional<pre_tokenizer> from_json(const nlohmann::json& spec, std::string* error);

  // Appends the words of one normalized piece. Empty words are dropped.
  void split(std::string_view piece, bool at_input_start, std::vector<word>& out) const;

  struct step;

 private:
  std::vector<std::shared_ptr<const step>> steps_;
};

}  // namespace troupe::engine::tokenization
