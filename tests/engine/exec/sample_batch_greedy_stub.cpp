// TEMPORARY: a greedy stand-in for engine::sample_batch until the real sampler
// (branch engine-core) is in main; delete this file when it lands. Weak, so a
// real definition linked into the same binary wins.
#include <algorithm>
#include <cmath>

#include "actors/engine/sampling/sampler.hpp"

namespace troupe::engine {

__attribute__((weak)) void sample_batch(const gpu::step_batch& batch, const float* logits,
                                        int32_t vocab_size, gpu::step_result& out) {
  out.sampled_token_ids.assign(static_cast<std::size_t>(batch.num_seqs), -1);
  out.sampled_logprobs.assign(static_cast<std::size_t>(batch.num_seqs), 0.0f);
  for (int32_t s = 0; s < batch.num_seqs; ++s) {
    if (!batch.do_sample[s]) continue;
    const float* row = logits + static_cast<int64_t>(s) * vocab_size;
    const float* best = std::max_element(row, row + vocab_size);
    double sum = 0.0;
    for (int32_t i = 0; i < vocab_size; ++i) sum += std::exp(double{row[i]} - *best);
    out.sampled_token_ids[s] = static_cast<int32_t>(best - row);
    out.sampled_logprobs[s] = static_cast<float>(-std::log(sum));
  }
}

}  // namespace troupe::engine
