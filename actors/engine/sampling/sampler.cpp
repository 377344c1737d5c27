#include "actors/engine/sampling/sampler.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <vector>

#include "actors/engine/sampling/sample_row.hpp"

namespace troupe::engine {
namespace {

constexpr int32_t max_num_top_logprobs = 20;

// Prompt and output ids of sequence s from the batch's penalty arrays (empty
// when the batch carries none).
struct penalty_history {
  std::span<const int32_t> prompt_ids;
  std::span<const int32_t> output_ids;
};

penalty_history history_of(const gpu::step_batch& batch, int32_t s) {
  if (batch.penalty_offsets.size() <= static_cast<size_t>(s) + 1) return {};
  const int32_t begin = batch.penalty_offsets[s], end = batch.penalty_offsets[s + 1];
  const int32_t num_prompt =
      s < static_cast<int32_t>(batch.penalty_prompt_lens.size())
          ? std::clamp(batch.penalty_prompt_lens[s], 0, end - begin)
          : 0;
  const std::span<const int32_t> all(batch.penalty_token_ids.data() + begin,
                                     static_cast<size_t>(end - begin));
  return {all.first(num_prompt), all.subspan(num_prompt)};
}

// Logit bias, then the grammar mask, on sequence s's working row (the
// reported logprobs stay those of the raw logits).
void apply_bias_and_mask(const gpu::step_batch& batch, int32_t s, std::span<float> row) {
  const int32_t vocab_size = static_cast<int32_t>(row.size());
  if (batch.bias_offsets.size() > static_cast<size_t>(s) + 1) {
    for (int32_t j = batch.bias_offsets[s]; j < batch.bias_offsets[s + 1]; ++j) {
      const int32_t t = batch.bias_token_ids[j];
      if (t >= 0 && t < vocab_size) row[t] += batch.bias_values[j];
    }
  }
  if (batch.has_token_mask.size() > static_cast<size_t>(s) && batch.has_token_mask[s]) {
    const uint32_t* mask =
        batch.allowed_token_masks.data() + static_cast<size_t>(s) * batch.mask_words;
    const int32_t covered = std::min(vocab_size, batch.mask_words * 32);
    for (int32_t t = 0; t < covered; ++t)
      if (!((mask[t >> 5] >> (t & 31)) & 1u)) row[t] = -std::numeric_limits<float>::infinity();
    for (int32_t t = covered; t < vocab_size; ++t) row[t] = -std::numeric_limits<float>::infinity();
  }
}

}  // namespace

void sample_batch(const gpu::step_batch& batch, const float* logits, int32_t vocab_size,
                  gpu::step_result& out) {
  const int32_t num_seqs = batch.num_seqs;
  int32_t max_top = 0;
  for (int32_t s = 0; s < num_seqs; ++s) {
    if (!batch.do_sample[s]) continue;
    max_top = std::max(max_top, std::clamp(batch.sampling[s].num_top_logprobs, 0,
                                           std::min(max_num_top_logprobs, vocab_size)));
  }
  out.sampled_token_ids.assign(num_seqs, -1);
  out.sampled_logprobs.assign(num_seqs, 0.0f);
  out.max_top_logprobs = max_top;
  out.top_token_ids.assign(static_cast<size_t>(num_seqs) * max_top, -1);
  out.top_logprobs.assign(static_cast<size_t>(num_seqs) * max_top,
                          -std::numeric_limits<float>::infinity());

  std::vector<float> row;
  for (int32_t s = 0; s < num_seqs; ++s) {
    if (!batch.do_sample[s]) continue;
    const gpu::sequence_sampling& params = batch.sampling[s];
    const std::span<const float> raw(logits + static_cast<size_t>(s) * vocab_size,
                                     static_cast<size_t>(vocab_size));
    const double lse = log_sum_exp(raw);
    const auto logprob = [&](int32_t t) {
      return std::isnan(raw[t]) ? -std::numeric_limits<float>::infinity()
                                : static_cast<float>(static_cast<double>(raw[t]) - lse);
    };
    row.assign(raw.begin(), raw.end());
    apply_bias_and_mask(batch, s, row);
    const penalty_history history = history_of(batch, s);
    const int32_t token = sample_row(row, params, history.prompt_ids, history.output_ids,
                                     batch.sample_index[s]);
    out.sampled_token_ids[s] = token;
    out.sampled_logprobs[s] = logprob(token);
    const int32_t num_top =
        std::clamp(params.num_top_logprobs, 0, std::min(max_num_top_logprobs, vocab_size));
    const std::vector<int32_t> top = top_ids(raw, num_top);
    for (int32_t i = 0; i < num_top; ++i) {
      out.top_token_ids[static_cast<size_t>(s) * max_top + i] = top[i];
      out.top_logprobs[static_cast<size_t>(s) * max_top + i] = logprob(top[i]);
    }
  }
}

}  // namespace troupe::engine
