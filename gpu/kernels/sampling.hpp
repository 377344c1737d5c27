#pragma once
// On-device sampling: the algorithm of actors/engine/sampling/sampler.hpp, run
// on the logits where they are. Per row (a sequence that samples):
//
//   1. logprobs: lp_i = l_i - max(l) - log(sum_j exp(l_j - max(l))) over the raw
//      logits l (sum in fp64); the sampled token's lp and the top
//      num_top_logprobs (descending, ties by ascending id) are returned.
//   2. penalties, once per distinct token t of the history (fp32):
//      repetition (t in prompt or output, r != 1): l_t = l_t > 0 ? l_t / r : l_t * r
//      then, with c = number of times t occurs in the output (c > 0):
//      l_t = (l_t - frequency * c) - presence.
//   3. temperature < 1e-5: greedy, the argmax of the penalised logits (lowest
//      id on ties). Otherwise:
//   4. z_i = l_i / temperature (fp32); order the vocabulary by z descending,
//      ties by ascending id; p_i = exp(z_i - z_max) / sum_j exp(z_j - z_max)
//      in fp64 over that order (i = rank from now on).
//   5. keep the prefix of ranks i < n where n is the smallest of:
//      top_k (if 0 < top_k < vocab); the count of ranks i < n_k whose mass
//      before them, sum_{j<i} p_j, is < top_p * sum_{j<n_k} p_j (if top_p < 1);
//      the count of ranks with p_i >= min_p * p_0 (if min_p > 0). At least 1.
//   6. u = philox_uniform(seed, sample_index); the token is the first rank i < n
//      with sum_{j<=i} p_j > u * sum_{j<n} p_j (the last kept rank if none).
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace troupe::gpu::kernels {

// Controls of one sampled row (device array of these).
struct sampling_row {
  float temperature = 1.0f;
  int32_t top_k = 0;
  float top_p = 1.0f;
  float min_p = 0.0f;
  float repetition_penalty = 1.0f;
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  int32_t num_top_logprobs = 0;
  uint64_t seed = 0;
  int32_t sample_index = 0;
  // History in sampling_args::penalty_token_ids: prompt tokens
  // [penalty_begin, penalty_output_begin), output tokens
  // [penalty_output_begin, penalty_end).
  int32_t penalty_begin = 0;
  int32_t penalty_output_begin = 0;
  int32_t penalty_end = 0;
};

struct sampling_args {
  const float* logits = nullptr;        // [num_rows, vocab_size] raw logits (not modified)
  const sampling_row* rows = nullptr;   // [num_rows]
  const int32_t* penalty_token_ids = nullptr;
  int32_t num_rows = 0;
  int32_t vocab_size = 0;
  int32_t max_top_logprobs = 0;         // row stride of the top-logprob outputs, <= 20
  // What the host knows about the rows; kernels for absent cases are skipped.
  bool any_penalty = false;
  bool any_random = false;              // some row has temperature >= 1e-5
  int32_t* out_token_ids = nullptr;     // [num_rows]
  float* out_logprobs = nullptr;        // [num_rows]
  int32_t* out_top_ids = nullptr;       // [num_rows, max_top_logprobs], -1 padded
  float* out_top_logprobs = nullptr;    // [num_rows, max_top_logprobs], -inf padded
};

constexpr float kGreedyTemperature = 1e-5f;
constexpr int32_t kMaxTopLogprobs = 20;

// Bytes of workspace for up to max_rows rows. The workspace must be zeroed
// once after allocation (the penalty counters are left zero after each use).
size_t sampling_workspace_bytes(int32_t max_rows, int32_t vocab_size);

cudaError_t launch_sampling(const sampling_args& args, void* workspace, size_t workspace_bytes,
                            cudaStream_t stream);

}  // namespace troupe::gpu::kernels
