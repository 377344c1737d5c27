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

}  // namespace

cudaError_t launch_rms_norm(dtype type, void* out, void* residual, const void* input,
                            const void* weight, int32_t num_tokens, int32_t hidden, float eps,
                            cudaStream_t stream) {
  if (hidden > kThreads * kMaxPerThread) return cudaErrorInvalidValue;
  if (num_tokens == 0) return cudaSuccess;
  TROUPE_DISPATCH_HALF(type, T, {
    return launch_chained(rms_norm_kernel<T>, dim3(num_tokens), dim3(kThreads), 0, stream,
                          static_cast<T*>(out), static_cast<T*>(residual),
                          static_cast<const T*>(input), static_cast<const T*>(weight), hidden, eps);
  });
}

}  // namespace troupe::gpu::kernels
