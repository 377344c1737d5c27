#pragma once
// Hugging Face generation_config.json: the token ids that end or begin a
// sequence and the sampling defaults the model's authors chose. Every field is
// optional; absent fields stay empty so callers can tell "unset" from a value.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace troupe::engine {

struct generation_config {
  std::vector<int32_t> eos_token_ids;  // `eos_token_id`: an int or a list
  std::optional<int32_t> bos_token_id;
  std::optional<float> temperature;
  std::optional<float> top_p;
  std::optional<int32_t> top_k;
  std::optional<float> repetition_penalty;
  std::optional<bool> do_sample;
};

// Parses the text of a generation_config.json; nullopt and a message naming
// the field on malformed input.
std::optional<generation_config> parse_generation_config(const std::string& json_text,
                                                         std::string* error);

// Reads `model_dir`/generation_config.json. A checkpoint without the file has
// an empty generation_config (not an error).
std::optional<generation_config> load_generation_config(const std::string& model_dir,
                                                        std::string* error);

}  // namespace troupe::engine
