#pragma once
// Embedding gather: out[t, :] = table[token_ids[t], :].
#include <cuda_runtime_api.h>

#include <cstdint>

#include "gpu/weight_map.hpp"

namespace troupe::gpu::kernels {

// table: [vocab_size, hidden] of `type`; token_ids: [num_tokens] device ints,
// each in [0, vocab_size); out: [num_tokens, hidden] of `type`.
cudaError_t launch_embedding(dtype type, void* out, const void* table, const int32_t* token_ids,
                             int32_t num_tokens, int32_t hidden, cudaStream_t stream);

}  // namespace troupe::gpu::kernels
