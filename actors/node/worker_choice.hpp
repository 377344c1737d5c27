#pragma once
// Which worker gets a request: pure logic, unit-tested without actors.
//
// Among the healthy workers of the model, a request whose prompt fills at
// least one KV block goes to the worker that rendezvous hashing assigns to its
// leading blocks (so requests sharing a prefix meet their cached blocks),
// unless that worker carries more than max_imbalance sequences above the
// least loaded one; then, and for short prompts, the least loaded wins.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace troupe::actors {

struct worker_load {
  int32_t worker_id = 0;
  std::string address;       // stable name for rendezvous hashing
  int64_t load = 0;          // sequences routed there and unfinished + its waiting queue
  int64_t free_blocks = 0;   // tie-break: more room first
};

// Hash of the prompt's leading whole blocks (at most max_blocks); nullopt when
// the prompt is shorter than one block.
std::optional<uint64_t> prefix_affinity_key(const std::vector<int32_t>& prompt_token_ids,
                                            int32_t block_size, int32_t max_blocks = 4);

// Index into candidates, or -1 when there is none.
int32_t choose_worker(const std::vector<worker_load>& candidates, std::optional<uint64_t> affinity_key,
                      int64_t max_imbalance);

}  // namespace troupe::actors
