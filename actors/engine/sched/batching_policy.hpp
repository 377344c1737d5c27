#pragma once
// How requests are admitted into the running batch.
namespace troupe::engine {

enum class batching_policy {
  // Every iteration: running requests first, then waiting ones as the token
  // budget, the sequence limit and the KV pool allow (vLLM v1).
  continuous,
  // A batch of up to max_num_seqs waiting requests is formed only when none
  // runs, and runs until all of its requests finish; nothing joins meanwhile.
  // Kept as the baseline that continuous batching is measured against.
  static_batch,
};

}  // namespace troupe::engine
