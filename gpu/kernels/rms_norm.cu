#include "gpu/kernels/element.cuh"
#include "gpu/kernels/launch.cuh"
#include "gpu/kernels/rms_norm.hpp"

namespace troupe::gpu::kernels {
namespace {

constexpr int kThreads = 256;
// Rows up to kThreads * kMaxPerThread elements stay in registers.
constexpr int kMaxPerThread = 32;

template <typename T>
__global__ void __launch_bounds__(kThreads) rms_norm_kernel(T* out, T* residual, const T* input,
                                                            const T* weight, int32_t hidden,
                                                            float eps) {
  __shared__ float scratch[32];
  wait_for_previous_kernel();
  const int64_t row = static_cast<int64_t>(blockIdx.x) * hidden;
  float values[kMaxPerThread];
  float sum_sq = 0.0f;
#pragma unroll
  for (int k = 0; k < kMaxPerThread; ++k) {
    const int32_t i = threadIdx.x + k * kThreads;
    if (i < hidden) {
      float r = to_float(input[row + i]);
      if (residual != nullptr) {
        r = round_to<T>(r + to_float(residual[row + i]));
        residual[row + i] = from_float<T>(r);
      }
      values[k] = r;
      sum_sq += r * r;
    }
  }
  const float inv_rms = rsqrtf(block_sum(sum_sq, scratch) / static_cast<float>(hidden) + eps);
#pragma unroll
  for (int k = 0; k < kMaxPerThread; ++k) {
    const int32_t i = threadIdx.x + k * kThreads;
    if (i < hidden)
      out[row + i] = from_float<T>(to_float(weight[i]) * round_to<T>(values[k] * inv_rms));
  }
}

// The same with 16-byte loads and stores (8 elements per access), for rows
// whose length is a multiple of 8: a quarter of the memory instructions.
constexpr int kMaxVecsPerThread = 4;

template <typename T>
__global__ void __launch_bounds__(kThreads) rms_norm_vec_kernel(T* out, T* residual, const T* input,
                                                                const T* weight, int32_t hidden,
                                                                float eps) {
  __shared__ float scratch[32];
  wait_for_previous_kernel();
  const int64_t row = static_cast<int64_t>(blockIdx.x) * hidden;
  const int32_t num_vecs = hidden / 8;
  float values[kMaxVecsPerThread][8];
  float sum_sq = 0.0f;
#pragma unroll
  for (int k = 0; k < kMaxVecsPerThread; ++k) {
    const int32_t v = threadIdx.x + k * kThreads;
    if (v >= num_vecs) continue;
    const uint4 in_raw = *reinterpret_cast<const uint4*>(input + row + v * 8);
    const T* in = reinterpret_cast<const T*>(&in_raw);
    if (residual != nullptr) {
      const uint4 res_raw = *reinterpret_cast<const uint4*>(residual + row + v * 8);
      const T* res = reinterpret_cast<const T*>(&res_raw);
      uint4 sum_raw;
      T* sum = reinterpret_cast<T*>(&sum_raw);
#pragma unroll
      for (int e = 0; e < 8; ++e) {
        const float r = round_to<T>(to_float(in[e]) + to_float(res[e]));
        sum[e] = from_float<T>(r);
        values[k][e] = r;
        sum_sq += r * r;
      }
      *reinterpret_cast<uint4*>(residual + row + v * 8) = sum_raw;
    } else {
#pragma unroll
      for (int e = 0; e < 8; ++e) {
        values[k][e] = to_float(in[e]);
        sum_sq += values[k][e] * values[k][e];
      }
    }
  }
  const float inv_rms = rsqrtf(block_sum(sum_sq, scratch) / static_cast<float>(hidden) + eps);
#pragma unroll
  for (int k = 0; k < kMaxVecsPerThread; ++k) {
    const int32_t v = threadIdx.x + k * kThreads;
    if (v >= num_vecs) continue;
    const uint4 w_raw = *reinterpret_cast<const uint4*>(weight + v * 8);
    const T* w = reinterpret_cast<const T*>(&w_raw);
    uint4 out_raw;
    T* o = reinterpret_cast<T*>(&out_raw);
#pragma unroll
    for (int e = 0; e < 8; ++e) o[e] = from_float<T>(to_float(w[e]) * round_to<T>(values[k][e] * inv_rms));
    *reinterpret_cast<uint4*>(out + row + v * 8) = out_raw;
  }
}

}  // namespace

cudaError_t launch_rms_norm(dtype type, void* out, void* residual, const void* input,
                            const void* weight, int32_t num_tokens, int32_t hidden, float eps,
                            cudaStream_t stream) {
  if (hidden > kThreads * kMaxPerThread) return cudaErrorInvalidValue;
  if (num_tokens == 0) return cudaSuccess;
  const bool vectors = hidden % 8 == 0 && hidden <= kThreads * 8 * kMaxVecsPerThread;
  TROUPE_DISPATCH_HALF(type, T, {
    return launch_chained(vectors ? rms_norm_vec_kernel<T> : rms_norm_kernel<T>, dim3(num_tokens), dim3(kThreads), 0, stream,
                          static_cast<T*>(out), static_cast<T*>(residual),
                          static_cast<const T*>(input), static_cast<const T*>(weight), hidden, eps);
  });
}

}  // namespace troupe::gpu::kernels
