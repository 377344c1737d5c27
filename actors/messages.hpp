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
#include "actors/node/worker_info.hpp"

namespace troupe::actors {

using submit_atom = caf::atom_constant<caf::atom("submit")>;
using abort_atom = caf::atom_constant<caf::atom("abort")>;
using step_atom = caf::atom_constant<caf::atom("step")>;
using stats_atom = caf::atom_constant<caf::atom("stats")>;
using output_atom = caf::atom_constant<caf::atom("output")>;
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;
using outputs_atom = caf::atom_constant<caf::atom("outputs")>;
using info_atom = caf::atom_constant<caf::atom("info")>;
using drain_atom = caf::atom_constant<caf::atom("drain")>;
using register_atom = caf::atom_constant<caf::atom("register")>;
using watch_atom = caf::atom_constant<caf::atom("watch")>;
using unwatch_atom = caf::atom_constant<caf::atom("unwatch")>;
using lost_atom = caf::atom_constant<caf::atom("lost")>;
using reroute_atom = caf::atom_constant<caf::atom("reroute")>;

// Receives, once per engine step, the new tokens of every sequence it
// submitted to that scheduler: one message per gateway per step, not one per
// token per request (the gateway's output dispatcher fans them out).
// The worker's engine stats ride along, so a gateway's gauges are as fresh as
// its last step (heartbeats cover idle workers).
using output_sink_actor = caf::typed_actor<
    caf::reacts_to<outputs_atom, std::vector<engine::request_output>, engine::engine_stats>>;

// One per GPU (or CPU engine) — the worker: owns the block pool, the queues
// and the executor. submit replies with an engine::add_error as int32
// (0 = admitted); stats is the gateway's heartbeat; info (with the caller's
// protocol version) is the handshake; drain stops admission before exit.
using scheduler_actor = caf::typed_actor<
    caf::replies_to<submit_atom, engine::engine_request, output_sink_actor>::with<int32_t>,
    caf::reacts_to<abort_atom, std::string>,
    caf::reacts_to<step_atom>,
    caf::replies_to<stats_atom>::with<engine::engine_stats>,
    caf::replies_to<info_atom, int32_t>::with<worker_info>,
    caf::reacts_to<drain_atom>>;

// The gateway side of one generation (actors/request_actor.hpp): its outputs,
// a cancel from the session, and `lost` when the membership actor ejects a
// worker (by id) that may hold some of its sequences; `reroute` (to itself)
// retries a choice that found no worker while one may come back.
using request_actor = caf::typed_actor<caf::reacts_to<output_atom, engine::request_output>,
                                       caf::reacts_to<cancel_atom>,
                                       caf::reacts_to<lost_atom, int32_t>,
                                       caf::reacts_to<reroute_atom, int32_t>>;

// The gateway's output dispatcher (actors/node/output_dispatcher.hpp): an
// output sink that request actors register their engine request ids with.
using dispatcher_actor = output_sink_actor::extend<caf::reacts_to<watch_atom, std::string, request_actor>,
                                                   caf::reacts_to<unwatch_atom, std::string>>;

// A gateway's door for workers that join it (`troupe worker --gateway`): the
// worker sends its own scheduler handle and the address it is known by.
using registry_actor = caf::typed_actor<caf::reacts_to<register_atom, scheduler_actor, std::string>>;

void announce_message_types(caf::actor_system_config& cfg);

}  // namespace troupe::actors

namespace troupe::engine {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, sampling_params& x) {
  return f(caf::meta::type_name("troupe.sampling_params"), x.temperature, x.top_k, x.top_p,
           x.min_p, x.repetition_penalty, x.presence_penalty, x.frequency_penalty, x.seed,
           x.max_tokens, x.ignore_eos, x.stop_token_ids, x.num_top_logprobs, x.return_logprobs,
           x.logit_bias_token_ids, x.logit_bias_values, x.guided_regex);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, engine_request& x) {
  return f(caf::meta::type_name("troupe.engine_request"), x.request_id, x.prompt_token_ids,
           x.params, x.num_resumed_output_tokens);
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

namespace troupe::actors {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, worker_info& x) {
  return f(caf::meta::type_name("troupe.worker_info"), x.protocol_version, x.model_id,
           x.max_model_len, x.block_size, x.max_num_seqs, x.executor, x.address, x.tokenizer_json,
           x.tokenizer_config_json, x.generation_config_json, x.chat_template_override);
}

}  // namespace troupe::actors
