#pragma once
// A request actor carries one generation request (its n choices) on the
// gateway side: it routes each choice to a worker of the model, submits its
// token ids, detokenizes the tokens that come back incrementally, applies stop
// strings, measures latencies, and delivers events to the network session
// through a sink. It never sees HTTP.
//
// It also owns failover. It keeps every token a choice has produced; when the
// choice's worker dies (its handle goes down, or the membership actor ejects
// it as silent), it resubmits prompt + produced tokens to another worker of
// the model, marking the produced tokens as output. Sampling draws are
// counter-based (seed, output index), so the new worker continues exactly
// where the dead one stopped and the client's stream has no gap and no repeat.
#include <chrono>
#include <functional>
#include <memory>

#include "actors/generation_service.hpp"
#include "actors/messages.hpp"
#include "actors/metrics/metrics_registry.hpp"
#include "actors/node/model_bundle.hpp"
#include "actors/node/output_dispatcher.hpp"
#include "actors/node/worker_table.hpp"

namespace troupe::actors {

struct request_actor_args {
  std::shared_ptr<const model_bundle> model;
  std::shared_ptr<worker_table> workers;
  dispatcher_actor dispatcher;
  std::shared_ptr<metrics_registry> metrics;
  std::shared_ptr<std::atomic<int64_t>> failovers_total;
  // A choice whose worker failed while no other worker of the model is up
  // waits this long for one to (re)appear before it ends with an error.
  std::chrono::milliseconds failover_wait{5000};
  generation_request request;  // prompt_token_ids filled, seed set
  event_sink sink;
  std::function<void()> on_finished;  // the service forgets the request
};

request_actor spawn_request_actor(caf::actor_system& system, request_actor_args args);

}  // namespace troupe::actors
