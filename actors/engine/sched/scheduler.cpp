#include "actors/engine/sched/scheduler.hpp"

#include <algorithm>

namespace troupe::engine {

scheduler::scheduler(scheduler_options options, kv_cache_manager& kv)
    : options_(options), kv_(kv) {}

const request_state* scheduler::find(const std::string& request_id) const {
  const auto it = requests_.find(request_id);
  return it == requests_.end() ? nullptr : it->second.get();
}

void scheduler::add(std::unique_ptr<request_state> request) {
  request->status = request_status::waiting;
  waiting_.push_back(request.get());
  requests_.emplace(request->request_id, std::move(request));
}

scheduler_output scheduler::schedule() {
  // No prefill phase and no decode phase. Each request has num_computed_tokens
  // (tokens whose KV is cached) catching up with num_tokens (prompt + output).
  // Within a token budget of max_num_batched_tokens:
  //  1. Running requests, oldest first, each get min(num_tokens -
  //     num_computed_tokens, budget) tokens: 1 for a decode, the next chunk for
  //     a partially prefilled prompt. When the pool cannot hold them, the
  //     newest running request is preempted (recompute: its blocks are freed,
  //     num_computed_tokens resets, it goes back to the front of the waiting
  //     queue), until the request fits or is itself the one preempted.
  //  2. If nothing was preempted, waiting requests in FCFS order join while
  //     budget, max_num_seqs and the pool allow, each starting after its
  //     longest cached prefix; a prompt longer than the budget is chunked. The
  //     first that does not fit stops admission (no overtaking).
  // A request whose chunk reaches num_tokens is sampled. Static batching uses
  // the same loop but admits only members of the current batch (see
  // form_static_batch).
  if (options_.policy == batching_policy::static_batch && num_in_static_batch_ == 0) {
    form_static_batch();
  }
  scheduler_output out;
  int32_t token_budget = options_.max_num_batched_tokens;

  for (size_t i = 0; i < running_.size() && token_budget > 0;) {
    request_state& request = *running_[i];
    const int32_t num_new =
        std::min(request.num_tokens() - request.num_computed_tokens, token_budget);
    bool scheduled = true;
    while (!kv_.allocate_slots(request, num_new)) {
      request_state& victim = *running_.back();
      running_.pop_back();
      preempt(victim);
      out.preempted_request_ids.push_back(victim.request_id);
      if (&victim == &request) {
        scheduled = false;
        break;
      }
    }
    if (!scheduled) break;
    out.requests.push_back({&request, request.num_computed_tokens, num_new,
                            request.num_computed_tokens + num_new == request.num_tokens()});
    token_budget -= num_new;
    ++i;
  }

  while (out.preempted_request_ids.empty() && !waiting_.empty() && token_budget > 0 &&
         num_running() < options_.max_num_seqs && may_admit(*waiting_.front())) {
    request_state& request = *waiting_.front();
    const prefix_hit hit = kv_.find_cached_prefix(request);
    request.num_computed_tokens = hit.num_cached_tokens;
    const int32_t num_new =
        std::min(request.num_tokens() - request.num_computed_tokens, token_budget);
    if (!kv_.allocate_slots(request, num_new, hit)) {
      request.num_computed_tokens = 0;
      break;
    }
    if (request.status == request_status::waiting) {
      request.num_cached_prompt_tokens = hit.num_cached_tokens;
    }
    stats_.prefix_cache_queries += request.num_prompt_tokens;
    stats_.prefix_cache_hits += std::min(hit.num_cached_tokens, request.num_prompt_tokens);
    waiting_.pop_front();
    running_.push_back(&request);
    request.status = request_status::running;
    out.requests.push_back({&request, request.num_computed_tokens, num_new,
                            request.num_computed_tokens + num_new == request.num_tokens()});
    token_budget -= num_new;
  }
  out.num_batched_tokens = options_.max_num_batched_tokens - token_budget;
  return out;
}

void scheduler::update_after_step(const scheduler_output& output) {
  for (const scheduled_request& s : output.requests) {
    s.request->num_computed_tokens = s.num_computed_tokens + s.num_new_tokens;
    kv_.cache_full_blocks(*s.request);
  }
}

std::unique_ptr<request_state> scheduler::finish(const std::string& request_id,
                                                 request_status status) {
  const auto it = requests_.find(request_id);
  if (it == requests_.end()) return nullptr;
  std::unique_ptr<request_state> request = std::move(it->second);
  requests_.erase(it);
  std::erase(running_, request.get());
  std::erase(waiting_, request.get());
  kv_.free(*request);
  if (request->in_static_batch) --num_in_static_batch_;
  request->in_static_batch = false;
  request->status = status;
  return request;
}

void scheduler::preempt(request_state& request) {
  kv_.free(request);
  request.num_computed_tokens = 0;
  request.status = request_status::preempted;
  waiting_.push_front(&request);
  ++stats_.num_preemptions;
}

bool scheduler::may_admit(const request_state& request) const {
  return options_.policy == batching_policy::continuous || request.in_static_batch;
}

// The batch is the first max_num_seqs waiting requests. Members not admitted
// yet (pool or budget) stay at the front of the waiting queue, and preempted
// members return there, so members always precede non-members.
void scheduler::form_static_batch() {
  for (request_state* request : waiting_) {
    if (num_in_static_batch_ >= options_.max_num_seqs) break;
    request->in_static_batch = true;
    ++num_in_static_batch_;
  }
}

}  // namespace troupe::engine
