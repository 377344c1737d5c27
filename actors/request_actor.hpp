#pragma once
// A request actor carries one generation request (its n choices) on the
// gateway side: it submits token ids to the scheduler, detokenizes the tokens
// that come back incrementally, applies stop strings, measures latencies, and
// delivers events to the network session through a sink. It never sees HTTP.
#include <functional>
#include <memory>

#include "actors/generation_service.hpp"
#include "actors/messages.hpp"
#include "actors/metrics/metrics_registry.hpp"
#include "actors/node/model_bundle.hpp"

namespace troupe::actors {

using request_actor = caf::typed_actor<caf::reacts_to<output_atom, engine::request_output>,
                                       caf::reacts_to<cancel_atom>>;

struct request_actor_args {
  std::shared_ptr<const model_bundle> model;
  scheduler_actor scheduler;
  std::shared_ptr<metrics_registry> metrics;
  generation_request request;  // prompt_token_ids filled, seed set
  event_sink sink;
  std::function<void()> on_finished;  // the service forgets the request
};

request_actor spawn_request_actor(caf::actor_system& system, request_actor_args args);

}  // namespace troupe::actors
