#pragma once
// The shape of a Llama-family decoder, as every executor needs it. Parsed from a
// Hugging Face config.json by actors/engine/model/model_config.cpp; kept here so
// that gpu/ stays standalone (no dependency on the engine).
#include <cstdint>
#include <string>

namespace troupe::gpu {

enum class rope_scaling_kind : int32_t { none = 0, llama3 = 1 };

struct rope_spec {
  float theta = 10000.0f;
  rope_scaling_kind scaling = rope_scaling_kind::none;
  // llama3 scaling (transformers' _compute_llama3_parameters)
  float factor = 1.0f;
  float low_freq_factor = 1.0f;
  float high_freq_factor = 4.0f;
  int32_t original_max_position_embeddings = 8192;
};

struct model_spec {
  std::string architecture;  // "LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM"
  int32_t vocab_size = 0;
  int32_t hidden_size = 0;
  int32_t intermediate_size = 0;
  int32_t num_layers = 0;
  int32_t num_heads = 0;     // query heads
  int32_t num_kv_heads = 0;  // GQA: num_heads % num_kv_heads == 0
  int32_t head_dim = 0;      // may differ from hidden_size / num_heads
  int32_t max_position_embeddings = 0;
  float rms_norm_eps = 1e-6f;
  rope_spec rope;
  bool tie_word_embeddings = false;
  bool attention_bias = false;  // q/k/v projections carry a bias (Qwen2)
  std::string torch_dtype = "bfloat16";  // checkpoint dtype as written in config.json
};

}  // namespace troupe::gpu
