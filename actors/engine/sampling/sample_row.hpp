#pragma once
// The per-sequence steps of sample_batch (see sampler.hpp for the exact
// function), exposed so that tests and the CUDA sampler's reference can check
// each one on its own.
#include <cstdint>
#include <span>
#include <vector>

#include "gpu/step_batch.hpp"

namespace troupe::engine {

// log_softmax of a row of raw logits, fp64 accumulation.
std::vector<float> log_softmax(std::span<const float> logits);

// The top `count` ids of `values`, descending, ties by ascending id.
std::vector<int32_t> top_ids(std::span<const float> values, int32_t count);

// Steps 2-3: repetition penalty over distinct prompt + output ids, then
// frequency and presence penalties over output ids. Ids outside the row are
// ignored.
void apply_penalties(std::span<float> logits, const gpu::sequence_sampling& params,
                     std::span<const int32_t> prompt_ids, std::span<const int32_t> output_ids);

// The distribution that steps 5-9 leave: kept ids in CDF order and their
// weights e_i (unnormalized; the probability of ids[i] is weights[i] / sum).
struct sampling_distribution {
  std::vector<int32_t> ids;
  std::vector<float> weights;
};
sampling_distribution filtered_distribution(std::span<const float> penalized_logits,
                                            const gpu::sequence_sampling& params);

// Step 10: the id whose CDF interval holds u (u in [0, 1)).
int32_t invert_cdf(const sampling_distribution& dist, float u);

// Steps 2-10 for one row: the sampled id. `logits` is modified (penalties).
int32_t sample_row(std::span<float> logits, const gpu::sequence_sampling& params,
                   std::span<const int32_t> prompt_ids, std::span<const int32_t> output_ids,
                   int32_t sample_index);

// Greedy means temperature below this.
inline constexpr float greedy_temperature = 1e-5f;

}  // namespace troupe::engine
