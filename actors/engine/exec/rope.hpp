#pragma once
// Rotary position embeddings as Hugging Face Llama applies them: dimension i
// of a head is paired with i + head_dim/2 ("rotate_half"), rotated by angle
// position * inv_freq[i], with inv_freq[i] = theta^(-2i/head_dim), optionally
// rescaled by the llama3 rule. All arithmetic is fp32, as in transformers.
#include <cstdint>
#include <vector>

#include "gpu/model_spec.hpp"

namespace troupe::engine::cpu {

// [head_dim / 2] inverse frequencies (transformers'
// _compute_default_rope_parameters, then _compute_llama3_parameters when the
// spec asks for llama3 scaling).
std::vector<float> rope_inv_freq(const gpu::rope_spec& rope, int32_t head_dim);

// cos and sin of position * inv_freq[i], each [head_dim / 2].
void rope_angles(const std::vector<float>& inv_freq, int32_t position, float* cos_out,
                 float* sin_out);

// Rotates num_heads consecutive heads of head_dim elements in place.
void apply_rope(float* x, int32_t num_heads, int32_t head_dim, const float* cos_half,
                const float* sin_half);

}  // namespace troupe::engine::cpu
