#include "actors/engine/exec/cpu_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

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

[[gnu::always_inline]] inline float hsum(v8 v) {
  return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]));
}

// A register tile: MR rows of x against NR rows of w, all of length k. Each
// x and w load is reused NR and MR times.
template <int MR, int NR>
[[gnu::always_inline]] inline void tile(const float* x, int64_t ldx, const float* w, int64_t k,
                                        const float* bias, float* y, int64_t ldy) {
  v8 acc[MR][NR] = {};
  int64_t kk = 0;
  for (; kk + 8 <= k; kk += 8) {
    v8 wv[NR];
    for (int j = 0; j < NR; ++j) wv[j] = load8(w + j * k + kk);
    for (int i = 0; i < MR; ++i) {
      v8 xv = load8(x + i * ldx + kk);
      for (int j = 0; j < NR; ++j) acc[i][j] += xv * wv[j];
    }
  }
  for (int i = 0; i < MR; ++i) {
    for (int j = 0; j < NR; ++j) {
      float s = hsum(acc[i][j]);
      for (int64_t t = kk; t < k; ++t) s += x[i * ldx + t] * w[j * k + t];
      y[i * ldy + j] = bias ? s + bias[j] : s;
    }
  }
}

// Rows [n_begin, n_end) of the output for all m rows of x.
__attribute__((target_clones("arch=x86-64-v3", "default"))) void matmul_range(
    const float* x, int64_t m, int64_t k, const float* w, int64_t n, const float* bias, float* y,
    int64_t n_begin, int64_t n_end) {
  constexpr int MR = 4;
  constexpr int NR = 2;
  int64_t j = n_begin;
  for (; j + NR <= n_end; j += NR) {
    const float* b = bias ? bias + j : nullptr;
    int64_t i = 0;
    if (m == 1) {
      tile<1, NR>(x, k, w + j * k, k, b, y + j, n);
      continue;
    }
    for (; i + MR <= m; i += MR) tile<MR, NR>(x + i * k, k, w + j * k, k, b, y + i * n + j, n);
    for (; i < m; ++i) tile<1, NR>(x + i * k, k, w + j * k, k, b, y + i * n + j, n);
  }
  for (; j < n_end; ++j) {
    const float* b = bias ? bias + j : nullptr;
    int64_t i = 0;
    for (; i + MR <= m; i += MR) tile<MR, 1>(x + i * k, k, w + j * k, k, b, y + i * n + j, n);
    for (; i < m; ++i) tile<1, 1>(x + i * k, k, w + j * k, k, b, y + i * n + j, n);
  }
}

}  // namespace

void matmul_nt(const float* x, int64_t m, int64_t k, const float* w, int64_t n,
               const float* bias, float* y, thread_pool& pool) {
  // Below ~64k multiply-adds a thread hand-off costs more than it saves.
  constexpr int64_t k_min_flops_per_thread = 1 << 16;
  const int64_t flops_per_row = std::max<int64_t>(1, m * k);
  const int64_t min_rows = std::max<int64_t>(8, k_min_flops_per_thread / flops_per_row);
  pool.parallel_for(n, min_rows, 8, [&](int64_t begin, int64_t end) {
    matmul_range(x, m, k, w, n, bias, y, begin, end);
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
