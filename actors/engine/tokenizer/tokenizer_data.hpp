#pragma once
// The loaded parts of a tokenizer.json, shared by tokenizer and
// incremental_detokenizer. Internal to actors/engine/tokenizer.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "actors/engine/tokenizer/added_vocabulary.hpp"
#include "actors/engine/tokenizer/bpe_model.hpp"
#include "actors/engine/tokenizer/decoder.hpp"
#include "actors/engine/tokenizer/normalizer.hpp"
#include "actors/engine/tokenizer/post_processor.hpp"
#include "actors/engine/tokenizer/pre_tokenizer.hpp"

namespace troupe::engine {

struct tokenizer_data {
  tokenization::normalizer norm;
  tokenization::pre_tokenizer pre;
  tokenization::bpe_model model;
  tokenization::post_processor post;
  tokenization::decoder dec;
  tokenization::added_token_matcher raw_added;         // normalized == false
  tokenization::added_token_matcher normalized_added;  // normalized == true
  tokenization::token_map added_ids;                   // content -> id
  std::vector<std::string> id_to_token;                // [vocab size]
  std::vector<bool> known;                             // [vocab size] id has a token
  std::vector<bool> special;                           // [vocab size]

  static std::shared_ptr<const tokenizer_data> from_json_text(std::string_view json_text,
                                                              std::string* error);
};

}  // namespace troupe::engine
