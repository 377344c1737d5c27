#pragma once
// Hugging Face config.json -> gpu::model_spec for the Llama family
// (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM).
//
// Both spellings of the rope settings are accepted: the top-level `rope_theta`
// + `rope_scaling` of published checkpoints, and the `rope_parameters` object
// (and `dtype` instead of `torch_dtype`) that transformers 5 writes.
#include <optional>
#include <string>

#include "gpu/model_spec.hpp"

namespace troupe::engine {

// Parses the text of a config.json. On failure returns nullopt and, when
// `error` is given, a message naming the offending field or value.
std::optional<gpu::model_spec> parse_model_config(const std::string& json_text,
                                                  std::string* error);

// Reads and parses `path` (a config.json file).
std::optional<gpu::model_spec> load_model_config(const std::string& path, std::string* error);

}  // namespace troupe::engine
