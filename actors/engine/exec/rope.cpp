#include "actors/engine/exec/rope.hpp"

#include <cmath>

namespace troupe::engine::cpu {

std::vector<float> rope_inv_freq(const gpu::rope_spec& rope, int32_t head_dim) {
  const int32_t half = head_dim / 2;
  std::vector<float> inv_freq(static_cast<std::size_t>(half));
  for (int32_t i = 0; i < half; ++i) {
    const float exponent = static_cast<float>(2 * i) / static_cast<float>(head_dim);
    inv_freq[i] = 1.0f / std::pow(rope.theta, exponent);
  }
  if (rope.scaling != gpu::rope_scaling_kind::llama3) return inv_freq;

  // Llama 3.1 frequency scaling: long wavelengths (low frequencies) are
  // divided by `factor`, short ones kept, and the band in between blended.
  const float pi = 3.141592653589793f;
  const float old_context = static_cast<float>(rope.original_max_position_embeddings);
  const float low_freq_wavelen = old_context / rope.low_freq_factor;
  const float high_freq_wavelen = old_context / rope.high_freq_factor;
  // Written as torch evaluates `scalar / tensor` (reciprocal, then multiply),
  // so that the fp32 roundings match transformers'.
  for (auto& f : inv_freq) {
    const float wavelen = (1.0f / f) * (2.0f * pi);
    float scaled = wavelen > low_freq_wavelen ? f / rope.factor : f;
    const bool medium = !(wavelen < high_freq_wavelen) && !(wavelen > low_freq_wavelen);
    if (medium) {
      const float smooth = ((1.0f / wavelen) * old_context - rope.low_freq_factor) /
                           (rope.high_freq_factor - rope.low_freq_factor);
      scaled = (1.0f - smooth) * scaled / rope.factor + smooth * scaled;
    }
    f = scaled;
  }
  return inv_freq;
}

void rope_angles(const std::vector<float>& inv_freq, int32_t position, float* cos_out,
                 float* sin_out) {
  const float pos = static_cast<float>(position);
  for (std::size_t i = 0; i < inv_freq.size(); ++i) {
    const float angle = pos * inv_freq[i];
    cos_out[i] = std::cos(angle);
    sin_out[i] = std::sin(angle);
  }
}

void apply_rope(float* x, int32_t num_heads, int32_t head_dim, const float* cos_half,
                const float* sin_half) {
  const int32_t half = head_dim / 2;
  for (int32_t h = 0; h < num_heads; ++h) {
    float* head = x + static_cast<int64_t>(h) * head_dim;
    for (int32_t i = 0; i < half; ++i) {
      const float a = head[i];
      const float b = head[i + half];
      head[i] = a * cos_half[i] - b * sin_half[i];
      head[i + half] = b * cos_half[i] + a * sin_half[i];
    }
  }
}

}  // namespace troupe::engine::cpu
