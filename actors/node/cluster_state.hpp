#pragma once
// What a gateway's actors and its generation_service share: the worker table,
// the models learned from workers, and the running requests (so an ejected
// worker's requests can be told). The service reads it on I/O threads, the
// membership actor writes it; the mutex guards models and requests.
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "actors/messages.hpp"
#include "actors/metrics/metrics_registry.hpp"
#include "actors/node/model_bundle.hpp"
#include "actors/node/worker_table.hpp"

namespace troupe::actors {

struct cluster_state {
  std::shared_ptr<worker_table> workers;
  std::shared_ptr<metrics_registry> metrics = std::make_shared<metrics_registry>();
  std::shared_ptr<std::atomic<int64_t>> failovers_total = std::make_shared<std::atomic<int64_t>>(0);
  std::atomic<int64_t> refused_workers_total{0};  // wrong protocol version or interface
  std::atomic<int32_t> in_flight{0};              // sequences admitted and unfinished

  mutable std::mutex mutex;
  std::vector<std::shared_ptr<model_bundle>> models;   // in order of first appearance
  std::unordered_map<std::string, request_actor> requests;  // request id -> its actor

  // The engine figures of /metrics from each worker's last stats (from a
  // heartbeat or an output batch): gauges sum over healthy workers; counters
  // over every worker ever seen, with what a restarted worker had counted
  // before, so they never go down (Prometheus would read a drop as a reset).
  void publish_engine_gauges() {
    engine::engine_stats sum;
    for (const worker_entry& w : workers->snapshot()) {
      sum.num_preemptions += w.retired_preemptions + w.stats.num_preemptions;
      sum.prefix_cache_queries += w.retired_prefix_cache_queries + w.stats.prefix_cache_queries;
      sum.prefix_cache_hits += w.retired_prefix_cache_hits + w.stats.prefix_cache_hits;
      if (!w.healthy) continue;
      sum.num_running += w.stats.num_running;
      sum.num_waiting += w.stats.num_waiting;
      sum.num_total_blocks += w.stats.num_total_blocks;
      sum.num_free_blocks += w.stats.num_free_blocks;
    }
    auto& m = *metrics;
    m.num_requests_running = sum.num_running;
    m.num_requests_waiting = sum.num_waiting;
    m.kv_total_blocks = sum.num_total_blocks;
    m.kv_free_blocks = sum.num_free_blocks;
    m.num_preemptions_total = sum.num_preemptions;
    m.prefix_cache_queries_total = sum.prefix_cache_queries;
    m.prefix_cache_hits_total = sum.prefix_cache_hits;
  }

  std::shared_ptr<model_bundle> find_model(const std::string& id) const {
    std::lock_guard lock(mutex);
    for (const auto& m : models)
      if (id.empty() || m->id == id) return m;
    return nullptr;
  }
};

}  // namespace troupe::actors
