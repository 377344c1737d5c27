#pragma once
// CPU sampling over a step's logits: penalties, temperature, top-k, top-p,
// min-p, then one draw u = philox_uniform(seed, sample_index) inverted through
// the sorted CDF. The CUDA sampler implements the same function with the same
// draw, so a seeded sequence yields the same tokens on either executor.
#include <cstdint>

#include "gpu/step_batch.hpp"

namespace troupe::engine {

// logits: [batch.num_seqs, vocab_size] row s = raw logits of the last token row
// of sequence s (rows where do_sample == 0 are ignored). Fills
// out.sampled_token_ids, sampled_logprobs and the top-logprob arrays.
void sample_batch(const gpu::step_batch& batch, const float* logits, int32_t vocab_size,
                  gpu::step_result& out);

}  // namespace troupe::engine
