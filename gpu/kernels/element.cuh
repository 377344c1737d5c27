#pragma once
// Device helpers shared by the kernel families: conversions between the
// 16-bit storage types (bf16, fp16) and fp32, and warp/block reductions.
// Included by .cu files only.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "gpu/weight_map.hpp"

namespace troupe::gpu::kernels {

__device__ __forceinline__ float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }
__device__ __forceinline__ float to_float(__half x) { return __half2float(x); }
__device__ __forceinline__ float to_float(float x) { return x; }

template <typename T>
__device__ __forceinline__ T from_float(float x);
template <>
__device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float x) {
  return __float2bfloat16_rn(x);
}
template <>
__device__ __forceinline__ __half from_float<__half>(float x) {
  return __float2half_rn(x);
}
template <>
__device__ __forceinline__ float from_float<float>(float x) {
  return x;
}

// Rounds through the storage type (what a tensor of that type would hold).
template <typename T>
__device__ __forceinline__ float round_to(float x) {
  return to_float(from_float<T>(x));
}

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Sum over the block; every thread gets the result. `scratch` holds >= 32 floats.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int num_warps = (blockDim.x + 31) >> 5;
  v = warp_sum(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  float total = 0.0f;
  for (int w = 0; w < num_warps; ++w) total += scratch[w];
  return total;
}

}  // namespace troupe::gpu::kernels

// Expands `body` with T bound to the CUDA type of a gpu::dtype (bf16 or fp16).
#define TROUPE_DISPATCH_HALF(type, T, ...)          \
  do {                                              \
    if ((type) == ::troupe::gpu::dtype::bf16) {     \
      using T = __nv_bfloat16;                      \
      __VA_ARGS__                                   \
    } else if ((type) == ::troupe::gpu::dtype::f16) { \
      using T = __half;                             \
      __VA_ARGS__                                   \
    } else {                                        \
      return cudaErrorInvalidValue;                 \
    }                                               \
  } while (0)
