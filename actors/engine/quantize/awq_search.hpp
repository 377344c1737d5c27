#pragma once
// The activation-aware search of AWQ (Lin et al., "AWQ: Activation-aware
// Weight Quantization for LLM Compression and Acceleration", 2023; the
// procedure of AutoAWQ's auto_scale / auto_clip):
//
// Scales. For a Linear W [out, in] fed by calibration activations X [n, in],
// the salient input channels are those with large mean |x|. For ratio
// a = 0, 1/grid, ..., (grid-1)/grid:
//   s_c = max(mean_t |X[t, c]|, eps)^a / (w_c^(1 - a) + eps), normalized by
//   sqrt(max s * min s), where w_c is the mean over rows of |W| relative to
//   its group's absmax (AutoAWQ's duo_scaling; without it s_c = x_c^a),
//   W_a = Q(W diag(s)) diag(s)^-1      (Q: int4 round-to-nearest, group g)
//   loss(a) = mean (X W^T - X W_a^T)^2
// and the s of the smallest loss is kept; s = 1 (plain round-to-nearest) is
// a candidate too, so the calibration loss never gets worse. s is then folded into the weights:
// W diag(s), and the operation producing X divides its output by s.
//
// Clipping. Per output row and group, the absmax m is shrunk to
// m (1 - i/grid), i < max_shrink * grid, W is clamped to [-m', m'],
// quantized, and the m' with the smallest error of the group's partial dot
// products over the calibration tokens is kept (W is clamped to it).
#include <cstdint>
#include <vector>

#include "actors/engine/exec/thread_pool.hpp"

namespace troupe::engine {

struct awq_search_options {
  int32_t group_size = 128;
  int32_t grid = 20;             // ratios tried for the scales, shrink steps for clipping
  float max_shrink = 0.5f;       // clipping tries absmax * (1 - i/grid) for i < max_shrink*grid
  int64_t max_clip_tokens = 256; // calibration tokens used by the clipping search
  bool duo_scaling = true;       // divide by the weight magnitude term (AutoAWQ's default)
};

struct awq_scale_result {
  std::vector<float> scales;  // [in]
  float ratio = 0.0f;         // the chosen exponent a; -1 when s = 1 won
  double loss = 0.0;          // mean squared output error with the chosen scales
  double rtn_loss = 0.0;      // the same for plain round-to-nearest (a = 0)
};

// x: [n, in] fp32, w: [out, in] fp32 row-major.
awq_scale_result search_awq_scales(const float* x, int64_t n, const float* w, int64_t out,
                                   int64_t in, const awq_search_options& options,
                                   thread_pool& pool);

// Clamps w [out, in] in place to the best clipping range of each (row, group)
// for inputs x [n, in] (already divided by the scales when w was scaled).
void apply_awq_clipping(const float* x, int64_t n, float* w, int64_t out, int64_t in,
                        const awq_search_options& options, thread_pool& pool);

}  // namespace troupe::engine
