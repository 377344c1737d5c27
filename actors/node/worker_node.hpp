#pragma once
// The worker role (`troupe worker`): one engine in a scheduler actor,
// published on the cluster transport for gateways to dial, and/or registered
// with a gateway it joins. SIGTERM drains it: admission stops (gateways route
// elsewhere), running streams get drain_grace_ms to finish, then the process
// exits and whatever still ran fails over on the gateways.
#include <atomic>
#include <optional>
#include <string>

#include "actors/node/cluster_link.hpp"
#include "actors/node/local_service.hpp"

namespace troupe::actors {

struct worker_options {
  node_options node;
  cluster_options cluster;
  std::optional<host_port> listen;   // publish the engine here
  std::optional<host_port> gateway;  // and/or join this gateway
  std::string advertise;             // the name gateways know it by
  int64_t drain_grace_ms = 30000;
};

// Runs until *stop becomes true (a signal handler sets it), then drains.
// Returns the process exit code; prints what went wrong to stderr.
int run_worker_node(const worker_options& options, const std::atomic<bool>& stop);

}  // namespace troupe::actors
