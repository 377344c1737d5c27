#include "actors/node/worker_table.hpp"

#include <algorithm>

#include "actors/node/worker_choice.hpp"

namespace troupe::actors {

using clock_type = std::chrono::steady_clock;

worker_entry* worker_table::find(int32_t id) {
  for (auto& w : workers_)
    if (w.id == id) return &w;
  return nullptr;
}

int32_t worker_table::add(const std::string& address, const std::string& model_id,
                          int32_t block_size, scheduler_actor handle) {
  std::lock_guard lock(mutex_);
  for (auto& w : workers_) {
    if (w.address != address) continue;
    w.model_id = model_id;
    w.block_size = block_size;
    w.handle = std::move(handle);
    w.healthy = true;
    w.draining = false;
    w.connected = true;
    w.in_flight = 0;  // whatever ran on the old connection has failed over
    w.last_seen = clock_type::now();
    return w.id;
  }
  worker_entry w;
  w.id = next_id_++;
  w.address = address;
  w.model_id = model_id;
  w.block_size = block_size;
  w.handle = std::move(handle);
  w.last_seen = clock_type::now();
  workers_.push_back(std::move(w));
  return workers_.back().id;
}

std::optional<routed_worker> worker_table::route(const std::string& model_id,
                                                 const std::vector<int32_t>& prompt_token_ids,
                                                 const std::vector<int32_t>& exclude) {
  std::lock_guard lock(mutex_);
  std::vector<worker_load> candidates;
  std::vector<worker_entry*> entries;
  int32_t block_size = 16;
  for (auto& w : workers_) {
    if (!w.healthy || w.draining || w.model_id != model_id) continue;
    if (std::find(exclude.begin(), exclude.end(), w.id) != exclude.end()) continue;
    candidates.push_back({w.id, w.address, w.in_flight + w.stats.num_waiting, w.stats.num_free_blocks});
    entries.push_back(&w);
    block_size = w.block_size;
  }
  const int32_t i = choose_worker(candidates, prefix_affinity_key(prompt_token_ids, block_size),
                                  affinity_max_imbalance_);
  if (i < 0) return std::nullopt;
  worker_entry& w = *entries[i];
  ++w.in_flight;
  ++w.routed_total;
  return routed_worker{w.id, w.handle};
}

void worker_table::release(int32_t worker_id) {
  std::lock_guard lock(mutex_);
  if (auto* w = find(worker_id); w && w->in_flight > 0) --w->in_flight;
}

void worker_table::count_failover(int32_t worker_id) {
  std::lock_guard lock(mutex_);
  if (auto* w = find(worker_id)) ++w->failovers_total;
}

void worker_table::heard_from(int32_t worker_id, const engine::engine_stats& stats) {
  std::lock_guard lock(mutex_);
  auto* w = find(worker_id);
  if (!w) return;
  // A counter that went down means the worker restarted.
  if (stats.prefix_cache_queries < w->stats.prefix_cache_queries ||
      stats.num_preemptions < w->stats.num_preemptions) {
    w->retired_preemptions += w->stats.num_preemptions;
    w->retired_prefix_cache_queries += w->stats.prefix_cache_queries;
    w->retired_prefix_cache_hits += w->stats.prefix_cache_hits;
  }
  w->stats = stats;
  w->last_seen = clock_type::now();
  w->healthy = w->connected;  // re-admitted once it answers again
}

std::vector<int32_t> worker_table::eject_silent(std::chrono::milliseconds timeout) {
  std::lock_guard lock(mutex_);
  std::vector<int32_t> ejected;
  const auto now = clock_type::now();
  for (auto& w : workers_) {
    if (w.healthy && now - w.last_seen > timeout) {
      w.healthy = false;
      ++w.ejections_total;
      ejected.push_back(w.id);
    }
  }
  return ejected;
}

void worker_table::eject(int32_t worker_id) {
  std::lock_guard lock(mutex_);
  auto* w = find(worker_id);
  if (!w) return;
  w->connected = false;
  if (!w->healthy) return;
  w->healthy = false;
  ++w->ejections_total;
}

void worker_table::set_draining(int32_t worker_id) {
  std::lock_guard lock(mutex_);
  if (auto* w = find(worker_id)) w->draining = true;
}

bool worker_table::has_healthy_worker(const std::string& model_id) const {
  std::lock_guard lock(mutex_);
  return std::any_of(workers_.begin(), workers_.end(), [&](const worker_entry& w) {
    return w.healthy && !w.draining && w.model_id == model_id;
  });
}

std::vector<std::string> worker_table::model_ids() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> ids;
  for (const auto& w : workers_)
    if (std::find(ids.begin(), ids.end(), w.model_id) == ids.end()) ids.push_back(w.model_id);
  return ids;
}

std::vector<worker_entry> worker_table::snapshot() const {
  std::lock_guard lock(mutex_);
  return workers_;
}

std::optional<int32_t> worker_table::id_of(const caf::actor_addr& handle) const {
  std::lock_guard lock(mutex_);
  for (const auto& w : workers_)
    if (w.handle.address() == handle) return w.id;
  return std::nullopt;
}

}  // namespace troupe::actors
