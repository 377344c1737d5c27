#pragma once
// The step data contract: what the scheduler hands an executor for one
// iteration, and what comes back. Plain host-side vectors; the CUDA executor
// uploads them. No prefill or decode phase: every sequence in the batch
// contributes query tokens [num_computed_tokens, num_computed_tokens + n) and
// attends to all its tokens before them through its block table.
#include <cstdint>
#include <vector>

namespace troupe::gpu {

// Sampling controls of one sequence (OpenAI / vLLM semantics).
struct sequence_sampling {
  float temperature = 1.0f;         // 0 => greedy (argmax)
  int32_t top_k = 0;                // 0 or <0 => off
  float top_p = 1.0f;               // 1 => off
  float min_p = 0.0f;               // 0 => off
  float repetition_penalty = 1.0f;  // over prompt + output tokens; 1 => off
  float presence_penalty = 0.0f;    // over output tokens
  float frequency_penalty = 0.0f;   // over output tokens
  uint64_t seed = 0;                // RNG key: draw k = philox_uniform(seed, k)
  int32_t num_top_logprobs = 0;     // top-k logprobs to return, 0..20
};

struct step_batch {
  int32_t num_seqs = 0;
  int32_t block_size = 16;

  // [num_tokens] input token ids, sequences concatenated in batch order.
  std::vector<int32_t> token_ids;
  // [num_tokens] absolute position of each input token within its sequence.
  std::vector<int32_t> positions;
  // [num_seqs + 1] prefix sums of query tokens: sequence s owns token rows
  // [query_start_loc[s], query_start_loc[s + 1]).
  std::vector<int32_t> query_start_loc;
  // [num_seqs] context length after this step (computed + scheduled tokens).
  std::vector<int32_t> seq_lens;
  // [num_seqs, max_blocks_per_seq] row-major block ids; entries past a
  // sequence's last block are 0 and never read.
  std::vector<int32_t> block_tables;
  int32_t max_blocks_per_seq = 0;
  // [num_tokens] cache slot (block_id * block_size + offset) receiving each
  // input token's K and V.
  std::vector<int64_t> slot_mapping;

  // [num_seqs] 1 if this step reaches the end of the sequence's known tokens
  // (a decode, or the last chunk of a prefill) and a token must be sampled.
  std::vector<uint8_t> do_sample;
  // [num_seqs] sampling controls.
  std::vector<sequence_sampling> sampling;
  // [num_seqs] index of the output token being sampled (0 for the first),
  // the RNG counter of the draw.
  std::vector<int32_t> sample_index;
  // Penalty history, [num_seqs + 1] offsets into penalty_token_ids; sequence s
  // has tokens penalty_token_ids[penalty_offsets[s] .. penalty_offsets[s+1]),
  // of which the first penalty_prompt_lens[s] are prompt tokens and the rest
  // output tokens. Empty when no sequence uses a penalty.
  std::vector<int32_t> penalty_token_ids;
  std::vector<int32_t> penalty_offsets;
  std::vector<int32_t> penalty_prompt_lens;  // [num_seqs]

  // Logit bias (OpenAI logit_bias), [num_seqs + 1] offsets into the parallel
  // arrays bias_token_ids / bias_values; added to the raw logits of sequence
  // s before penalties. Empty when no sequence has a bias.
  std::vector<int32_t> bias_offsets;
  std::vector<int32_t> bias_token_ids;
  std::vector<float> bias_values;
  // Grammar masks (structured output): [num_seqs, mask_words] bits, bit t of
  // row s set = token t allowed; tokens not allowed get -inf before
  // penalties. has_token_mask[s] == 0 means row s is unconstrained. Empty
  // when no sequence has a mask.
  int32_t mask_words = 0;
  std::vector<uint32_t> allowed_token_masks;
  std::vector<uint8_t> has_token_mask;  // [num_seqs]

  // Return fp32 logits for every token row (perplexity, tests) in addition to
  // sampling. Off in serving.
  bool return_all_logits = false;

  int32_t num_tokens() const { return static_cast<int32_t>(token_ids.size()); }
};

struct step_result {
  // [num_seqs] sampled token, or -1 where do_sample was 0.
  std::vector<int32_t> sampled_token_ids;
  // [num_seqs] log-probability of the sampled token under the model's
  // distribution (log_softmax of raw logits, before temperature/penalties).
  std::vector<float> sampled_logprobs;
  // [num_seqs, max_top_logprobs] top log-probabilities and their token ids,
  // descending; rows padded with -1 / -inf past a sequence's num_top_logprobs.
  int32_t max_top_logprobs = 0;
  std::vector<int32_t> top_token_ids;
  std::vector<float> top_logprobs;
  // [num_tokens, vocab_size] when step_batch::return_all_logits.
  std::vector<float> logits;
};

}  // namespace troupe::gpu
