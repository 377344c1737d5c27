#pragma once
// Rotary position embedding, in place, in the Hugging Face rotate_half
// convention: dims i and i + head_dim/2 form a pair rotated by
// angle = position * inv_freq[i]. cos and sin are rounded to the storage type
// first and each product is rounded, as transformers does in bf16.
#include <cuda_runtime_api.h>

#include <cstdint>

#include "gpu/kv_layout.hpp"
#include "gpu/weight_map.hpp"

namespace troupe::gpu::kernels {

struct rope_args {
  void* qkv = nullptr;               // [num_tokens, row_stride] of `type`; q heads then k heads
  int64_t row_stride = 0;            // elements between tokens
  const int32_t* positions = nullptr;  // [num_tokens] absolute positions
  const float* inv_freq = nullptr;   // [head_dim / 2], see gpu/rope_table.hpp
  int32_t num_tokens = 0;
  int32_t num_heads = 0;             // q heads, starting at column 0
  int32_t num_kv_heads = 0;          // k heads, starting at column num_heads * head_dim
  int32_t head_dim = 0;
  // Optional fused KV write: when cache != nullptr, the rotated K heads and the
  // V heads (which follow the K heads in each row) of token t are stored at
  // slot_mapping[t] (skipped when negative), as launch_kv_write would.
  void* cache = nullptr;
  kv_layout layout;
  const int64_t* slot_mapping = nullptr;
};

cudaError_t launch_rope(dtype type, const rope_args& args, cudaStream_t stream);

}  // namespace troupe::gpu::kernels
