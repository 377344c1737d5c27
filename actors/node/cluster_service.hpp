#pragma once
// The node object of a process that serves HTTP: one actor system, the
// gateway's actors (membership, output dispatcher, request actors, and the
// registry workers join through), exposed to net/ as a generation_service.
// `troupe gateway` gives it remote workers; `troupe serve` gives it one
// in-process worker; requests take the same routing path either way.
#include <memory>
#include <string>
#include <vector>

#include "actors/engine/engine.hpp"
#include "actors/generation_service.hpp"
#include "actors/node/cluster_link.hpp"
#include "actors/node/worker_info.hpp"

namespace troupe::actors {

struct gateway_options {
  bool remote = false;                 // load the middleman (a gateway of remote workers)
  cluster_options cluster;
  std::vector<host_port> workers;      // workers to dial (and redial)
  std::optional<host_port> registry;   // where workers may join (`troupe worker --gateway`)
  int32_t max_in_flight = 4096;        // sequences admitted at once; beyond, 503
  int32_t num_threads = 2;             // CAF worker threads
};

class cluster_service : public generation_service {
 public:
  // nullptr and *error when the middleman or the registry cannot start.
  static std::unique_ptr<cluster_service> create(const gateway_options& options, std::string* error);

  // The all-in-one case: a scheduler for this engine runs in this process and
  // joins like any worker (tests add several). Returns once it is admitted.
  virtual bool add_local_worker(std::unique_ptr<engine::engine> engine, worker_info info,
                                std::string* error) = 0;
  // The port workers join on (0 without a registry).
  virtual uint16_t registry_port() const = 0;
  // Stops the i-th in-process worker as if its host died (tests of failover).
  virtual void kill_local_worker(size_t index) = 0;
};

}  // namespace troupe::actors
