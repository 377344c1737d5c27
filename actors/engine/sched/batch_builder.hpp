#pragma once
// Turns a scheduler_output into the executor's step_batch (gpu/step_batch.hpp):
// the flat token rows, their positions and KV slots, the block tables, and the
// sampling controls of the sequences that sample this step.
#include <climits>
#include <cstdint>

#include "actors/engine/sched/scheduler.hpp"
#include "gpu/step_batch.hpp"

namespace troupe::engine {

gpu::sequence_sampling to_sequence_sampling(const sampling_params& params);

// max_model_len bounds how long a grammar-constrained output may still grow
// (its mask keeps a match reachable within the tokens left).
gpu::step_batch build_step_batch(const scheduler_output& output, int32_t block_size,
                                 int32_t max_model_len = INT32_MAX);

}  // namespace troupe::engine
