#include "actors/engine/engine.hpp"

#include <algorithm>
#include <chrono>

#include "actors/engine/kv/kv_cache_manager.hpp"
#include "actors/engine/sched/batch_builder.hpp"
#include "actors/engine/sched/scheduler.hpp"
#include "actors/engine/structured/token_grammar.hpp"

namespace troupe::engine {
namespace {

constexpr int32_t max_num_top_logprobs = 20;

// The longest sequence the engine runs: the configured or model limit, and
// never more than the whole KV pool, so one request alone always fits (a
// request that could not would preempt itself forever).
int32_t effective_max_model_len(const executor& exec, const engine_options& options) {
  const int64_t pool_tokens = exec.num_kv_blocks() * exec.block_size();
  int64_t len = options.max_model_len > 0 ? options.max_model_len
                                          : exec.spec().max_position_embeddings;
  if (len <= 0 || len > pool_tokens) len = pool_tokens;
  return static_cast<int32_t>(len);
}

bool valid_params(const sampling_params& p) {
  return p.temperature >= 0.0f && p.top_p > 0.0f && p.top_p <= 1.0f && p.min_p >= 0.0f &&
         p.min_p <= 1.0f && p.repetition_penalty > 0.0f && p.max_tokens >= 1 &&
         p.num_top_logprobs >= 0 && p.num_top_logprobs <= max_num_top_logprobs;
}

finish_reason stop_reason(const request_state& r, int32_t token, int32_t max_model_len) {
  const auto& stops = r.params.stop_token_ids;
  if (!r.params.ignore_eos && std::find(stops.begin(), stops.end(), token) != stops.end()) {
    return finish_reason::stop;
  }
  if (r.num_output_tokens() >= r.params.max_tokens || r.num_tokens() >= max_model_len) {
    return finish_reason::length;
  }
  return finish_reason::none;
}

request_status finished_status(finish_reason reason) {
  switch (reason) {
    case finish_reason::stop: return request_status::finished_stopped;
    case finish_reason::length: return request_status::finished_length;
    default: return request_status::finished_aborted;
  }
}

request_output output_of(const request_state& r) {
  request_output out;
  out.request_id = r.request_id;
  out.num_prompt_tokens = r.num_prompt_tokens;
  out.num_cached_prompt_tokens = r.num_cached_prompt_tokens;
  out.num_output_tokens = r.num_output_tokens();
  out.queue_time_ms = r.queue_time_ms;
  return out;
}

token_logprob logprob_of(const gpu::step_result& result, int32_t seq, int32_t token,
                         int32_t num_top) {
  token_logprob lp;
  lp.token_id = token;
  lp.logprob = result.sampled_logprobs[seq];
  const size_t row = static_cast<size_t>(seq) * result.max_top_logprobs;
  for (int32_t i = 0; i < std::min(num_top, result.max_top_logprobs); ++i) {
    lp.top_token_ids.push_back(result.top_token_ids[row + i]);
    lp.top_logprobs.push_back(result.top_logprobs[row + i]);
  }
  return lp;
}

// Limits below 1 would leave every iteration empty and the engine stuck.
engine_options sanitized(engine_options o) {
  o.max_num_seqs = std::max(o.max_num_seqs, 1);
  o.max_num_batched_tokens = std::max(o.max_num_batched_tokens, 1);
  o.max_waiting = std::max(o.max_waiting, 0);
  return o;
}

}  // namespace

struct engine::impl {
  impl(std::unique_ptr<executor> e, engine_options o)
      : exec(std::move(e)),
        options(sanitized(o)),
        max_model_len(effective_max_model_len(*exec, options)),
        kv(exec->num_kv_blocks(), exec->block_size(), options.enable_prefix_caching),
        sched({options.policy, options.max_num_seqs, options.max_num_batched_tokens}, kv),
        grammars(options.vocabulary) {}

  // Appends the sampled token of scheduled sequence `seq`, finishing the
  // request when a stop condition holds.
  request_output accept_token(const scheduled_request& s, int32_t seq,
                              const gpu::step_result& result);

  std::unique_ptr<executor> exec;
  engine_options options;
  int32_t max_model_len;
  kv_cache_manager kv;
  scheduler sched;
  std::vector<request_output> aborted_outputs;  // reported by the next step()
  structured::grammar_cache grammars;
};

request_output engine::impl::accept_token(const scheduled_request& s, int32_t seq,
                                          const gpu::step_result& result) {
  request_state& r = *s.request;
  const int32_t token = result.sampled_token_ids[seq];
  const int32_t vocab_size = exec->spec().vocab_size;
  if (token < 0 || (vocab_size > 0 && token >= vocab_size)) {
    request_output out = output_of(r);  // an executor fault: end the request, not the engine
    out.finished = finish_reason::abort;
    sched.finish(r.request_id, request_status::finished_aborted);
    return out;
  }
  r.token_ids.push_back(token);
  request_output out = output_of(r);
  out.new_token_ids.push_back(token);
  if (r.params.return_logprobs || r.params.num_top_logprobs > 0) {
    out.logprobs.push_back(logprob_of(result, seq, token, r.params.num_top_logprobs));
  }
  out.finished = stop_reason(r, token, max_model_len);
  if (r.grammar && out.finished == finish_reason::none) {
    // The mask only let through tokens that keep a match possible; a whole
    // match that nothing can extend ends the output (no end token needed).
    r.grammar_state = r.grammar->advance(r.grammar_state, token);
    if (r.grammar_state < 0 || r.grammar->complete(r.grammar_state)) out.finished = finish_reason::stop;
  }
  if (out.finished != finish_reason::none) {
    sched.finish(r.request_id, finished_status(out.finished));
  }
  return out;
}

engine::engine(std::unique_ptr<executor> exec, engine_options options)
    : impl_(std::make_unique<impl>(std::move(exec), options)) {}

engine::~engine() = default;

add_error engine::add_request(engine_request request) {
  if (request.request_id.empty() || !valid_params(request.params)) return add_error::bad_params;
  if (impl_->sched.contains(request.request_id)) return add_error::duplicate_id;
  if (request.prompt_token_ids.empty()) return add_error::prompt_empty;
  const auto num_tokens = static_cast<int32_t>(request.prompt_token_ids.size());
  if (request.num_resumed_output_tokens < 0 || request.num_resumed_output_tokens >= num_tokens)
    return add_error::bad_params;
  if (static_cast<int64_t>(request.prompt_token_ids.size()) >= impl_->max_model_len) {
    return add_error::prompt_too_long;
  }
  const int32_t vocab_size = impl_->exec->spec().vocab_size;
  for (int32_t t : request.prompt_token_ids) {
    if (t < 0 || (vocab_size > 0 && t >= vocab_size)) return add_error::bad_params;
  }
  const sampling_params& p = request.params;
  if (p.logit_bias_token_ids.size() != p.logit_bias_values.size()) return add_error::bad_params;
  for (int32_t t : p.logit_bias_token_ids)
    if (t < 0 || (vocab_size > 0 && t >= vocab_size)) return add_error::bad_params;
  if ((!p.logit_bias_token_ids.empty() || !p.guided_regex.empty()) &&
      !impl_->exec->supports_token_masks())
    return add_error::unsupported;
  if (impl_->sched.num_waiting() >= impl_->options.max_waiting) return add_error::queue_full;
  std::shared_ptr<const structured::token_grammar> grammar;
  if (!p.guided_regex.empty()) {
    if (!impl_->grammars.has_vocabulary()) return add_error::unsupported;
    std::string error;
    grammar = impl_->grammars.get(p.guided_regex, &error);
    if (!grammar) return add_error::bad_grammar;
  }

  auto state = std::make_unique<request_state>();
  state->grammar = std::move(grammar);
  state->request_id = std::move(request.request_id);
  state->params = std::move(request.params);
  state->num_prompt_tokens = num_tokens - request.num_resumed_output_tokens;
  state->token_ids = std::move(request.prompt_token_ids);
  state->arrived_at = std::chrono::steady_clock::now();
  impl_->sched.add(std::move(state));
  return add_error::none;
}

void engine::abort_request(const std::string& request_id) {
  auto request = impl_->sched.finish(request_id, request_status::finished_aborted);
  if (!request) return;
  request_output out = output_of(*request);
  out.finished = finish_reason::abort;
  impl_->aborted_outputs.push_back(std::move(out));
}

std::vector<request_output> engine::step() {
  std::vector<request_output> outputs = std::move(impl_->aborted_outputs);
  impl_->aborted_outputs.clear();
  const scheduler_output plan = impl_->sched.schedule();
  if (plan.empty()) {
    if (!has_unfinished_requests()) impl_->exec->release_idle_memory();
    return outputs;
  }
  const auto now = std::chrono::steady_clock::now();
  for (const scheduled_request& s : plan.requests) {
    if (s.request->queue_time_ms < 0)
      s.request->queue_time_ms =
          std::chrono::duration<double, std::milli>(now - s.request->arrived_at).count();
  }
  const gpu::step_batch batch = build_step_batch(plan, impl_->kv.block_size(), impl_->max_model_len);
  const expected<gpu::step_result> stepped = impl_->exec->try_execute(batch);
  if (!stepped) {
    // The step failed (a CUDA fault): every request in it ends with the
    // error and frees its blocks; the engine stays up for the others.
    for (const scheduled_request& s : plan.requests) {
      request_output out = output_of(*s.request);
      out.finished = finish_reason::abort;
      out.error = stepped.error().message;
      impl_->sched.finish(out.request_id, request_status::finished_aborted);
      outputs.push_back(std::move(out));
    }
    if (!has_unfinished_requests()) impl_->exec->release_idle_memory();
    return outputs;
  }
  const gpu::step_result& result = stepped.value();
  impl_->sched.update_after_step(plan);
  for (int32_t seq = 0; seq < batch.num_seqs; ++seq) {
    if (plan.requests[seq].do_sample) {
      outputs.push_back(impl_->accept_token(plan.requests[seq], seq, result));
    }
  }
  // Idle now: the step scratch of a burst need not stay resident.
  if (!has_unfinished_requests()) impl_->exec->release_idle_memory();
  return outputs;
}

bool engine::has_unfinished_requests() const {
  return impl_->sched.has_unfinished_requests() || !impl_->aborted_outputs.empty();
}

engine_stats engine::stats() const {
  engine_stats s;
  s.num_running = impl_->sched.num_running();
  s.num_waiting = impl_->sched.num_waiting();
  s.num_total_blocks = impl_->kv.num_blocks();
  s.num_free_blocks = impl_->kv.num_free_blocks();
  s.num_preemptions = impl_->sched.stats().num_preemptions;
  s.prefix_cache_queries = impl_->sched.stats().prefix_cache_queries;
  s.prefix_cache_hits = impl_->sched.stats().prefix_cache_hits;
  return s;
}

const executor& engine::exec() const { return *impl_->exec; }
const engine_options& engine::options() const { return impl_->options; }
int32_t engine::max_model_len() const { return impl_->max_model_len; }

}  // namespace troupe::engine
