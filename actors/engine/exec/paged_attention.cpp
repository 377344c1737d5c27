#include "actors/engine/exec/paged_attention.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace troupe::engine::cpu {

void write_kv(const gpu::kv_layout& layout, const gpu::step_batch& batch, const float* k,
              const float* v, int64_t row_stride, float* cache) {
  const int64_t row_floats = int64_t{layout.num_kv_heads} * layout.head_dim;
  for (int32_t t = 0; t < batch.num_tokens(); ++t) {
    const int64_t slot = batch.slot_mapping[t];
    std::memcpy(cache + layout.offset(0, slot, 0), k + t * row_stride, row_floats * sizeof(float));
    std::memcpy(cache + layout.offset(1, slot, 0), v + t * row_stride, row_floats * sizeof(float));
  }
}

namespace {

// The sequence owning each token row.
std::vector<int32_t> sequence_of_rows(const gpu::step_batch& batch) {
  std::vector<int32_t> seq(static_cast<std::size_t>(batch.num_tokens()));
  for (int32_t s = 0; s < batch.num_seqs; ++s)
    for (int32_t t = batch.query_start_loc[s]; t < batch.query_start_loc[s + 1]; ++t) seq[t] = s;
  return seq;
}

// One query head of one token; `scores` has room for the context length.
void attend_one(const gpu::kv_layout& layout, const int32_t* block_table, int32_t context_len,
                const float* q, int32_t kv_head, float scale, const float* cache, float* scores,
                float* out) {
  const int32_t d = layout.head_dim;
  float max_score = -std::numeric_limits<float>::infinity();
  for (int32_t j = 0; j < context_len; ++j) {
    const int64_t slot = int64_t{block_table[j / layout.block_size]} * layout.block_size +
                         j % layout.block_size;
    const float* key = cache + layout.offset(0, slot, kv_head);
    float dot = 0.0f;
    for (int32_t i = 0; i < d; ++i) dot += q[i] * key[i];
    scores[j] = dot * scale;
    max_score = std::max(max_score, scores[j]);
  }
  float sum = 0.0f;
  for (int32_t j = 0; j < context_len; ++j) {
    scores[j] = std::exp(scores[j] - max_score);
    sum += scores[j];
  }
  const float inv_sum = 1.0f / sum;
  std::fill(out, out + d, 0.0f);
  for (int32_t j = 0; j < context_len; ++j) {
    const int64_t slot = int64_t{block_table[j / layout.block_size]} * layout.block_size +
                         j % layout.block_size;
    const float* value = cache + layout.offset(1, slot, kv_head);
    const float p = scores[j] * inv_sum;
    for (int32_t i = 0; i < d; ++i) out[i] += p * value[i];
  }
}

}  // namespace

void attend(const gpu::kv_layout& layout, const gpu::step_batch& batch, const float* q,
            int64_t q_stride, int32_t num_heads, const float* cache, float* out,
            thread_pool& pool) {
  const int32_t num_tokens = batch.num_tokens();
  const int32_t group = num_heads / layout.num_kv_heads;
  const float scale = 1.0f / std::sqrt(static_cast<float>(layout.head_dim));
  const auto seq = sequence_of_rows(batch);
  const int64_t num_items = int64_t{num_tokens} * num_heads;
  // Work grows with the context; keep short steps on the calling thread.
  int64_t total_context = 0;
  for (int32_t t = 0; t < num_tokens; ++t) total_context += batch.positions[t] + 1;
  const int64_t work = total_context * num_heads * layout.head_dim;
  const int64_t min_items = work < (1 << 16) ? num_items : 1;
  pool.parallel_for(num_items, min_items, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> scores;
    for (int64_t item = begin; item < end; ++item) {
      const int32_t t = static_cast<int32_t>(item / num_heads);
      const int32_t h = static_cast<int32_t>(item % num_heads);
      const int32_t context_len = batch.positions[t] + 1;
      scores.resize(static_cast<std::size_t>(context_len));
      const int32_t* block_table =
          batch.block_tables.data() + int64_t{seq[t]} * batch.max_blocks_per_seq;
      attend_one(layout, block_table, context_len, q + t * q_stride + int64_t{h} * layout.head_dim,
                 h / group, scale, cache, scores.data(),
                 out + (int64_t{t} * num_heads + h) * layout.head_dim);
    }
  });
}

}  // namespace troupe::engine::cpu
