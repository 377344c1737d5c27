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
  std::string engine_id;
  std::optional<engine::incremental_detokenizer> detok;
  std::optional<engine::stop_matcher> stops;
  bool finished = false;
  int32_t num_tokens = 0;
};

struct request_state {
  request_actor_args args;
  std::vector<choice_state> choices;
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

void finish_choice(request_pointer self, int32_t index, engine::finish_reason reason,
                   generation_event& ev) {
  auto& st = self->state;
  auto& c = st.choices[index];
  c.finished = true;
  --st.num_unfinished;
  ev.finished = reason;
  ev.finish_reason_text = reason == engine::finish_reason::length ? "length" : "stop";
  auto& m = *st.args.metrics;
  if (reason == engine::finish_reason::length) ++m.requests_finished_length;
  else if (reason == engine::finish_reason::abort) ++m.requests_finished_abort;
  else ++m.requests_finished_stop;
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
  self->quit();
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
  if (index == 0 || st.num_prompt_tokens == 0) {
    st.num_prompt_tokens = out.num_prompt_tokens;
    st.num_cached_prompt_tokens = out.num_cached_prompt_tokens;
  }
  generation_event ev;
  ev.index = index;
  for (int32_t id : out.new_token_ids) {
    ++c.num_tokens;
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
      self->send(st.args.scheduler, abort_atom::value, c.engine_id);
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

request_actor::behavior_type request_impl(request_pointer self, request_actor_args args) {
  auto& st = self->state;
  st.args = std::move(args);
  st.started = clock_type::now();
  st.last_token_at = st.started;
  const auto& req = st.args.request;
  const int32_t n = std::max(1, req.n);
  st.choices.resize(n);
  st.num_unfinished = n;
  st.args.metrics->prompt_tokens_total += static_cast<int64_t>(req.prompt_token_ids.size());
  for (int32_t i = 0; i < n; ++i) {
    auto& c = st.choices[i];
    c.engine_id = n == 1 ? req.request_id : req.request_id + "-" + std::to_string(i);
    c.detok.emplace(st.args.model->tokenizer, true);
    c.stops.emplace(req.stop);
    engine::engine_request er;
    er.request_id = c.engine_id;
    er.prompt_token_ids = req.prompt_token_ids;
    er.params = req.params;
    er.params.seed = req.params.seed + static_cast<uint64_t>(i);
    self->request(st.args.scheduler, caf::infinite, submit_atom::value, std::move(er),
                  caf::actor_cast<output_sink_actor>(self))
        .then(
            [self, i](int32_t err) {
              if (err == 0) return;
              auto& s = self->state;
              if (s.choices[i].finished) return;
              generation_event ev;
              ev.index = i;
              ev.error = err == static_cast<int32_t>(engine::add_error::queue_full)
                             ? service_error::overloaded
                             : service_error::bad_request;
              ev.error_message = err == static_cast<int32_t>(engine::add_error::queue_full)
                                     ? "The engine is currently overloaded, please try again later."
                                     : "The engine refused the request.";
              s.choices[i].finished = true;
              --s.num_unfinished;
              s.args.sink(std::move(ev));
              deliver_done_if_finished(self);
            },
            [self, i](caf::error&) {
              auto& s = self->state;
              if (s.choices[i].finished) return;
              generation_event ev;
              ev.index = i;
              ev.error = service_error::internal;
              ev.error_message = "The scheduler is not reachable.";
              s.choices[i].finished = true;
              --s.num_unfinished;
              s.args.sink(std::move(ev));
              deliver_done_if_finished(self);
            });
  }
  return {
      [self](output_atom, engine::request_output& out) { on_output(self, out); },
      [self](cancel_atom) {
        auto& s = self->state;
        for (auto& c : s.choices)
          if (!c.finished) {
            self->send(s.args.scheduler, abort_atom::value, c.engine_id);
            ++s.args.metrics->requests_finished_abort;
          }
        if (s.args.on_finished) s.args.on_finished();
        self->quit();
      },
  };
}

}  // namespace

request_actor spawn_request_actor(caf::actor_system& system, request_actor_args args) {
  return system.spawn(request_impl, std::move(args));
}

}  // namespace troupe::actors
