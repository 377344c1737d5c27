#pragma once
// Attention over the paged KV cache (layout: gpu/kv_layout.hpp) for a mixed
// batch. Sequence s owns query rows [query_start_loc[s], query_start_loc[s+1])
// and has seq_lens[s] tokens in the cache after this step (the rows' own K/V
// already written); its query row i sits at absolute position
// seq_lens[s] - q_len + i and attends causally to keys 0..position. GQA: query
// head h reads KV head h / (num_heads / num_kv_heads).
//
// Two kernels:
//   * prefill: any batch (chunked prefill, decode rows too). One block per
//     (work item, KV head); a work item is a tile of consecutive query rows of
//     one sequence (see prefill_work_items). Keys are streamed through shared
//     memory in tiles with an online softmax (flash-attention style).
//   * decode: batches of single-row sequences. Split-KV (flash-decoding): one
//     block per (split, KV head, sequence) loads its slice of K/V once for all
//     query heads of the group; a second kernel merges the splits. Its grid
//     depends only on num_seqs and max_splits, so it can be graph-captured.
#include <cuda_runtime_api.h>

#include <cstdint>
#include <vector>

#include "gpu/kv_layout.hpp"
#include "gpu/weight_map.hpp"

namespace troupe::gpu::kernels {

struct attention_args {
  void* out = nullptr;               // [num_tokens, num_heads * head_dim] of `type`
  const void* q = nullptr;           // token t's query heads at q + t * q_row_stride
  int64_t q_row_stride = 0;          // elements
  const void* cache = nullptr;       // one layer, [2][num_blocks][block_size][kv_heads][head_dim]
  kv_layout layout;
  const int32_t* query_start_loc = nullptr;  // [num_seqs + 1]
  const int32_t* seq_lens = nullptr;         // [num_seqs]
  const int32_t* block_tables = nullptr;     // [num_seqs, block_table_stride]
  int32_t block_table_stride = 0;
  int32_t num_seqs = 0;
  int32_t num_heads = 0;
  float scale = 1.0f;                // softmax scale, usually head_dim^-0.5
};

// Query rows per prefill tile for a GQA group of `group_size` query heads.
int32_t prefill_tile_rows(int32_t group_size);

// Work items of the prefill kernel: [2 * n] pairs (sequence, first query row
// within the sequence), built on the host from the host copy of
// query_start_loc.
std::vector<int32_t> prefill_work_items(const std::vector<int32_t>& query_start_loc,
                                        int32_t group_size);

// work_items: device copy of prefill_work_items(...); num_work_items = its size / 2.
// Uses the tensor-core variant where it applies, else the scalar one.
cudaError_t launch_prefill_attention(dtype type, const attention_args& args,
                                     const int32_t* work_items, int32_t num_work_items,
                                     cudaStream_t stream);

// The two variants behind launch_prefill_attention, callable directly (tests):
// scalar fp32 for every supported head_dim, WMMA for head_dim 64 and 128.
cudaError_t launch_prefill_attention_scalar(dtype type, const attention_args& args,
                                            const int32_t* work_items, int32_t num_work_items,
                                            cudaStream_t stream);
bool prefill_attention_mma_supported(int32_t group_size, int32_t head_dim);
cudaError_t launch_prefill_attention_mma(dtype type, const attention_args& args,
                                         const int32_t* work_items, int32_t num_work_items,
                                         cudaStream_t stream);

// Workspace of the decode kernel: partial_out [num_seqs, max_splits, num_heads,
// head_dim] floats and partial_ml [num_seqs, max_splits, num_heads, 2] floats.
struct decode_workspace {
  float* partial_out = nullptr;
  float* partial_ml = nullptr;
  int32_t max_splits = 16;   // capacity (stride of the partial arrays)
  // Splits a sequence may use, 1..max_splits: a sequence of n keys uses
  // min(split_limit, ceil(n / 32)). Choose it so that num_seqs * num_kv_heads
  // * split_limit fills the GPU a few times over (decode_split_limit).
  int32_t split_limit = 16;
};
// split_limit for a batch of num_seqs sequences on a GPU with num_sms SMs.
int32_t decode_split_limit(int32_t num_seqs, int32_t num_kv_heads, int32_t num_sms,
                           int32_t max_splits);
int64_t decode_workspace_floats(int32_t num_seqs, int32_t max_splits, int32_t num_heads,
                                int32_t head_dim);

// Group sizes 1..8 and head_dim 8/16/32/64/128/256 (otherwise use the prefill kernel).
bool decode_attention_supported(int32_t group_size, int32_t head_dim);

// Every sequence must have exactly one query row (query_start_loc[s] == s);
// a sequence with seq_lens[s] == 0 (graph padding) gets a zero output row.
cudaError_t launch_decode_attention(dtype type, const attention_args& args,
                                    const decode_workspace& workspace, cudaStream_t stream);

// Which kernel computes the per-split partials: `tensor_cores`
// (mma.sync; head_dim 64 or 128, groups of up to 16 heads) or `cuda_cores`
// (every supported shape). `automatic` takes the tensor cores where they
// apply and the batch is small enough for three or more splits per
// sequence (where they were measured faster). The default is automatic, or
// cuda_cores when the environment sets
// TROUPE_DECODE_KERNEL=cuda_cores (to compare the two on a card).
enum class decode_kernel { automatic, tensor_cores, cuda_cores };
bool decode_attention_mma_supported(int32_t group_size, int32_t head_dim);
decode_kernel default_decode_kernel();
cudaError_t launch_decode_attention(dtype type, const attention_args& args,
                                    const decode_workspace& workspace, cudaStream_t stream,
                                    decode_kernel kernel);

}  // namespace troupe::gpu::kernels
