#pragma once
// CPU sampling over a step's logits: penalties, temperature, top-k, top-p,
// min-p, then one draw u = philox_uniform(seed, sample_index) inverted through
// the sorted CDF. The CUDA sampler implements the same function with the same
// draw, so a seeded sequence yields the same tokens on either executor.
//
// The function, per sequence s with do_sample[s] == 1 (V = vocab_size, x = a
// copy of the raw logits row, NaN read as -inf):
//
//  1. Logprobs: lp = log_softmax(raw logits) (max-subtracted, sum of exp in
//     fp64). sampled_logprobs[s] = lp[token]; the top num_top_logprobs (<= 20)
//     entries of lp, descending, ties by ascending id. Penalties and
//     temperature never change the reported logprobs.
//  2. Repetition penalty p (!= 1), once per DISTINCT token id t among prompt +
//     output tokens: x[t] = x[t] > 0 ? x[t] / p : x[t] * p (HF / vLLM).
//  3. Frequency f and presence r over OUTPUT tokens only, with c = count of t:
//     x[t] -= f * c + r * (c > 0) (OpenAI / vLLM).
//  4. temperature < 1e-5: greedy, the id of the largest x (lowest id on ties);
//     top-k / top-p / min-p and the draw are skipped.
//  5. Otherwise, in fp32: x[t] /= temperature. Order the ids with x > -inf by
//     descending x, ties by ascending id (the same as descending probability).
//  6. top-k (0 < k < V): keep the first k of that order.
//  7. e_i = expf(x_i - x_max) in fp32 for the kept ids, in order (e_0 = 1);
//     Z = sum of e_i in fp64 in that order. Probabilities are e_i / Z.
//  8. top-p (< 1): keep the shortest prefix whose fp64 running sum of e_i is
//     >= top_p * Z (at least one id).
//  9. min-p (> 0): drop ids with e_i < min_p (p_i < min_p * p_max), never the
//     first.
// 10. Draw: u = philox_uniform(seed, sample_index[s]) in [0, 1),
//     Z' = fp64 sum of the kept e_i, T = u * Z' in fp64; the token is the first
//     kept id i whose running fp64 sum of e_0..e_i exceeds T (the last kept id if
//     rounding leaves none).
//
// A parallel implementation that sums in another order can differ only when T
// falls within fp64 rounding of a CDF boundary.
#include <cstdint>

#include "gpu/step_batch.hpp"

namespace troupe::engine {

// logits: [batch.num_seqs, vocab_size] row s = raw logits of the last token row
// of sequence s (rows where do_sample == 0 are ignored). Fills
// out.sampled_token_ids, sampled_logprobs and the top-logprob arrays.
void sample_batch(const gpu::step_batch& batch, const float* logits, int32_t vocab_size,
                  gpu::step_result& out);

}  // namespace troupe::engine
