#include "actors/engine/exec/cpu_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "actors/engine/model/quantize.hpp"

// The 8-lane vector type only lives inside always-inlined helpers of this
// file, so the ABI note GCC emits for it (-Wpsabi) concerns no real call.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace troupe::engine::cpu {
namespace {

// Eight fp32 lanes; GCC lowers this to one AVX or two SSE registers.
typedef float v8 __attribute__((vector_size(32)));

[[gnu::always_inline]] inline v8 load8(const float* p) {
  v8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

[[gnu::always_inline]] inline void store8(float* p, v8 v) { std::memcpy(p, &v, sizeof v); }

constexpr int64_t k_nr = packed_matrix::k_panel_rows;

// MR rows of x against one panel: MR x 16 outputs accumulated over k in
// registers (2 * MR vectors), then stored, with bias, to columns [0, num_out).
template <int MR>
[[gnu::always_inline]] inline void panel_tile(const float* x, int64_t k, const float* panel,
                                              const float* bias, float* y, int64_t ldy,
                                              int64_t num_out) {
  v8 acc[MR][2] = {};
  for (int64_t t = 0; t < k; ++t) {
    const v8 w0 = load8(panel + t * k_nr);
    const v8 w1 = load8(panel + t * k_nr + 8);
    for (int i = 0; i < MR; ++i) {
      const float xv = x[i * k + t];
      acc[i][0] += xv * w0;
      acc[i][1] += xv * w1;
    }
  }
  for (int i = 0; i < MR; ++i) {
    if (bias) {
      acc[i][0] += load8(bias);
      acc[i][1] += load8(bias + 8);
    }
    if (num_out == k_nr) {
      store8(y + i * ldy, acc[i][0]);
      store8(y + i * ldy + 8, acc[i][1]);
    } else {
      float tmp[k_nr];
      store8(tmp, acc[i][0]);
      store8(tmp + 8, acc[i][1]);
      std::memcpy(y + i * ldy, tmp, static_cast<std::size_t>(num_out) * sizeof(float));
    }
  }
}

// Panels [p_begin, p_end) of w for all m rows of x. `bias` is padded to whole
// panels by the caller.
__attribute__((target_clones("arch=x86-64-v3", "default"))) void matmul_panels(
    const float* x, int64_t m, const packed_matrix& w, const float* bias, float* y,
    int64_t p_begin, int64_t p_end) {
  constexpr int MR = 6;
  const int64_t k = w.num_cols;
  const int64_t n = w.num_rows;
  const bool quantized = w.quantized.format != gpu::quant_format::none;
  std::vector<float> scratch, row;  // quantized: one decoded panel, one decoded row
  if (quantized) {
    scratch.resize(static_cast<std::size_t>(k * k_nr));
    row.resize(static_cast<std::size_t>(k));
  }
  for (int64_t p = p_begin; p < p_end; ++p) {
    const float* panel = w.data.data() + (quantized ? 0 : p * k * k_nr);
    if (quantized) {
      for (int64_t r = 0; r < k_nr; ++r) {
        const int64_t src = p * k_nr + r;
        if (src < n) dequantize_row(w.quantized, src, row.data());
        else std::fill(row.begin(), row.end(), 0.0f);
        for (int64_t c = 0; c < k; ++c) scratch[c * k_nr + r] = row[c];
      }
      panel = scratch.data();
    }
    const float* b = bias ? bias + p * k_nr : nullptr;
    const int64_t col = p * k_nr;
    const int64_t num_out = std::min(k_nr, n - col);
    int64_t i = 0;
    for (; i + MR <= m; i += MR) panel_tile<MR>(x + i * k, k, panel, b, y + i * n + col, n, num_out);
    switch (m - i) {
      case 5: panel_tile<5>(x + i * k, k, panel, b, y + i * n + col, n, num_out); break;
      case 4: panel_tile<4>(x + i * k, k, panel, b, y + i * n + col, n, num_out); break;
      case 3: panel_tile<3>(x + i * k, k, panel, b, y + i * n + col, n, num_out); break;
      case 2: panel_tile<2>(x + i * k, k, panel, b, y + i * n + col, n, num_out); break;
      case 1: panel_tile<1>(x + i * k, k, panel, b, y + i * n + col, n, num_out); break;
      default: break;
    }
  }
}

}  // namespace

void packed_matrix::copy_row(int64_t row, float* out) const {
  const float* src = data.data() + (row / k_panel_rows) * num_cols * k_panel_rows + row % k_panel_rows;
  for (int64_t c = 0; c < num_cols; ++c) out[c] = src[c * k_panel_rows];
}

packed_matrix pack_rows(const float* w, int64_t num_rows, int64_t num_cols) {
  packed_matrix out;
  out.num_rows = num_rows;
  out.num_cols = num_cols;
  const int64_t num_panels = (num_rows + k_nr - 1) / k_nr;
  out.data.assign(static_cast<std::size_t>(num_panels * num_cols * k_nr), 0.0f);
  for (int64_t r = 0; r < num_rows; ++r) {
    float* dst = out.data.data() + (r / k_nr) * num_cols * k_nr + r % k_nr;
    for (int64_t c = 0; c < num_cols; ++c) dst[c * k_nr] = w[r * num_cols + c];
  }
  return out;
}

packed_matrix pack_quantized(gpu::quant_matrix q) {
  packed_matrix out;
  out.num_rows = q.rows;
  out.num_cols = q.cols;
  out.quantized = std::move(q);
  return out;
}

void matmul(const float* x, int64_t m, const packed_matrix& w, const float* bias, float* y,
            thread_pool& pool) {
  const int64_t num_panels = (w.num_rows + k_nr - 1) / k_nr;
  // The kernel reads whole panels of bias; pad a partial last one.
  std::vector<float> padded_bias;
  if (bias && w.num_rows % k_nr != 0) {
    padded_bias.assign(static_cast<std::size_t>(num_panels * k_nr), 0.0f);
    std::memcpy(padded_bias.data(), bias, static_cast<std::size_t>(w.num_rows) * sizeof(float));
    bias = padded_bias.data();
  }
  // Below ~64k multiply-adds per thread a hand-off costs more than it saves.
  constexpr int64_t k_min_flops_per_thread = 1 << 16;
  const int64_t flops_per_panel = std::max<int64_t>(1, m * w.num_cols * k_nr);
  const int64_t min_panels = std::max<int64_t>(1, k_min_flops_per_thread / flops_per_panel);
  pool.parallel_for(num_panels, min_panels, 1, [&](int64_t begin, int64_t end) {
    matmul_panels(x, m, w, bias, y, begin, end);
  });
}

void rms_norm(const float* x, const float* weight, int64_t num_rows, int64_t dim, float eps,
              float* out) {
  for (int64_t r = 0; r < num_rows; ++r) {
    const float* row = x + r * dim;
    double sum_squares = 0.0;
    for (int64_t i = 0; i < dim; ++i) sum_squares += double{row[i]} * row[i];
    const float variance = static_cast<float>(sum_squares / static_cast<double>(dim));
    const float inv_rms = 1.0f / std::sqrt(variance + eps);
    float* dst = out + r * dim;
    for (int64_t i = 0; i < dim; ++i) dst[i] = weight[i] * (row[i] * inv_rms);
  }
}

void silu_mul(const float* gate_up, int64_t num_rows, int64_t dim, float* out) {
  for (int64_t r = 0; r < num_rows; ++r) {
    const float* gate = gate_up + r * 2 * dim;
    const float* up = gate + dim;
    float* dst = out + r * dim;
    for (int64_t i = 0; i < dim; ++i) dst[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
  }
}

void add_inplace(float* x, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

}  // namespace troupe::engine::cpu
