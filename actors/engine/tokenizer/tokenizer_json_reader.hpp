#pragma once
// Reads tokenizer.json in one SAX pass. model.vocab and model.merges (almost
// all of the file: 128k tokens and 280k merges for Llama 3) are collected
// straight into vectors; everything else becomes an ordinary JSON tree. This
// is about three times faster than building the whole tree.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace troupe::engine::tokenization {

struct tokenizer_json {
  nlohmann::json doc;  // the file without model.vocab / model.merges when collected below
  std::optional<std::vector<std::pair<std::string, int32_t>>> vocab;  // model.vocab as an object
  // model.merges, each "a b" string or [a, b] pair split into its two parts.
  std::optional<std::vector<std::pair<std::string, std::string>>> merges;
};

std::optional<tokenizer_json> read_tokenizer_json(std::string_view text, std::string* error);

}  // namespace troupe::engine::tokenization
