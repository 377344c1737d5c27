#pragma once
// Decides, every iteration, which requests compute which of their tokens, and
// owns the waiting and running queues. Holds no model state: the engine turns
// its output into a gpu::step_batch and reports the sampled tokens back.
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/engine/kv/kv_cache_manager.hpp"
#include "actors/engine/sched/batching_policy.hpp"
#include "actors/engine/sched/request_state.hpp"

namespace troupe::engine {

struct scheduler_options {
  batching_policy policy = batching_policy::continuous;
  int32_t max_num_seqs = 64;              // requests in the running set
  int32_t max_num_batched_tokens = 2048;  // token_budget of one iteration
};

// One request's share of an iteration: query tokens
// [num_computed_tokens, num_computed_tokens + num_new_tokens) of its token_ids.
struct scheduled_request {
  request_state* request = nullptr;
  int32_t num_computed_tokens = 0;
  int32_t num_new_tokens = 0;
  // The chunk reaches the end of the known tokens: the step yields logits for
  // the next token, which is sampled.
  bool do_sample = false;
};

struct scheduler_output {
  std::vector<scheduled_request> requests;  // batch order
  int32_t num_batched_tokens = 0;
  std::vector<std::string> preempted_request_ids;
  bool empty() const { return requests.empty(); }
};

struct scheduler_stats {
  int64_t num_preemptions = 0;
  int64_t prefix_cache_queries = 0;  // prompt tokens looked up, per admission
  int64_t prefix_cache_hits = 0;     // of those, found cached
};

class scheduler {
 public:
  scheduler(scheduler_options options, kv_cache_manager& kv);

  const scheduler_options& options() const { return options_; }
  bool contains(const std::string& request_id) const { return requests_.contains(request_id); }
  const request_state* find(const std::string& request_id) const;
  int32_t num_waiting() const { return static_cast<int32_t>(waiting_.size()); }
  int32_t num_running() const { return static_cast<int32_t>(running_.size()); }
  bool has_unfinished_requests() const { return !requests_.empty(); }
  const scheduler_stats& stats() const { return stats_; }

  // Queues a new request (status waiting) at the back of the waiting queue.
  void add(std::unique_ptr<request_state> request);

  // Picks this iteration's work; see the algorithm at the top of its body.
  scheduler_output schedule();

  // After the executor ran `output`: the scheduled tokens count as computed,
  // and prompt blocks that became full are registered in the prefix cache.
  void update_after_step(const scheduler_output& output);

  // Removes a request (running or waiting), frees its blocks now and hands it
  // back with the given finished status; nullptr for an unknown id.
  std::unique_ptr<request_state> finish(const std::string& request_id, request_status status);

 private:
  void preempt(request_state& request);
  bool may_admit(const request_state& request) const;
  void form_static_batch();

  scheduler_options options_;
  kv_cache_manager& kv_;
  std::unordered_map<std::string, std::unique_ptr<request_state>> requests_;
  std::deque<request_state*> waiting_;  // FCFS; preempted requests go to the front
  std::vector<request_state*> running_;  // admission order; the newest is preempted first
  int32_t num_in_static_batch_ = 0;
  scheduler_stats stats_;
};

}  // namespace troupe::engine
