#pragma once
// fp32 building blocks of the CPU reference executor. Matrices are row-major;
// Linear weights are [out_features, in_features] as Hugging Face stores them.
#include <cstdint>

#include "actors/engine/exec/thread_pool.hpp"

namespace troupe::engine::cpu {

// y[m, n] = x[m, k] · w[n, k]^T (+ bias[n] when bias != nullptr). Output
// rows of w are split over the pool; small products run on the caller alone.
void matmul_nt(const float* x, int64_t m, int64_t k, const float* w, int64_t n,
               const float* bias, float* y, thread_pool& pool);

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
