#include "gpu/kernels/embedding.hpp"
#include "gpu/kernels/element.cuh"

namespace troupe::gpu::kernels {
namespace {

// One block per token; 16-byte copies when rows allow it.
__global__ void embedding_vec_kernel(uint4* out, const uint4* table, const int32_t* token_ids,
                                     int32_t row_vecs) {
  const int64_t t = blockIdx.x;
  const int64_t id = token_ids[t];
  for (int32_t i = threadIdx.x; i < row_vecs; i += blockDim.x)
    out[t * row_vecs + i] = table[id * row_vecs + i];
}

__global__ void embedding_scalar_kernel(uint16_t* out, const uint16_t* table,
                                        const int32_t* token_ids, int32_t hidden) {
  const int64_t t = blockIdx.x;
  const int64_t id = token_ids[t];
  for (int32_t i = threadIdx.x; i < hidden; i += blockDim.x) out[t * hidden + i] = table[id * hidden + i];
}

}  // namespace

cudaError_t launch_embedding(dtype type, void* out, const void* table, const int32_t* token_ids,
                             int32_t num_tokens, int32_t hidden, cudaStream_t stream) {
  if (type == dtype::f32) return cudaErrorInvalidValue;
  if (num_tokens == 0) return cudaSuccess;
  if (hidden % 8 == 0) {
    embedding_vec_kernel<<<num_tokens, 128, 0, stream>>>(
        static_cast<uint4*>(out), static_cast<const uint4*>(table), token_ids, hidden / 8);
  } else {
    embedding_scalar_kernel<<<num_tokens, 128, 0, stream>>>(
        static_cast<uint16_t*>(out), static_cast<const uint16_t*>(table), token_ids, hidden);
  }
  return cudaGetLastError();
}

}  // namespace troupe::gpu::kernels
