#include "gpu/kernels/element.cuh"
#include "gpu/kernels/rope.hpp"

namespace troupe::gpu::kernels {
namespace {

template <typename T>
__global__ void rope_kernel(T* qkv, int64_t row_stride, const int32_t* positions,
                            const float* inv_freq, int32_t num_rotated_heads, int32_t head_dim) {
  const int32_t t = blockIdx.x;
  const int32_t half = head_dim / 2;
  const float pos = static_cast<float>(positions[t]);
  T* row = qkv + static_cast<int64_t>(t) * row_stride;
  for (int32_t p = threadIdx.x; p < num_rotated_heads * half; p += blockDim.x) {
    const int32_t head = p / half, i = p % half;
    float s, c;
    sincosf(pos * inv_freq[i], &s, &c);
    c = round_to<T>(c);
    s = round_to<T>(s);
    T* x = row + static_cast<int64_t>(head) * head_dim;
    const float x1 = to_float(x[i]), x2 = to_float(x[i + half]);
    x[i] = from_float<T>(round_to<T>(x1 * c) + round_to<T>(-x2 * s));
    x[i + half] = from_float<T>(round_to<T>(x2 * c) + round_to<T>(x1 * s));
  }
}

}  // namespace

cudaError_t launch_rope(dtype type, const rope_args& a, cudaStream_t stream) {
  if (a.num_tokens == 0) return cudaSuccess;
  if (a.head_dim % 2 != 0) return cudaErrorInvalidValue;
  TROUPE_DISPATCH_HALF(type, T, {
    rope_kernel<T><<<a.num_tokens, 256, 0, stream>>>(static_cast<T*>(a.qkv), a.row_stride,
                                                     a.positions, a.inv_freq,
                                                     a.num_heads + a.num_kv_heads, a.head_dim);
  });
  return cudaGetLastError();
}

}  // namespace troupe::gpu::kernels
