#pragma once
// A deterministic toy "model" behind the executor interface, for engine tests.
// The next-token logits of a sequence are a hash of ALL its tokens, and the
// executor learns those tokens only through its own fake KV cache: each input
// token id is stored at its slot_mapping entry, and the context is read back
// through the block table. A wrong block table, slot, position or a block
// reused while still needed therefore changes the generated tokens.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "actors/engine/exec/executor.hpp"
#include "actors/engine/sched/request.hpp"

namespace troupe::engine::testing {

inline constexpr int32_t toy_vocab_size = 64;

// Logits of the toy model after the context `tokens` (values in [-4, 4)).
std::vector<float> toy_logits(std::span<const int32_t> tokens);

// What a reference run of one request yields: the toy model applied to the
// growing sequence directly (no KV, no batching) and the sampler on each row.
struct toy_reference {
  std::vector<int32_t> output_ids;
  bool stopped = false;  // ended on a stop token
};
toy_reference toy_generate(const std::vector<int32_t>& prompt, const sampling_params& p,
                           int32_t max_model_len);

class fake_executor final : public executor {
 public:
  fake_executor(int64_t num_blocks, int32_t block_size);

  std::string name() const override { return "fake"; }
  const gpu::model_spec& spec() const override { return spec_; }
  int64_t num_kv_blocks() const override { return num_blocks_; }
  int32_t block_size() const override { return block_size_; }
  expected<gpu::step_result> try_execute(const gpu::step_batch& batch) override;

  // The next `n` steps fail with an engine_error (as a CUDA fault would).
  void fail_next_steps(int32_t n) { num_failing_steps_ = n; }

  // Every batch executed so far.
  const std::vector<gpu::step_batch>& batches() const { return batches_; }
  // Malformed batches or reads of never-written slots seen so far.
  int64_t num_faults() const { return num_faults_; }

 private:
  gpu::model_spec spec_;
  int64_t num_blocks_;
  int32_t block_size_;
  std::vector<int32_t> kv_tokens_;  // [num_blocks * block_size], -1 = never written
  std::vector<gpu::step_batch> batches_;
  int64_t num_faults_ = 0;
  int32_t num_failing_steps_ = 0;
};

}  // namespace troupe::engine::testing
