#pragma once
// Rotary embedding frequencies, host side: inv_freq[i] = theta^(-2i/head_dim)
// for i in [0, head_dim/2), with Llama 3 scaling applied as transformers'
// _compute_llama3_parameters does. The CUDA kernel and the tests share it.
#include <cmath>
#include <cstdint>
#include <vector>

#include "gpu/model_spec.hpp"

namespace troupe::gpu {

inline std::vector<float> rope_inv_freq(const rope_spec& rope, int32_t head_dim) {
  const int32_t half = head_dim / 2;
  std::vector<float> inv_freq(half);
  for (int32_t i = 0; i < half; ++i) {
    // transformers computes the exponent and power in fp32.
    const float exponent = static_cast<float>(2 * i) / static_cast<float>(head_dim);
    inv_freq[i] = 1.0f / std::pow(rope.theta, exponent);
  }
  if (rope.scaling != rope_scaling_kind::llama3) return inv_freq;

  const double pi = 3.14159265358979323846;
  const double old_len = rope.original_max_position_embeddings;
  const double low_freq_wavelen = old_len / rope.low_freq_factor;
  const double high_freq_wavelen = old_len / rope.high_freq_factor;
  for (auto& f : inv_freq) {
    const double wavelen = 2.0 * pi / f;
    if (wavelen > low_freq_wavelen) {
      f = static_cast<float>(f / rope.factor);
    } else if (wavelen >= high_freq_wavelen) {
      // Medium band: interpolate between the scaled and the original frequency.
      const double smooth = (old_len / wavelen - rope.low_freq_factor) /
                            (rope.high_freq_factor - rope.low_freq_factor);
      f = static_cast<float>((1.0 - smooth) * f / rope.factor + smooth * f);
    }
  }
  return inv_freq;
}

}  // namespace troupe::gpu
