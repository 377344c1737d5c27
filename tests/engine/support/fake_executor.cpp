#include "fake_executor.hpp"

#include <algorithm>

#include "actors/engine/sampling/sample_row.hpp"
#include "actors/engine/sampling/sampler.hpp"
#include "actors/engine/sched/batch_builder.hpp"
#include "actors/engine/sched/request.hpp"

namespace troupe::engine::testing {
namespace {

uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xFF51AFD7ED558CCDull;
  x ^= x >> 33;
  x *= 0xC4CEB9FE1A85EC53ull;
  return x ^ (x >> 33);
}

}  // namespace

std::vector<float> toy_logits(std::span<const int32_t> tokens) {
  uint64_t h = 0x1234567;
  for (size_t i = 0; i < tokens.size(); ++i) h = mix(h ^ (static_cast<uint64_t>(tokens[i]) + 7 * i));
  std::vector<float> logits(toy_vocab_size);
  for (int32_t v = 0; v < toy_vocab_size; ++v) {
    logits[v] = static_cast<float>(mix(h + static_cast<uint64_t>(v)) >> 40) / 16777216.0f * 8 - 4;
  }
  return logits;
}

toy_reference toy_generate(const std::vector<int32_t>& prompt, const sampling_params& p,
                           int32_t max_model_len) {
  toy_reference ref;
  std::vector<int32_t> tokens = prompt;
  const gpu::sequence_sampling s = to_sequence_sampling(p);
  while (true) {
    std::vector<float> logits = toy_logits(tokens);
    const std::span<const int32_t> all(tokens);
    const int32_t token = sample_row(logits, s, all.first(prompt.size()),
                                     all.subspan(prompt.size()),
                                     static_cast<int32_t>(ref.output_ids.size()));
    tokens.push_back(token);
    ref.output_ids.push_back(token);
    if (!p.ignore_eos && std::find(p.stop_token_ids.begin(), p.stop_token_ids.end(), token) !=
                             p.stop_token_ids.end()) {
      ref.stopped = true;
      return ref;
    }
    if (static_cast<int32_t>(ref.output_ids.size()) >= p.max_tokens ||
        static_cast<int32_t>(tokens.size()) >= max_model_len) {
      return ref;
    }
  }
}

fake_executor::fake_executor(int64_t num_blocks, int32_t block_size)
    : num_blocks_(num_blocks), block_size_(block_size),
      kv_tokens_(static_cast<size_t>(num_blocks * block_size), -1) {
  spec_.architecture = "ToyForTests";
  spec_.vocab_size = toy_vocab_size;
}

expected<gpu::step_result> fake_executor::try_execute(const gpu::step_batch& batch) {
  batches_.push_back(batch);
  if (num_failing_steps_ > 0) {
    --num_failing_steps_;
    return engine_error{"fake executor: injected step failure"};
  }
  const int64_t num_slots = static_cast<int64_t>(kv_tokens_.size());
  // Write every input token into its slot, checking the slot agrees with the
  // block table and position (as a kernel would silently assume).
  for (int32_t s = 0; s < batch.num_seqs; ++s) {
    for (int32_t row = batch.query_start_loc[s]; row < batch.query_start_loc[s + 1]; ++row) {
      const int32_t pos = batch.positions[row];
      const int64_t slot = batch.slot_mapping[row];
      const int64_t expected_slot =
          static_cast<int64_t>(batch.block_tables[s * batch.max_blocks_per_seq + pos / block_size_]) *
              block_size_ + pos % block_size_;
      if (slot < 0 || slot >= num_slots || slot != expected_slot) {
        ++num_faults_;
        continue;
      }
      kv_tokens_[slot] = batch.token_ids[row];
    }
  }
  std::vector<float> logits(static_cast<size_t>(batch.num_seqs) * toy_vocab_size, 0.0f);
  for (int32_t s = 0; s < batch.num_seqs; ++s) {
    if (!batch.do_sample[s]) continue;
    std::vector<int32_t> context;
    for (int32_t pos = 0; pos < batch.seq_lens[s]; ++pos) {
      const int64_t block = batch.block_tables[s * batch.max_blocks_per_seq + pos / block_size_];
      const int32_t token = kv_tokens_[block * block_size_ + pos % block_size_];
      if (token < 0) ++num_faults_;
      context.push_back(token);
    }
    const std::vector<float> row = toy_logits(context);
    std::copy(row.begin(), row.end(), logits.begin() + static_cast<size_t>(s) * toy_vocab_size);
  }
  gpu::step_result result;
  sample_batch(batch, logits.data(), toy_vocab_size, result);
  return result;
}

}  // namespace troupe::engine::testing
