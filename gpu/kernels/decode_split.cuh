#pragma once
// How decode attention splits a sequence's keys (flash-decoding), shared by
// the decode kernels that write per-split partials and the kernel that
// combines them. Included by .cu files only.
#include <cstdint>

#include "gpu/kernels/attention.hpp"

namespace troupe::gpu::kernels {

constexpr int32_t kDecodeMinChunk = 32;  // fewest keys worth a split of their own

// Splits used by a sequence of seq_len keys: min(split_limit, ceil(seq_len / 32)), >= 1.
__host__ __device__ inline int32_t decode_num_splits(int32_t seq_len, int32_t split_limit) {
  const int32_t want = (seq_len + kDecodeMinChunk - 1) / kDecodeMinChunk;
  return want < 1 ? 1 : (want > split_limit ? split_limit : want);
}

// The tensor-core decode kernel (decode_attention_mma.cu): writes the same
// partials as the CUDA-core kernel, for the combine kernel to merge.
cudaError_t launch_decode_attention_mma_partials(dtype type, const attention_args& a,
                                                 const decode_workspace& w, cudaStream_t stream);

}  // namespace troupe::gpu::kernels
