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

  std::shared_ptr<model_bundle> find_model(const std::string& id) const {
    std::lock_guard lock(mutex);
    for (const auto& m : models)
      if (id.empty() || m->id == id) return m;
    return nullptr;
  }
};

}  // namespace troupe::actors
