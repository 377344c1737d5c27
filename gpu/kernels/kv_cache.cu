#include "gpu/kernels/element.cuh"
#include "gpu/kernels/kv_cache.hpp"

namespace troupe::gpu::kernels {
namespace {

// One block per token; each thread moves one element of K and one of V.
template <typename T>
__global__ void kv_write_kernel(T* cache, kv_layout layout, const T* k, const T* v,
                                int64_t row_stride, const int64_t* slot_mapping) {
  const int32_t t = blockIdx.x;
  const int64_t slot = slot_mapping[t];
  if (slot < 0) return;
  const int32_t width = layout.num_kv_heads * layout.head_dim;
  const int64_t k_base = layout.offset(0, slot, 0), v_base = layout.offset(1, slot, 0);
  for (int32_t i = threadIdx.x; i < width; i += blockDim.x) {
    cache[k_base + i] = k[t * row_stride + i];
    cache[v_base + i] = v[t * row_stride + i];
  }
}

}  // namespace

cudaError_t launch_kv_write(dtype type, const kv_write_args& a, cudaStream_t stream) {
  if (a.num_tokens == 0) return cudaSuccess;
  TROUPE_DISPATCH_HALF(type, T, {
    kv_write_kernel<T><<<a.num_tokens, 256, 0, stream>>>(
        static_cast<T*>(a.cache), a.layout, static_cast<const T*>(a.k),
        static_cast<const T*>(a.v), a.row_stride, a.slot_mapping);
  });
  return cudaGetLastError();
}

}  // namespace troupe::gpu::kernels
