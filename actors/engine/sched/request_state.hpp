#pragma once
// The scheduler's view of one request: its tokens, how many of them the KV
// cache already holds, and the blocks that hold them.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "actors/engine/kv/block_pool.hpp"
#include "actors/engine/structured/token_grammar.hpp"
#include "actors/engine/sched/request.hpp"

namespace troupe::engine {

// Ordered: a status compares greater than every status it can follow, so
// `status > request_status::preempted` means finished.
enum class request_status : int32_t {
  waiting = 0,
  running = 1,
  preempted = 2,  // back in the waiting queue, KV freed, to be recomputed
  finished_stopped = 3,
  finished_length = 4,
  finished_aborted = 5,
};

inline bool is_finished(request_status s) { return s > request_status::preempted; }

struct request_state {
  std::string request_id;
  sampling_params params;
  request_status status = request_status::waiting;

  // Prompt then output tokens. num_computed_tokens of them are in the KV
  // cache; the scheduler's job is to let it catch up with num_tokens().
  std::vector<int32_t> token_ids;
  int32_t num_prompt_tokens = 0;
  int32_t num_computed_tokens = 0;
  int32_t num_cached_prompt_tokens = 0;  // prefix-cache hit at first admission

  // Block table: token i lives in block_ids[i / block_size].
  std::vector<int32_t> block_ids;
  // Hashes of the full prompt blocks (computed once, on first lookup), and how
  // many leading blocks of block_ids are registered in the prefix cache.
  std::vector<block_hash> prompt_block_hashes;
  int32_t num_registered_blocks = 0;

  // Queue time: from add_request to the first step that scheduled it.
  std::chrono::steady_clock::time_point arrived_at;
  double queue_time_ms = -1;  // -1 until first scheduled

  // Structured output: the compiled params.guided_regex and the automaton
  // state after the output so far (null grammar = unconstrained).
  std::shared_ptr<const structured::token_grammar> grammar;
  int32_t grammar_state = 0;

  // Static batching: member of the batch being run.
  bool in_static_batch = false;

  int32_t num_tokens() const { return static_cast<int32_t>(token_ids.size()); }
  int32_t num_output_tokens() const { return num_tokens() - num_prompt_tokens; }
};

}  // namespace troupe::engine
