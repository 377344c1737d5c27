#include "actors/messages.hpp"

namespace troupe::actors {

void announce_message_types(caf::actor_system_config& cfg) {
  // Names must be identical on every node: CAF compares them in the typed
  // handshake between gateway and worker.
  cfg.add_message_type<engine::sampling_params>("troupe.sampling_params");
  cfg.add_message_type<engine::engine_request>("troupe.engine_request");
  cfg.add_message_type<engine::token_logprob>("troupe.token_logprob");
  cfg.add_message_type<engine::request_output>("troupe.request_output");
  cfg.add_message_type<engine::engine_stats>("troupe.engine_stats");
  cfg.add_message_type<worker_info>("troupe.worker_info");
  cfg.add_message_type<output_sink_actor>("troupe.output_sink_actor");
  cfg.add_message_type<scheduler_actor>("troupe.scheduler_actor");
}

}  // namespace troupe::actors
