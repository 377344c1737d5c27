#pragma once
// The gateway's membership actor: it connects to the workers it was given
// (and keeps reconnecting), admits the ones that join by themselves, checks
// each newcomer's protocol version and learns its model, sends every worker a
// heartbeat (a stats request) each heartbeat_ms, ejects a worker that is
// silent for eject_after_ms or whose connection drops, tells the requests
// running there to fail over, and re-admits a worker once it answers again.
// The engine gauges of /metrics are the sums of the heartbeat answers: gauges
// travel as messages, never as shared memory across hosts.
#include <memory>
#include <string>
#include <vector>

#include "actors/node/cluster_link.hpp"
#include "actors/node/cluster_state.hpp"

namespace troupe::actors {

using join_atom = caf::atom_constant<caf::atom("join")>;

// join(handle, address) replies true once the worker is admitted (false if
// refused), so a caller may wait for it.
caf::actor spawn_membership(caf::actor_system& system, std::shared_ptr<cluster_state> state,
                            cluster_options options, std::vector<host_port> worker_addresses);

// The published door through which workers join (`troupe worker --gateway`).
registry_actor spawn_registry(caf::actor_system& system, caf::actor membership);

}  // namespace troupe::actors
