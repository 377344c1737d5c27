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

gpu::step_batch build_step_batch(const scheduler_output& output, int32_t block_size) {
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
  return batch;
}

}  // namespace troupe::engine
