#include "actors/scheduler_actor.hpp"

#include <cstdio>
#include <map>
#include <unordered_map>

namespace troupe::actors {

namespace {

struct scheduler_state {
  std::unique_ptr<engine::engine> engine;
  std::shared_ptr<metrics_registry> metrics;
  worker_info info;
  // request id -> the output sink (a gateway's dispatcher) that submitted it
  std::unordered_map<std::string, output_sink_actor> owners;
  bool step_pending = false;
  bool draining = false;
  static inline const char* name = "troupe.scheduler";

  void publish_stats() {
    const engine::engine_stats s = engine->stats();
    metrics->num_requests_running = s.num_running;
    metrics->num_requests_waiting = s.num_waiting;
    metrics->kv_total_blocks = s.num_total_blocks;
    metrics->kv_free_blocks = s.num_free_blocks;
    metrics->num_preemptions_total = s.num_preemptions;
    metrics->prefix_cache_queries_total = s.prefix_cache_queries;
    metrics->prefix_cache_hits_total = s.prefix_cache_hits;
  }
};

using scheduler_pointer = scheduler_actor::stateful_pointer<scheduler_state>;

void schedule_step(scheduler_pointer self) {
  if (!self->state.step_pending) {
    self->state.step_pending = true;
    self->send(self, step_atom::value);
  }
}

// Runs one iteration and sends each sink the outputs of its sequences in one
// message: across hosts the hop then costs one message per gateway per step.
void run_step(scheduler_pointer self) {
  auto& st = self->state;
  std::map<caf::actor_addr, std::pair<output_sink_actor, std::vector<engine::request_output>>> batches;
  for (engine::request_output& out : st.engine->step()) {
    auto it = st.owners.find(out.request_id);
    if (it == st.owners.end()) continue;
    const bool finished = out.finished != engine::finish_reason::none;
    auto& batch = batches[it->second.address()];
    batch.first = it->second;
    batch.second.push_back(std::move(out));
    if (finished) st.owners.erase(it);
  }
  if (batches.empty()) return;
  const engine::engine_stats stats = st.engine->stats();
  for (auto& [addr, batch] : batches)
    self->send(batch.first, outputs_atom::value, std::move(batch.second), stats);
}

// A gateway that went away (process died, link cut past the middleman's
// timeout) never reads its outputs again: free its sequences' blocks now.
void abort_requests_of(scheduler_pointer self, const caf::actor_addr& sink) {
  auto& st = self->state;
  std::vector<std::string> ids;
  for (const auto& [id, owner] : st.owners)
    if (owner.address() == sink) ids.push_back(id);
  for (const std::string& id : ids) {
    st.owners.erase(id);
    st.engine->abort_request(id);
  }
  if (!ids.empty()) schedule_step(self);
}

// CAF copies spawn arguments; the unique engine is handed over through a
// shared holder whose content the actor's state takes.
using engine_holder = std::shared_ptr<std::unique_ptr<engine::engine>>;

scheduler_actor::behavior_type scheduler_impl(scheduler_pointer self, engine_holder holder,
                                              std::shared_ptr<metrics_registry> metrics,
                                              worker_info info) {
  self->state.engine = std::move(*holder);
  self->state.metrics = std::move(metrics);
  self->state.info = std::move(info);
  self->state.publish_stats();
  self->set_down_handler([self](const caf::down_msg& dm) { abort_requests_of(self, dm.source); });
  return {
      [self](submit_atom, engine::engine_request& request, output_sink_actor& owner) -> int32_t {
        auto& st = self->state;
        if (st.draining) return static_cast<int32_t>(engine::add_error::draining);
        const std::string id = request.request_id;
        const engine::add_error err = st.engine->add_request(std::move(request));
        if (err == engine::add_error::none) {
          const bool known = std::any_of(st.owners.begin(), st.owners.end(), [&](const auto& o) {
            return o.second.address() == owner.address();
          });
          if (!known) self->monitor(owner);
          st.owners[id] = std::move(owner);
          schedule_step(self);
        }
        st.publish_stats();
        return static_cast<int32_t>(err);
      },
      [self](abort_atom, const std::string& request_id) {
        self->state.engine->abort_request(request_id);
        self->state.publish_stats();
        schedule_step(self);  // the abort's output is reported by the next step
      },
      [self](step_atom) {
        self->state.step_pending = false;
        run_step(self);
        self->state.publish_stats();
        if (self->state.engine->has_unfinished_requests()) schedule_step(self);
      },
      [self](stats_atom) { return self->state.engine->stats(); },
      [self](info_atom, int32_t gateway_version) {
        if (gateway_version != cluster_protocol_version)
          std::fprintf(stderr,
                       "troupe worker: refusing a gateway of cluster protocol %d (this worker "
                       "speaks %d); upgrade both to the same troupe version\n",
                       gateway_version, cluster_protocol_version);
        return self->state.info;  // the gateway refuses us on its side too
      },
      [self](drain_atom) { self->state.draining = true; },
  };
}

}  // namespace

scheduler_actor spawn_scheduler(caf::actor_system& system, std::unique_ptr<engine::engine> engine,
                                std::shared_ptr<metrics_registry> metrics, worker_info info) {
  auto holder = std::make_shared<std::unique_ptr<engine::engine>>(std::move(engine));
  return system.spawn<caf::detached>(scheduler_impl, holder, std::move(metrics), std::move(info));
}

}  // namespace troupe::actors
