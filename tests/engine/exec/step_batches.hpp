#pragma once
// Builds step_batch values for executor tests: each entry is one sequence's
// chunk of tokens starting at a position, with its block table.
#include <algorithm>
#include <vector>

#include "gpu/step_batch.hpp"

namespace troupe::test {

struct seq_chunk {
  std::vector<int32_t> token_ids;
  int32_t start_position = 0;
  std::vector<int32_t> block_table;  // must cover start_position + token_ids.size()
  bool sample = true;
};

inline gpu::step_batch make_step(const std::vector<seq_chunk>& chunks, int32_t block_size,
                                 bool all_logits = false) {
  gpu::step_batch b;
  b.num_seqs = static_cast<int32_t>(chunks.size());
  b.block_size = block_size;
  b.return_all_logits = all_logits;
  b.query_start_loc.push_back(0);
  for (const auto& c : chunks)
    b.max_blocks_per_seq = std::max(b.max_blocks_per_seq, static_cast<int32_t>(c.block_table.size()));
  for (const auto& c : chunks) {
    for (std::size_t i = 0; i < c.token_ids.size(); ++i) {
      const int32_t pos = c.start_position + static_cast<int32_t>(i);
      b.token_ids.push_back(c.token_ids[i]);
      b.positions.push_back(pos);
      b.slot_mapping.push_back(int64_t{c.block_table.at(pos / block_size)} * block_size +
                               pos % block_size);
    }
    b.query_start_loc.push_back(static_cast<int32_t>(b.token_ids.size()));
    b.seq_lens.push_back(c.start_position + static_cast<int32_t>(c.token_ids.size()));
    auto table = c.block_table;
    table.resize(static_cast<std::size_t>(b.max_blocks_per_seq), 0);
    b.block_tables.insert(b.block_tables.end(), table.begin(), table.end());
    b.do_sample.push_back(c.sample ? 1 : 0);
    gpu::sequence_sampling greedy;
    greedy.temperature = 0.0f;
    b.sampling.push_back(greedy);
    b.sample_index.push_back(0);
  }
  return b;
}

// Block ids first, first + 1, ... covering num_tokens tokens.
inline std::vector<int32_t> contiguous_blocks(int32_t first, int32_t num_tokens, int32_t block_size) {
  std::vector<int32_t> table;
  for (int32_t i = 0; i * block_size < num_tokens; ++i) table.push_back(first + i);
  return table;
}

}  // namespace troupe::test
