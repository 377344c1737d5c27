#pragma once
// The model's weights as the CPU executor computes with them: fp32, with the
// q/k/v projections fused into one [q_dim + 2 * kv_dim, hidden] matrix and
// gate/up into one [2 * intermediate, hidden] matrix, so that each needs one
// pass over the activations.
#include <cstdint>
#include <vector>

#include "gpu/model_spec.hpp"
#include "gpu/weight_map.hpp"

namespace troupe::engine::cpu {

// Appends the elements of a bf16/fp16/fp32 tensor to `out` as fp32.
void append_f32(const gpu::tensor_view& view, std::vector<float>& out);

struct layer_weights {
  std::vector<float> input_norm;      // [hidden]
  std::vector<float> qkv;             // [q_dim + 2 * kv_dim, hidden]
  std::vector<float> qkv_bias;        // [q_dim + 2 * kv_dim], empty without attention_bias
  std::vector<float> o_proj;          // [hidden, q_dim]
  std::vector<float> post_norm;       // [hidden]
  std::vector<float> gate_up;         // [2 * intermediate, hidden], gate rows first
  std::vector<float> down;            // [hidden, intermediate]
};

struct model_weights {
  std::vector<float> embed;           // [vocab, hidden]
  std::vector<layer_weights> layers;  // [num_layers]
  std::vector<float> final_norm;      // [hidden]
  std::vector<float> lm_head;         // [vocab, hidden]; empty when tied to embed
};

// Precondition: `weights` passes check_weights(spec, weights).
model_weights convert_weights(const gpu::model_spec& spec, const gpu::weight_map& weights);

}  // namespace troupe::engine::cpu
