#pragma once
// The paged KV cache layout, shared by the CPU reference executor and the CUDA
// kernels. One buffer per layer:
//
//   kv[layer] : [2][num_blocks][block_size][num_kv_heads][head_dim]
//                ^ 0 = K, 1 = V
//
// A token's K/V live at "slot" = block_id * block_size + offset_in_block, so the
// element (kv, slot, head, d) of a layer is at
//   ((kv * num_blocks * block_size + slot) * num_kv_heads + head) * head_dim + d.
// A sequence's logical token i lives in block block_table[i / block_size] at
// offset i % block_size. Elements are fp32 on the CPU executor and the model's
// compute dtype (bf16/fp16) on the GPU. Block 0 is a real block (no sentinel);
// unused block_table entries are 0 and never read past seq_len.
#include <cstdint>

#include "gpu/philox.hpp"

namespace troupe::gpu {

struct kv_layout {
  int64_t num_blocks = 0;
  int32_t block_size = 16;
  int32_t num_kv_heads = 0;
  int32_t head_dim = 0;

  TROUPE_HD int64_t elements_per_layer() const {
    return 2 * num_blocks * block_size * static_cast<int64_t>(num_kv_heads) * head_dim;
  }
  // Elements from a slot's row of one head to the next slot's:
  // offset(kv, slot + 1, head) - offset(kv, slot, head).
  TROUPE_HD int64_t slot_stride() const { return static_cast<int64_t>(num_kv_heads) * head_dim; }
  // Offset of (kv, slot, head, 0) within one layer's buffer.
  TROUPE_HD int64_t offset(int kv, int64_t slot, int32_t head) const {
    return ((kv * num_blocks * block_size + slot) * num_kv_heads + head) *
           static_cast<int64_t>(head_dim);
  }
};

}  // namespace troupe::gpu
