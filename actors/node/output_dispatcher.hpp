#pragma once
// The gateway's output dispatcher: the one sink every scheduler sends its
// per-step output batches to. It forwards each output to the request actor
// that watches its engine request id, so a worker sends one message per
// gateway per step however many sequences it runs for that gateway.
#include <memory>

#include "actors/messages.hpp"
#include "actors/node/cluster_state.hpp"

namespace troupe::actors {

// Also refreshes the sending worker's stats (and so the gauges) in state.
dispatcher_actor spawn_output_dispatcher(caf::actor_system& system, std::shared_ptr<cluster_state> state);

}  // namespace troupe::actors
