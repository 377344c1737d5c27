#pragma once
// Writes a small Llama-family checkpoint (config.json + safetensors) with
// deterministic random weights, for tests of loading and of executors.
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gpu/model_spec.hpp"
#include "tests/engine/model/test_files.hpp"

namespace troupe::test {

inline gpu::model_spec tiny_llama_spec() {
  gpu::model_spec spec;
  spec.architecture = "LlamaForCausalLM";
  spec.vocab_size = 97;
  spec.hidden_size = 32;
  spec.intermediate_size = 48;
  spec.num_layers = 2;
  spec.num_heads = 4;
  spec.num_kv_heads = 2;
  spec.head_dim = 8;
  spec.max_position_embeddings = 512;
  spec.rms_norm_eps = 1e-5f;
  spec.rope.theta = 10000.0f;
  spec.torch_dtype = "bfloat16";
  return spec;
}

inline nlohmann::json config_json(const gpu::model_spec& spec) {
  nlohmann::json cfg = {
      {"architectures", {spec.architecture}},
      {"vocab_size", spec.vocab_size},
      {"hidden_size", spec.hidden_size},
      {"intermediate_size", spec.intermediate_size},
      {"num_hidden_layers", spec.num_layers},
      {"num_attention_heads", spec.num_heads},
      {"num_key_value_heads", spec.num_kv_heads},
      {"head_dim", spec.head_dim},
      {"max_position_embeddings", spec.max_position_embeddings},
      {"rms_norm_eps", spec.rms_norm_eps},
      {"tie_word_embeddings", spec.tie_word_embeddings},
      {"attention_bias", spec.attention_bias},
      {"hidden_act", "silu"},
      {"torch_dtype", spec.torch_dtype},
      {"rope_theta", spec.rope.theta},
  };
  if (spec.rope.scaling == gpu::rope_scaling_kind::llama3) {
    cfg["rope_scaling"] = {
        {"rope_type", "llama3"},
        {"factor", spec.rope.factor},
        {"low_freq_factor", spec.rope.low_freq_factor},
        {"high_freq_factor", spec.rope.high_freq_factor},
        {"original_max_position_embeddings", spec.rope.original_max_position_embeddings}};
  }
  return cfg;
}

// Random values rounded to bf16 so that the bf16 and f32 encodings of the
// same checkpoint hold identical numbers.
inline std::vector<float> random_values(std::mt19937& rng, int64_t n, float scale, float offset) {
  std::uniform_real_distribution<float> dist(-scale, scale);
  std::vector<float> out(static_cast<std::size_t>(n));
  for (auto& v : out) {
    float f = offset + dist(rng);
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    bits &= 0xffff0000u;
    std::memcpy(&f, &bits, 4);
    v = f;
  }
  return out;
}

// Every tensor of `spec`, named as Hugging Face names them.
inline std::vector<tensor_entry> tiny_tensors(const gpu::model_spec& spec, uint32_t seed,
                                              const std::string& dtype = "BF16") {
  std::mt19937 rng(seed);
  std::vector<tensor_entry> out;
  auto add = [&](const std::string& name, std::vector<int64_t> shape, float scale,
                 float offset = 0.0f) {
    int64_t n = 1;
    for (auto d : shape) n *= d;
    auto values = random_values(rng, n, scale, offset);
    out.push_back({name, dtype, shape, dtype == "BF16" ? bf16_bytes(values) : f32_bytes(values)});
  };
  const int64_t h = spec.hidden_size, q = int64_t{spec.num_heads} * spec.head_dim,
                kv = int64_t{spec.num_kv_heads} * spec.head_dim, inter = spec.intermediate_size;
  const float ws = 1.0f / std::sqrt(static_cast<float>(h));
  add("model.embed_tokens.weight", {spec.vocab_size, h}, 1.0f);
  for (int32_t l = 0; l < spec.num_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    add(p + "input_layernorm.weight", {h}, 0.2f, 1.0f);
    add(p + "self_attn.q_proj.weight", {q, h}, 2 * ws);
    add(p + "self_attn.k_proj.weight", {kv, h}, 2 * ws);
    add(p + "self_attn.v_proj.weight", {kv, h}, 2 * ws);
    if (spec.attention_bias) {
      add(p + "self_attn.q_proj.bias", {q}, 0.5f);
      add(p + "self_attn.k_proj.bias", {kv}, 0.5f);
      add(p + "self_attn.v_proj.bias", {kv}, 0.5f);
    }
    add(p + "self_attn.o_proj.weight", {h, q}, 2 * ws);
    add(p + "post_attention_layernorm.weight", {h}, 0.2f, 1.0f);
    add(p + "mlp.gate_proj.weight", {inter, h}, 2 * ws);
    add(p + "mlp.up_proj.weight", {inter, h}, 2 * ws);
    add(p + "mlp.down_proj.weight", {h, inter}, 2 / std::sqrt(static_cast<float>(inter)));
  }
  add("model.norm.weight", {h}, 0.2f, 1.0f);
  if (!spec.tie_word_embeddings) add("lm_head.weight", {spec.vocab_size, h}, 2 * ws);
  return out;
}

inline void write_tiny_checkpoint(const scratch_dir& dir, const gpu::model_spec& spec,
                                  uint32_t seed = 1, const std::string& dtype = "BF16") {
  write_text(dir.file("config.json"), config_json(spec).dump(2));
  write_bytes(dir.file("model.safetensors"), safetensors_image(tiny_tensors(spec, seed, dtype)));
}

}  // namespace troupe::test
