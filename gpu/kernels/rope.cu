#include "gpu/kernels/element.cuh"
#include "gpu/kernels/launch.cuh"
#include "gpu/kernels/rope.hpp"

namespace troupe::gpu::kernels {
namespace {

template <typename T>
__global__ void rope_kernel(rope_args a) {
  wait_for_previous_kernel();
  const int32_t t = blockIdx.x;
  const int32_t D = a.head_dim, half = D / 2;
  const int32_t num_rotated_heads = a.num_heads + a.num_kv_heads;
  const float pos = static_cast<float>(a.positions[t]);
  T* row = static_cast<T*>(a.qkv) + static_cast<int64_t>(t) * a.row_stride;
  T* cache = static_cast<T*>(a.cache);
  const int64_t slot = cache != nullptr ? a.slot_mapping[t] : -1;
  // A thread owns one frequency i and every head_step-th head: one sincosf
  // per (token, i) instead of one per (token, head, i).
  const int32_t head_step = max(1, static_cast<int32_t>(blockDim.x) / half);
  for (int32_t p = threadIdx.x; p < half * head_step; p += blockDim.x) {
    const int32_t i = p % half;
    float s, c;
    sincosf(pos * a.inv_freq[i], &s, &c);
    c = round_to<T>(c);
    s = round_to<T>(s);
    for (int32_t head = p / half; head < num_rotated_heads; head += head_step) {
      T* x = row + static_cast<int64_t>(head) * D;
      const float x1 = to_float(x[i]), x2 = to_float(x[i + half]);
      const T y1 = from_float<T>(round_to<T>(x1 * c) + round_to<T>(-x2 * s));
      const T y2 = from_float<T>(round_to<T>(x2 * c) + round_to<T>(x1 * s));
      x[i] = y1;
      x[i + half] = y2;
      if (slot >= 0 && head >= a.num_heads) {
        T* k = cache + a.layout.offset(0, slot, head - a.num_heads);
        k[i] = y1;
        k[i + half] = y2;
      }
    }
  }
  if (slot >= 0) {
    const T* v = row + static_cast<int64_t>(num_rotated_heads) * D;
    T* v_cache = cache + a.layout.offset(1, slot, 0);
    for (int32_t i = threadIdx.x; i < a.num_kv_heads * D; i += blockDim.x) v_cache[i] = v[i];
  }
}

}  // namespace

cudaError_t launch_rope(dtype type, const rope_args& a, cudaStream_t stream) {
  if (a.num_tokens == 0) return cudaSuccess;
  if (a.head_dim % 2 != 0) return cudaErrorInvalidValue;
  TROUPE_DISPATCH_HALF(type, T, {
    return launch_chained(rope_kernel<T>, dim3(a.num_tokens), dim3(256), 0, stream, a);
  });
}

}  // namespace troupe::gpu::kernels
