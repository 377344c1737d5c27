#pragma once
// The offline engine: block pool + scheduling policy + executor, stepped by its
// owner (the scheduler actor, `troupe generate`, benchmarks). Not thread-safe:
// one thread drives it.
#include <memory>
#include <string>
#include <vector>

#include "actors/engine/exec/executor.hpp"
#include "actors/engine/sched/batching_policy.hpp"
#include "actors/engine/sched/request.hpp"
#include "actors/engine/structured/token_vocabulary.hpp"

namespace troupe::engine {

struct engine_options {
  batching_policy policy = batching_policy::continuous;
  int32_t max_num_seqs = 64;               // sequences in one iteration
  int32_t max_num_batched_tokens = 2048;   // token budget of one iteration
  int32_t max_model_len = 0;               // 0 => the model's max_position_embeddings
  bool enable_prefix_caching = true;
  int32_t max_waiting = 1024;              // admission queue bound; beyond it add_request fails
  // Token byte strings for structured output (guided_regex); without it
  // such requests are refused with add_error::unsupported.
  std::shared_ptr<const structured::token_vocabulary> vocabulary;
};

enum class add_error {
  none,
  prompt_empty,
  prompt_too_long,
  queue_full,
  duplicate_id,
  bad_params,
  draining,       // the worker is shutting down and admits nothing new (routed elsewhere)
  unsupported,  // logit_bias / guided_regex on an executor or engine that cannot apply them
  bad_grammar,  // guided_regex does not compile
};

struct engine_stats {
  int32_t num_running = 0;
  int32_t num_waiting = 0;
  int64_t num_total_blocks = 0;
  int64_t num_free_blocks = 0;          // blocks not referenced by a running sequence
  int64_t num_preemptions = 0;          // total so far
  int64_t prefix_cache_queries = 0;     // prompt tokens looked up
  int64_t prefix_cache_hits = 0;        // prompt tokens found cached
};

class engine {
 public:
  engine(std::unique_ptr<executor> exec, engine_options options);
  ~engine();
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  add_error add_request(engine_request request);
  // Frees the request's blocks now; its output (finish_reason::abort) is
  // reported by the next step(). Unknown ids are ignored.
  void abort_request(const std::string& request_id);
  // Runs one iteration (nothing if idle) and returns every request that got
  // tokens or finished in it.
  std::vector<request_output> step();
  bool has_unfinished_requests() const;
  engine_stats stats() const;
  const executor& exec() const;
  const engine_options& options() const;
  int32_t max_model_len() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace troupe::engine
