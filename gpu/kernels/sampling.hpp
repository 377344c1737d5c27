#pragma once
// On-device sampling: the function documented in
// actors/engine/sampling/sampler.hpp (the CPU sampler), computed where the
// logits are. Per row, x = raw logits with NaN read as -inf:
//
//   1. lp = x - log_sum, log_sum = max + (float)log(fp64 sum exp(x - max));
//      the sampled token's lp and the top num_top_logprobs of lp (descending,
//      ties by ascending id) are returned.
//   2. repetition penalty r (!= 1, > 0) once per distinct id of prompt +
//      output: x = x > 0 ? x / r : x * r; then over output ids with count c:
//      x -= f * c + presence (fp32, no fused multiply-add).
//   3. temperature < 1e-5: greedy, argmax of x (lowest id on ties).
//   4. x /= temperature; ids with x > -inf ordered by x descending, ties by
//      ascending id (a radix sort on the device); top-k keeps the first k;
//      e_i = expf(x_i - x_max) in fp32; Z = fp64 sum of e_i; top-p keeps the
//      shortest prefix whose running sum is >= top_p * Z; min-p drops the
//      suffix with e_i < min_p (never the first).
//   5. u = philox_uniform(seed, sample_index); the first kept id whose running
//      fp64 sum exceeds u * (sum of kept e_i) (the last kept id if none).
//
// Sums run in parallel here and in rank order on the CPU, so a draw can
// differ only when u * Z' lies within fp64 rounding of a CDF boundary. expf
// is evaluated as the fp32 rounding of the fp64 exp (correctly rounded but
// for double-rounding cases), the value the host's expf gives.
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
  // Logit bias entries [bias_begin, bias_end) of sampling_args::bias_*;
  // has_mask: row r of sampling_args::allowed_masks applies.
  int32_t bias_begin = 0;
  int32_t bias_end = 0;
  int32_t has_mask = 0;
};

struct sampling_args {
  const float* logits = nullptr;        // [num_rows, vocab_size] raw logits (not modified)
  const sampling_row* rows = nullptr;   // [num_rows]
  const int32_t* penalty_token_ids = nullptr;
  // Logit bias (added to the logits first) and grammar masks ([num_rows,
  // mask_words] bits; tokens whose bit is clear get -inf), applied to the
  // working scores before the penalties, as the CPU sampler does.
  const int32_t* bias_token_ids = nullptr;
  const float* bias_values = nullptr;
  const uint32_t* allowed_masks = nullptr;
  int32_t mask_words = 0;
  bool any_edit = false;                // some row has a bias or a mask
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
