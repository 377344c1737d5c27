#pragma once
// The gateway's view of its workers: who serves which model, who is healthy,
// how loaded each is. Written by the membership actor (joins, heartbeats,
// ejections) and read by start() on I/O threads and by request actors when
// they route or fail over; one mutex guards it.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "actors/messages.hpp"

namespace troupe::actors {

struct worker_entry {
  int32_t id = 0;
  std::string address;        // host:port, or "in-process"
  std::string model_id;
  int32_t block_size = 16;
  scheduler_actor handle;
  bool healthy = true;
  bool draining = false;
  bool connected = true;      // false once its connection dropped (the handle is dead)
  int64_t in_flight = 0;      // sequences this gateway routed there, unfinished
  engine::engine_stats stats; // from the last heartbeat
  // What the worker's counters had reached before it restarted (its counters
  // start again from zero): added back, so the gateway's totals never fall.
  int64_t retired_preemptions = 0;
  int64_t retired_prefix_cache_queries = 0;
  int64_t retired_prefix_cache_hits = 0;
  std::chrono::steady_clock::time_point last_seen;
  int64_t routed_total = 0;   // sequences routed there
  int64_t failovers_total = 0;  // sequences moved away after it failed
  int64_t ejections_total = 0;
};

struct routed_worker {
  int32_t id = 0;
  scheduler_actor handle;
};

class worker_table {
 public:
  explicit worker_table(int64_t affinity_max_imbalance = 8)
      : affinity_max_imbalance_(affinity_max_imbalance) {}

  // Adds a worker, or re-admits one already known by address (a restarted or
  // reconnected worker gets the new handle). Returns its id.
  int32_t add(const std::string& address, const std::string& model_id, int32_t block_size,
              scheduler_actor handle);
  // Picks a healthy, non-draining worker of the model (see worker_choice.hpp),
  // skipping the ids in exclude, and counts the sequence against it.
  std::optional<routed_worker> route(const std::string& model_id,
                                     const std::vector<int32_t>& prompt_token_ids,
                                     const std::vector<int32_t>& exclude = {});
  void release(int32_t worker_id);        // a routed sequence finished
  void count_failover(int32_t worker_id);
  void heard_from(int32_t worker_id, const engine::engine_stats& stats);
  // Marks workers silent for longer than timeout unhealthy; returns their ids.
  std::vector<int32_t> eject_silent(std::chrono::milliseconds timeout);
  void eject(int32_t worker_id);          // connection lost
  void set_draining(int32_t worker_id);

  bool has_healthy_worker(const std::string& model_id) const;
  std::vector<std::string> model_ids() const;  // models any worker ever served
  std::vector<worker_entry> snapshot() const;
  std::optional<int32_t> id_of(const caf::actor_addr& handle) const;

 private:
  worker_entry* find(int32_t id);
  mutable std::mutex mutex_;
  std::vector<worker_entry> workers_;
  int64_t affinity_max_imbalance_;
  int32_t next_id_ = 1;
};

}  // namespace troupe::actors
