#pragma once
// Builds step_batch values for executor tests: each entry is one sequence's
// chunk of tokens starting at a position, with its block table.
#include <algorithm>
#include <vector>

#include "actors/engine/exec/executor.hpp"
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

// Greedy continuations of several prompts decoded together, one token per
// step, each sequence in its own (reversed: any blocks will do) block range.
inline std::vector<std::vector<int32_t>> greedy_batch(engine::executor& exec,
                                                      const std::vector<std::vector<int32_t>>& prompts,
                                                      int32_t num_new_tokens, int32_t block_size = 16) {
  std::vector<std::vector<int32_t>> tables, out(prompts.size());
  std::vector<seq_chunk> chunks;
  int32_t next_block = 0;
  for (const auto& ids : prompts) {
    const int32_t total = static_cast<int32_t>(ids.size()) + num_new_tokens;
    auto table = contiguous_blocks(next_block, total, block_size);
    next_block += static_cast<int32_t>(table.size());
    std::reverse(table.begin(), table.end());
    tables.push_back(table);
    chunks.push_back({ids, 0, table});
  }
  auto result = exec.execute(make_step(chunks, block_size));
  for (std::size_t s = 0; s < prompts.size(); ++s) out[s].push_back(result.sampled_token_ids.at(s));
  for (int32_t k = 1; k < num_new_tokens; ++k) {
    chunks.clear();
    for (std::size_t s = 0; s < prompts.size(); ++s) {
      const int32_t position = static_cast<int32_t>(prompts[s].size() + out[s].size()) - 1;
      chunks.push_back({{out[s].back()}, position, tables[s]});
    }
    result = exec.execute(make_step(chunks, block_size));
    for (std::size_t s = 0; s < prompts.size(); ++s) out[s].push_back(result.sampled_token_ids.at(s));
  }
  return out;
}

}  // namespace troupe::test
