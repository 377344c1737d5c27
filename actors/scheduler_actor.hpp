#pragma once
// The scheduler actor: owns one engine (block pool + policy + executor) and
// runs its iterations. Between two iterations it drains its mailbox, so a
// submit or an abort lands at the next iteration boundary; an aborted
// sequence's blocks are freed before the next batch is formed.
#include <memory>

#include "actors/engine/engine.hpp"
#include "actors/messages.hpp"
#include "actors/metrics/metrics_registry.hpp"

namespace troupe::actors {

// Spawns the scheduler detached (the engine's step blocks its thread).
scheduler_actor spawn_scheduler(caf::actor_system& system, std::unique_ptr<engine::engine> engine,
                                std::shared_ptr<metrics_registry> metrics);

}  // namespace troupe::actors
