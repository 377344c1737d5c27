#pragma once
// Writes each token's K and V into the paged cache (layout: gpu/kv_layout.hpp)
// at its slot. Tokens with a negative slot (padding rows of a captured graph)
// are skipped.
#include <cuda_runtime_api.h>

#include <cstdint>

#include "gpu/kv_layout.hpp"
#include "gpu/weight_map.hpp"

namespace troupe::gpu::kernels {

struct kv_write_args {
  void* cache = nullptr;             // one layer's [2][num_blocks][block_size][kv_heads][head_dim]
  kv_layout layout;
  const void* k = nullptr;           // token t's K heads at k + t * row_stride
  const void* v = nullptr;           // token t's V heads at v + t * row_stride
  int64_t row_stride = 0;            // elements
  const int64_t* slot_mapping = nullptr;  // [num_tokens]
  int32_t num_tokens = 0;
};

cudaError_t launch_kv_write(dtype type, const kv_write_args& args, cudaStream_t stream);

}  // namespace troupe::gpu::kernels
