#include "actors/engine/sched/batch_builder.hpp"

#include <algorithm>

namespace troupe::engine {
namespace {

bool uses_penalties(const sampling_params& p) {
  return p.repetition_penalty != 1.0f || p.presence_penalty != 0.0f ||
         p.frequency_penalty != 0.0f;
}

// Penalty history of the sampling sequences that use a penalty; other
// sequences get an empty range. Left empty when none uses one.
void fill_penalty_history(const scheduler_output& output, gpu::step_batch& batch) {
  const bool any = std::any_of(output.requests.begin(), output.requests.end(),
                               [](const scheduled_request& s) {
                                 return s.do_sample && uses_penalties(s.request->params);
                               });
  if (!any) return;
  batch.penalty_offsets.push_back(0);
  for (const scheduled_request& s : output.requests) {
    const request_state& r = *s.request;
    const bool used = s.do_sample && uses_penalties(r.params);
    if (used) {
      batch.penalty_token_ids.insert(batch.penalty_token_ids.end(), r.token_ids.begin(),
                                     r.token_ids.end());
    }
    batch.penalty_offsets.push_back(static_cast<int32_t>(batch.penalty_token_ids.size()));
    batch.penalty_prompt_lens.push_back(used ? r.num_prompt_tokens : 0);
  }
}

// Logit bias rows of the sampling sequences; left empty when none has one.
void fill_logit_bias(const scheduler_output& output, gpu::step_batch& batch) {
  const bool any = std::any_of(output.requests.begin(), output.requests.end(),
                               [](const scheduled_request& s) {
                                 return s.do_sample && !s.request->params.logit_bias_token_ids.empty();
                               });
  if (!any) return;
  batch.bias_offsets.push_back(0);
  for (const scheduled_request& s : output.requests) {
    const sampling_params& p = s.request->params;
    if (s.do_sample) {
      batch.bias_token_ids.insert(batch.bias_token_ids.end(), p.logit_bias_token_ids.begin(),
                                  p.logit_bias_token_ids.end());
      batch.bias_values.insert(batch.bias_values.end(), p.logit_bias_values.begin(),
                               p.logit_bias_values.end());
    }
    batch.bias_offsets.push_back(static_cast<int32_t>(batch.bias_token_ids.size()));
  }
}

// Grammar masks of the sampling sequences with a grammar: the tokens that
// keep the output a prefix of a match, plus the stop ids once the output is
// a whole match. A state with no allowed token (cannot happen with a
// vocabulary that has every byte) allows the stop ids so the request ends.
void fill_token_masks(const scheduler_output& output, int32_t max_model_len, gpu::step_batch& batch) {
  const bool any = std::any_of(output.requests.begin(), output.requests.end(),
                               [](const scheduled_request& s) {
                                 return s.do_sample && s.request->grammar != nullptr;
                               });
  if (!any) return;
  int32_t words = 0;
  for (const scheduled_request& s : output.requests)
    if (s.request->grammar) words = std::max(words, s.request->grammar->vocabulary().mask_words());
  batch.mask_words = words;
  batch.allowed_token_masks.assign(static_cast<size_t>(batch.num_seqs) * words, 0u);
  batch.has_token_mask.assign(batch.num_seqs, 0);
  for (int32_t seq = 0; seq < batch.num_seqs; ++seq) {
    const scheduled_request& s = output.requests[seq];
    const request_state& r = *s.request;
    if (!s.do_sample || !r.grammar) continue;
    batch.has_token_mask[seq] = 1;
    uint32_t* row = batch.allowed_token_masks.data() + static_cast<size_t>(seq) * words;
    // Tokens left after this one: the output must be able to become a whole
    // match within them (max_tokens or the context, whichever ends first).
    const int32_t tokens_after = std::min(r.params.max_tokens - r.num_output_tokens(),
                                          max_model_len - r.num_tokens()) - 1;
    const std::vector<uint32_t>& m = r.grammar->mask_within(r.grammar_state, tokens_after);
    std::copy(m.begin(), m.end(), row);
    const bool none = std::all_of(m.begin(), m.end(), [](uint32_t w) { return w == 0; });
    if (r.grammar->accepting(r.grammar_state) || none)
      for (int32_t t : r.params.stop_token_ids)
        if (t >= 0 && t < words * 32) row[t >> 5] |= 1u << (t & 31);
  }
}

}  // namespace

gpu::sequence_sampling to_sequence_sampling(const sampling_params& params) {
  gpu::sequence_sampling s;
  s.temperature = params.temperature;
  s.top_k = params.top_k;
  s.top_p = params.top_p;
  s.min_p = params.min_p;
  s.repetition_penalty = params.repetition_penalty;
  s.presence_penalty = params.presence_penalty;
  s.frequency_penalty = params.frequency_penalty;
  s.seed = params.seed;
  s.num_top_logprobs = params.num_top_logprobs;
  return s;
}

gpu::step_batch build_step_batch(const scheduler_output& output, int32_t block_size,
                                 int32_t max_model_len) {
  gpu::step_batch batch;
  batch.num_seqs = static_cast<int32_t>(output.requests.size());
  batch.block_size = block_size;
  int32_t max_blocks = 0;
  for (const scheduled_request& s : output.requests) {
    max_blocks = std::max(max_blocks, static_cast<int32_t>(s.request->block_ids.size()));
  }
  batch.max_blocks_per_seq = max_blocks;
  batch.block_tables.assign(static_cast<size_t>(batch.num_seqs) * max_blocks, 0);
  batch.token_ids.reserve(output.num_batched_tokens);
  batch.positions.reserve(output.num_batched_tokens);
  batch.slot_mapping.reserve(output.num_batched_tokens);
  batch.query_start_loc.push_back(0);

  for (int32_t seq = 0; seq < batch.num_seqs; ++seq) {
    const scheduled_request& s = output.requests[seq];
    const request_state& r = *s.request;
    std::copy(r.block_ids.begin(), r.block_ids.end(),
              batch.block_tables.begin() + static_cast<size_t>(seq) * max_blocks);
    for (int32_t pos = s.num_computed_tokens; pos < s.num_computed_tokens + s.num_new_tokens;
         ++pos) {
      batch.token_ids.push_back(r.token_ids[pos]);
      batch.positions.push_back(pos);
      batch.slot_mapping.push_back(static_cast<int64_t>(r.block_ids[pos / block_size]) *
                                       block_size + pos % block_size);
    }
    batch.query_start_loc.push_back(static_cast<int32_t>(batch.token_ids.size()));
    batch.seq_lens.push_back(s.num_computed_tokens + s.num_new_tokens);
    batch.do_sample.push_back(s.do_sample ? 1 : 0);
    batch.sampling.push_back(to_sequence_sampling(r.params));
    batch.sample_index.push_back(r.num_output_tokens());
  }
  fill_penalty_history(output, batch);
  fill_logit_bias(output, batch);
  fill_token_masks(output, max_model_len, batch);
  return batch;
}

}  // namespace troupe::engine
