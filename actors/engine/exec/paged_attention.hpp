#pragma once
// Attention over the paged KV cache on the CPU (layout in gpu/kv_layout.hpp),
// one layer at a time: store this step's K/V in their slots, then let every
// query token attend causally to its sequence's tokens [0, position].
#include <cstdint>

#include "actors/engine/exec/thread_pool.hpp"
#include "gpu/kv_layout.hpp"
#include "gpu/step_batch.hpp"

namespace troupe::engine::cpu {

// Copies k and v ([num_tokens, num_kv_heads * head_dim] each, token rows
// `row_stride` floats apart) into `cache` at batch.slot_mapping.
void write_kv(const gpu::kv_layout& layout, const gpu::step_batch& batch, const float* k,
              const float* v, int64_t row_stride, float* cache);

// out[t, h * head_dim ..] = softmax(q_h · K^T * scale) · V over the tokens
// [0, positions[t]] of t's sequence, read through its block table. Query head
// h reads KV head h / (num_heads / num_kv_heads) (grouped-query attention).
// q rows are `q_stride` floats apart; out is [num_tokens, num_heads * head_dim].
void attend(const gpu::kv_layout& layout, const gpu::step_batch& batch, const float* q,
            int64_t q_stride, int32_t num_heads, const float* cache, float* out,
            thread_pool& pool);

}  // namespace troupe::engine::cpu
