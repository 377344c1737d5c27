#pragma once
// The scheduler actor — the worker: owns one engine (block pool + policy +
// executor) and runs its iterations. Between two iterations it drains its
// mailbox, so a submit or an abort lands at the next iteration boundary; an
// aborted sequence's blocks are freed before the next batch is formed. The
// same actor serves an in-process gateway (`troupe serve`) or remote ones
// over the CAF middleman (`troupe worker`).
#include <memory>

#include "actors/engine/engine.hpp"
#include "actors/messages.hpp"
#include "actors/metrics/metrics_registry.hpp"

namespace troupe::actors {

// Spawns the scheduler detached (the engine's step blocks its thread). info is
// what it answers to a gateway's handshake.
scheduler_actor spawn_scheduler(caf::actor_system& system, std::unique_ptr<engine::engine> engine,
                                std::shared_ptr<metrics_registry> metrics, worker_info info);

}  // namespace troupe::actors
