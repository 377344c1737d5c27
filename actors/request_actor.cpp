#include "actors/request_actor.hpp"

#include <algorithm>
#include <chrono>
#include <optional>

#include "actors/engine/text/stop_matcher.hpp"

namespace troupe::actors {

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_between(clock_type::time_point a, clock_type::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

struct choice_state {
  std::string engine_id;               // id of the current submission
  int32_t worker_id = 0;               // where it runs now (0: nowhere)
  scheduler_actor worker;
  std::vector<int32_t> failed_workers; // workers it left after they failed
  int32_t num_attempts = 0;
  std::vector<int32_t> produced;       // every token the engine produced for it
  std::optional<clock_type::time_point> orphaned_since;  // failed over, no worker found yet
  int32_t prompt_index = 0;            // which prompt of the request it continues
  std::optional<engine::incremental_detokenizer> detok;
  std::optional<engine::stop_matcher> stops;
  bool finished = false;
};

struct request_state {
  request_actor_args args;
  std::vector<choice_state> choices;
  std::vector<caf::actor_addr> monitored;  // worker handles watched for down
  int32_t num_unfinished = 0;
  int32_t num_prompt_tokens = 0;
  int32_t num_cached_prompt_tokens = 0;
  int32_t num_completion_tokens = 0;
  clock_type::time_point started;
  std::optional<clock_type::time_point> first_token_at;
  double queue_time_ms = -1;  // engine's, of the first choice scheduled
  clock_type::time_point last_token_at;
  static inline const char* name = "troupe.request";
};

using request_pointer = request_actor::stateful_pointer<request_state>;

void submit_choice(request_pointer self, int32_t index);

std::string token_text(const model_bundle& model, int32_t id) {
  return model.tokenizer.decode({id}, false);
}

std::vector<token_logprob_text> to_text_logprobs(const model_bundle& model,
                                                 const std::vector<engine::token_logprob>& in) {
  std::vector<token_logprob_text> out;
  out.reserve(in.size());
  for (const auto& lp : in) {
    token_logprob_text t;
    t.token = token_text(model, lp.token_id);
    t.logprob = lp.logprob;
    for (std::size_t i = 0; i < lp.top_token_ids.size(); ++i)
      t.top.emplace_back(token_text(model, lp.top_token_ids[i]), lp.top_logprobs[i]);
    out.push_back(std::move(t));
  }
  return out;
}

// The choice no longer runs anywhere: its worker slot is given back and the
// dispatcher stops forwarding its id.
void detach_choice(request_pointer self, choice_state& c) {
  if (c.worker_id == 0) return;
  self->state.args.workers->release(c.worker_id);
  self->send(self->state.args.dispatcher, unwatch_atom::value, c.engine_id);
  c.worker_id = 0;
}

std::string engine_refusal_message(int32_t err) {
  switch (static_cast<engine::add_error>(err)) {
    case engine::add_error::queue_full:
      return "The engine is currently overloaded, please try again later.";
    case engine::add_error::unsupported:
      return "This engine cannot apply logit_bias or structured output (guided decoding) on its "
             "executor.";
    case engine::add_error::bad_grammar:
      return "The structured-output grammar does not compile.";
    default:
      return "The engine refused the request.";
  }
}

void finish_choice(request_pointer self, int32_t index, engine::finish_reason reason,
                   generation_event& ev) {
  auto& st = self->state;
  auto& c = st.choices[index];
  c.finished = true;
  --st.num_unfinished;
  detach_choice(self, c);
  ev.finished = reason;
  ev.finish_reason_text = reason == engine::finish_reason::length ? "length" : "stop";
  auto& m = *st.args.metrics;
  if (reason == engine::finish_reason::length) ++m.requests_finished_length;
  else if (reason == engine::finish_reason::abort) ++m.requests_finished_abort;
  else ++m.requests_finished_stop;
}

// Monitors stay attached to the monitored worker until it exits: a request
// that ends must take its own off, or every request leaves one behind.
void stop(request_pointer self) {
  for (const caf::actor_addr& worker : self->state.monitored) self->demonitor(worker);
  self->state.monitored.clear();
  self->quit();
}

void deliver_done_if_finished(request_pointer self) {
  auto& st = self->state;
  if (st.num_unfinished > 0) return;
  const auto now = clock_type::now();
  generation_event done;
  done.done = true;
  done.index = -1;
  done.prompt_tokens = st.num_prompt_tokens;
  done.completion_tokens = st.num_completion_tokens;
  done.cached_prompt_tokens = st.num_cached_prompt_tokens;
  done.queue_time_ms = std::max(st.queue_time_ms, 0.0);
  if (st.first_token_at) done.ttft_ms = 1e3 * seconds_between(st.started, *st.first_token_at);
  st.args.metrics->e2e_request_latency_seconds.observe(seconds_between(st.started, now));
  st.args.sink(std::move(done));
  if (st.args.on_finished) st.args.on_finished();
  stop(self);
}

// Ends a choice with an error event (no worker could take it, or the engine
// refused it).
void fail_choice(request_pointer self, int32_t index, service_error error, std::string message) {
  auto& st = self->state;
  auto& c = st.choices[index];
  if (c.finished) return;
  detach_choice(self, c);
  c.finished = true;
  --st.num_unfinished;
  generation_event ev;
  ev.index = index;
  ev.error = error;
  ev.error_message = std::move(message);
  st.args.sink(std::move(ev));
  deliver_done_if_finished(self);
}

// The choice's worker failed (died, cut off, ejected): continue on another.
void fail_over(request_pointer self, int32_t index, int32_t failed_worker_id) {
  auto& st = self->state;
  auto& c = st.choices[index];
  if (c.finished || c.worker_id != failed_worker_id) return;  // already moved
  // Best effort: if the worker is alive after all, its sequence stops and frees its blocks.
  self->send(c.worker, abort_atom::value, c.engine_id);
  detach_choice(self, c);
  c.failed_workers.push_back(failed_worker_id);
  st.args.workers->count_failover(failed_worker_id);
  ++*st.args.failovers_total;
  submit_choice(self, index);
}

void on_submit_refused(request_pointer self, int32_t index, int32_t worker_id, int32_t err) {
  auto& st = self->state;
  auto& c = st.choices[index];
  if (c.finished || c.worker_id != worker_id) return;
  const auto code = static_cast<engine::add_error>(err);
  if (code == engine::add_error::draining || code == engine::add_error::queue_full) {
    // That worker takes nothing now: another one of the model may.
    if (code == engine::add_error::draining) st.args.workers->set_draining(worker_id);
    detach_choice(self, c);
    c.failed_workers.push_back(worker_id);
    submit_choice(self, index);
    return;
  }
  fail_choice(self, index, service_error::bad_request, engine_refusal_message(err));
}

void submit_choice(request_pointer self, int32_t index) {
  auto& st = self->state;
  auto& c = st.choices[index];
  const auto& req = st.args.request;
  std::vector<int32_t> tokens =
      c.prompt_index == 0 ? req.prompt_token_ids : req.extra_prompt_token_ids[c.prompt_index - 1];
  tokens.insert(tokens.end(), c.produced.begin(), c.produced.end());
  auto routed = st.args.workers->route(req.model, tokens, c.failed_workers);
  if (!routed && !c.failed_workers.empty()) {
    // A worker may come back (restart, healed link, re-admission): the failed
    // ones count again, and the choice waits a bounded time before giving up.
    routed = st.args.workers->route(req.model, tokens);
  }
  const auto now = clock_type::now();
  if (!routed && !c.failed_workers.empty()) {
    if (!c.orphaned_since) c.orphaned_since = now;
    if (now - *c.orphaned_since < st.args.failover_wait) {
      self->delayed_send(self, std::chrono::milliseconds(100), reroute_atom::value, index);
      return;
    }
  }
  c.orphaned_since.reset();
  if (!routed) {
    const bool moved = !c.failed_workers.empty();
    fail_choice(self, index, moved ? service_error::worker_lost : service_error::overloaded,
                moved ? "The worker serving this request failed and no other worker of model '" +
                            req.model + "' could take it over."
                      : "No worker of model '" + req.model + "' can take the request now.");
    return;
  }
  const std::string base = st.choices.size() == 1 ? req.request_id
                                                  : req.request_id + "-" + std::to_string(index);
  c.engine_id = c.num_attempts == 0 ? base : base + "~" + std::to_string(c.num_attempts);
  ++c.num_attempts;
  c.worker_id = routed->id;
  c.worker = routed->handle;
  const caf::actor_addr addr = c.worker.address();
  if (std::find(st.monitored.begin(), st.monitored.end(), addr) == st.monitored.end()) {
    self->monitor(c.worker);
    st.monitored.push_back(addr);
  }
  self->send(st.args.dispatcher, watch_atom::value, c.engine_id,
             caf::actor_cast<request_actor>(self));
  engine::engine_request er;
  er.request_id = c.engine_id;
  er.prompt_token_ids = std::move(tokens);
  er.num_resumed_output_tokens = static_cast<int32_t>(c.produced.size());
  er.params = req.params;
  er.params.seed = req.params.seed + static_cast<uint64_t>(index);
  const int32_t worker_id = routed->id;
  self->request(c.worker, caf::infinite, submit_atom::value, std::move(er),
                caf::actor_cast<output_sink_actor>(st.args.dispatcher))
      .then(
          [self, index, worker_id](int32_t err) {
            if (err != 0) on_submit_refused(self, index, worker_id, err);
          },
          [self, index, worker_id](caf::error&) { fail_over(self, index, worker_id); });
}

void on_output(request_pointer self, engine::request_output& out) {
  auto& st = self->state;
  int32_t index = -1;
  for (std::size_t i = 0; i < st.choices.size(); ++i)
    if (st.choices[i].engine_id == out.request_id) index = static_cast<int32_t>(i);
  if (index < 0 || st.choices[index].finished) return;
  auto& c = st.choices[index];
  if (!out.error.empty()) {
    // The engine's step failed (an executor error): this choice ends with an
    // error event; the engine itself stays up.
    generation_event ev;
    ev.index = index;
    ev.error = service_error::internal;
    ev.error_message = "The engine failed while generating: " + out.error;
    c.finished = true;
    --st.num_unfinished;
    st.args.sink(std::move(ev));
    deliver_done_if_finished(self);
    return;
  }
  const auto now = clock_type::now();
  if (st.queue_time_ms < 0 && out.queue_time_ms >= 0) {
    st.queue_time_ms = out.queue_time_ms;
    st.args.metrics->request_queue_time_seconds.observe(out.queue_time_ms / 1e3);
  }
  if (!out.new_token_ids.empty()) {
    if (!st.first_token_at) {
      st.first_token_at = now;
      st.args.metrics->time_to_first_token_seconds.observe(seconds_between(st.started, now));
    } else {
      st.args.metrics->inter_token_latency_seconds.observe(seconds_between(st.last_token_at, now));
    }
    st.last_token_at = now;
  }
  // A resumed submission reports the same prompt length (its resumed tokens
  // count as output); its cache hits are the worker's business, not usage.
  // Several prompts: usage was summed once at the start.
  if (st.args.request.extra_prompt_token_ids.empty() && (index == 0 || st.num_prompt_tokens == 0) &&
      c.num_attempts == 1) {
    st.num_prompt_tokens = out.num_prompt_tokens;
    st.num_cached_prompt_tokens = out.num_cached_prompt_tokens;
  }
  c.produced.insert(c.produced.end(), out.new_token_ids.begin(), out.new_token_ids.end());
  generation_event ev;
  ev.index = index;
  for (int32_t id : out.new_token_ids) {
    ++st.num_completion_tokens;
    ev.token_ids.push_back(id);
    ev.text_delta += c.stops->push(c.detok->push(id));
    if (c.stops->stopped()) break;
  }
  st.args.metrics->generation_tokens_total += static_cast<int64_t>(ev.token_ids.size());
  if (st.args.request.params.return_logprobs)
    ev.logprobs = to_text_logprobs(*st.args.model, out.logprobs);
  if (c.stops->stopped()) {
    // A stop string matched: the engine sequence is still running; abort it.
    if (out.finished == engine::finish_reason::none)
      self->send(c.worker, abort_atom::value, c.engine_id);
    finish_choice(self, index, engine::finish_reason::stop, ev);
  } else if (out.finished != engine::finish_reason::none) {
    ev.text_delta += c.stops->push(c.detok->flush());
    ev.text_delta += c.stops->flush();
    finish_choice(self, index, out.finished, ev);
  }
  if (!ev.text_delta.empty() || !ev.token_ids.empty() || ev.finished != engine::finish_reason::none)
    st.args.sink(std::move(ev));
  deliver_done_if_finished(self);
}

// Every unfinished choice on the worker (by handle or by id) moves elsewhere.
void on_worker_failed(request_pointer self, std::optional<caf::actor_addr> handle,
                      std::optional<int32_t> worker_id) {
  auto& st = self->state;
  for (int32_t i = 0; i < static_cast<int32_t>(st.choices.size()); ++i) {
    auto& c = st.choices[i];
    if (c.finished || c.worker_id == 0) continue;
    const bool hit = (handle && c.worker.address() == *handle) || (worker_id && c.worker_id == *worker_id);
    if (hit) fail_over(self, i, c.worker_id);
  }
}

request_actor::behavior_type request_impl(request_pointer self, request_actor_args args) {
  auto& st = self->state;
  st.args = std::move(args);
  st.started = clock_type::now();
  st.last_token_at = st.started;
  const auto& req = st.args.request;
  const int32_t per_prompt = std::max(1, req.n);
  const int32_t num_prompts = 1 + static_cast<int32_t>(req.extra_prompt_token_ids.size());
  const int32_t n = per_prompt * num_prompts;
  const auto prompt_of = [&req, per_prompt](int32_t i) -> const std::vector<int32_t>& {
    return i < per_prompt ? req.prompt_token_ids : req.extra_prompt_token_ids[i / per_prompt - 1];
  };
  st.choices.resize(n);
  st.num_unfinished = n;
  st.args.metrics->prompt_tokens_total += static_cast<int64_t>(req.prompt_token_ids.size());
  self->set_down_handler([self](const caf::down_msg& dm) { on_worker_failed(self, dm.source, std::nullopt); });
  if (num_prompts > 1) {  // usage: every prompt once (engine reports are per sequence)
    st.num_prompt_tokens = static_cast<int32_t>(req.prompt_token_ids.size());
    for (const auto& p : req.extra_prompt_token_ids) st.num_prompt_tokens += static_cast<int32_t>(p.size());
  }
  for (int32_t i = 0; i < n; ++i) {
    auto& c = st.choices[i];
    c.detok.emplace(st.args.model->tokenizer, true);
    c.stops.emplace(req.stop, req.include_stop_str_in_output);
    c.prompt_index = i / per_prompt;
  }
  for (int32_t i = 0; i < n; ++i) submit_choice(self, i);
  return {
      [self](output_atom, engine::request_output& out) { on_output(self, out); },
      [self](cancel_atom) {
        auto& s = self->state;
        for (auto& c : s.choices)
          if (!c.finished) {
            if (c.worker_id != 0) self->send(c.worker, abort_atom::value, c.engine_id);
            detach_choice(self, c);
            ++s.args.metrics->requests_finished_abort;
          }
        if (s.args.on_finished) s.args.on_finished();
        stop(self);
      },
      [self](lost_atom, int32_t worker_id) { on_worker_failed(self, std::nullopt, worker_id); },
      [self](reroute_atom, int32_t index) {
        if (!self->state.choices[index].finished) submit_choice(self, index);
      },
  };
}

}  // namespace

request_actor spawn_request_actor(caf::actor_system& system, request_actor_args args) {
  return system.spawn(request_impl, std::move(args));
}

}  // namespace troupe::actors
