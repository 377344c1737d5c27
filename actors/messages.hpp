#pragma once
// Every message between request actors and the scheduler actor: atoms, the
// plain structs they carry (with CAF 0.17 inspect overloads), and the typed
// actor interfaces. Messages carry values, never pointers, so the same code
// runs in one process or across hosts; announce_message_types() registers the
// same type names on every node.
#include <caf/all.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "actors/engine/engine.hpp"
#include "actors/engine/sched/request.hpp"

namespace troupe::actors {

using submit_atom = caf::atom_constant<caf::atom("submit")>;
using abort_atom = caf::atom_constant<caf::atom("abort")>;
using step_atom = caf::atom_constant<caf::atom("step")>;
using stats_atom = caf::atom_constant<caf::atom("stats")>;
using output_atom = caf::atom_constant<caf::atom("output")>;
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;

// Receives the new tokens of its sequences from the scheduler.
using output_sink_actor = caf::typed_actor<caf::reacts_to<output_atom, engine::request_output>>;

// One per GPU (or CPU engine): owns the block pool, the queues and the executor.
// submit replies with an engine::add_error as int32 (0 = admitted).
using scheduler_actor = caf::typed_actor<
    caf::replies_to<submit_atom, engine::engine_request, output_sink_actor>::with<int32_t>,
    caf::reacts_to<abort_atom, std::string>,
    caf::reacts_to<step_atom>,
    caf::replies_to<stats_atom>::with<engine::engine_stats>>;

void announce_message_types(caf::actor_system_config& cfg);

}  // namespace troupe::actors

namespace troupe::engine {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, sampling_params& x) {
  return f(caf::meta::type_name("troupe.sampling_params"), x.temperature, x.top_k, x.top_p,
           x.min_p, x.repetition_penalty, x.presence_penalty, x.frequency_penalty, x.seed,
           x.max_tokens, x.ignore_eos, x.stop_token_ids, x.num_top_logprobs, x.return_logprobs);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, engine_request& x) {
  return f(caf::meta::type_name("troupe.engine_request"), x.request_id, x.prompt_token_ids,
           x.params);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, token_logprob& x) {
  return f(caf::meta::type_name("troupe.token_logprob"), x.token_id, x.logprob, x.top_token_ids,
           x.top_logprobs);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, request_output& x) {
  return f(caf::meta::type_name("troupe.request_output"), x.request_id, x.new_token_ids,
           x.logprobs, x.finished /* enums travel as their underlying int */, x.num_prompt_tokens, x.num_cached_prompt_tokens,
           x.num_output_tokens, x.queue_time_ms, x.error);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, engine_stats& x) {
  return f(caf::meta::type_name("troupe.engine_stats"), x.num_running, x.num_waiting,
           x.num_total_blocks, x.num_free_blocks, x.num_preemptions, x.prefix_cache_queries,
           x.prefix_cache_hits);
}

}  // namespace troupe::engine
