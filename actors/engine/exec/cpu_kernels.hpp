#pragma once
// fp32 building blocks of the CPU reference executor. Activations are
// row-major [rows, features]; Linear weights arrive as Hugging Face stores
// them, [out_features, in_features], and are packed once at load time.
#include <cstdint>
#include <vector>

#include "actors/engine/exec/thread_pool.hpp"
#include "gpu/quant_matrix.hpp"

namespace troupe::engine::cpu {

// A weight matrix [num_rows, num_cols] stored as panels of k_panel_rows
// output rows, each panel column-major ([num_cols][k_panel_rows]), the last
// panel zero-padded. The GEMM then forms k_panel_rows outputs per step with
// vector multiply-adds and no horizontal sums, which keeps small inner
// dimensions (hidden 16 in the test models) as fast as large ones.
//
// A quantized matrix keeps its codes instead (docs/quantization.md): matmul
// decodes each panel into the same layout in a per-thread scratch buffer just
// before multiplying with it, so the fp32 weights never exist in full.
struct packed_matrix {
  static constexpr int64_t k_panel_rows = 16;
  int64_t num_rows = 0;
  int64_t num_cols = 0;
  std::vector<float> data;  // [ceil(num_rows / 16)][num_cols][16]; empty when quantized
  gpu::quant_matrix quantized;  // format none unless quantized

  float at(int64_t row, int64_t col) const {
    return data[((row / k_panel_rows) * num_cols + col) * k_panel_rows + row % k_panel_rows];
  }
  // Copies row `row` ([num_cols]) to out (embedding lookup).
  void copy_row(int64_t row, float* out) const;
};

// Packs a row-major [num_rows, num_cols] matrix.
packed_matrix pack_rows(const float* w, int64_t num_rows, int64_t num_cols);
// Wraps quantized weights [q.rows, q.cols] for matmul.
packed_matrix pack_quantized(gpu::quant_matrix q);

// y[m, w.num_rows] = x[m, w.num_cols] · w^T (+ bias[w.num_rows] when not
// null). Panels are split over the pool; small products run on the caller.
void matmul(const float* x, int64_t m, const packed_matrix& w, const float* bias, float* y,
            thread_pool& pool);

// out[r] = x[r] * rsqrt(mean(x[r]^2) + eps) * weight, for each of num_rows
// rows of `dim` elements (Llama RMSNorm, computed in fp32). out may equal x.
void rms_norm(const float* x, const float* weight, int64_t num_rows, int64_t dim, float eps,
              float* out);

// SwiGLU activation over a fused [num_rows, 2 * dim] gate|up buffer:
// out[r, i] = silu(gate[r, i]) * up[r, i], silu(g) = g / (1 + exp(-g)).
void silu_mul(const float* gate_up, int64_t num_rows, int64_t dim, float* out);

// x[i] += y[i].
void add_inplace(float* x, const float* y, int64_t n);

}  // namespace troupe::engine::cpu
