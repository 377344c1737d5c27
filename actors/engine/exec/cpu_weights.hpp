#pragma once
// The model's weights as the CPU executor computes with them: fp32, matrices
// packed for cpu::matmul, with the q/k/v projections fused into one
// [q_dim + 2 * kv_dim, hidden] matrix and gate/up into one
// [2 * intermediate, hidden] matrix, so that each needs one pass over the
// activations.
#include <cstdint>
#include <string>
#include <vector>

#include "actors/engine/exec/cpu_kernels.hpp"
#include "actors/engine/model/quantization_config.hpp"
#include "gpu/model_spec.hpp"
#include "gpu/weight_map.hpp"

namespace troupe::engine::cpu {

// Appends the elements of a bf16/fp16/fp32 tensor to `out` as fp32.
void append_f32(const gpu::tensor_view& view, std::vector<float>& out);

struct layer_weights {
  std::vector<float> input_norm;      // [hidden]
  packed_matrix qkv;                  // [q_dim + 2 * kv_dim, hidden]
  std::vector<float> qkv_bias;        // [q_dim + 2 * kv_dim], empty without attention_bias
  packed_matrix o_proj;               // [hidden, q_dim]
  std::vector<float> post_norm;       // [hidden]
  packed_matrix gate_up;              // [2 * intermediate, hidden], gate rows first
  packed_matrix down;                 // [hidden, intermediate]
};

struct model_weights {
  packed_matrix embed;                // [vocab, hidden]; rows gathered with copy_row
  std::vector<layer_weights> layers;  // [num_layers]
  std::vector<float> final_norm;      // [hidden]
  packed_matrix lm_head;              // [vocab, hidden]; empty when tied to embed
};

// Precondition: `weights` passes check_weights(spec, weights, ..., quant.stored != none).
// With an active `quant` every Linear weight of the layers is quantized (or
// read quantized from the checkpoint) and kept so: matmul decodes it panel by
// panel, computing with exactly the values the quantized GPU kernels decode
// (docs/quantization.md). Embeddings, norms and the LM head
// stay as stored. Returns "" or an error naming the tensor.
std::string convert_weights(const gpu::model_spec& spec, const gpu::weight_map& weights,
                            const quantization_config& quant, model_weights& out);

}  // namespace troupe::engine::cpu
