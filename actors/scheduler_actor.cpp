#include "actors/scheduler_actor.hpp"

#include <unordered_map>

namespace troupe::actors {

namespace {

struct scheduler_state {
  std::unique_ptr<engine::engine> engine;
  std::shared_ptr<metrics_registry> metrics;
  std::unordered_map<std::string, output_sink_actor> owners;  // request id -> its request actor
  bool step_pending = false;
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

// CAF copies spawn arguments; the unique engine is handed over through a
// shared holder whose content the actor's state takes.
using engine_holder = std::shared_ptr<std::unique_ptr<engine::engine>>;

scheduler_actor::behavior_type scheduler_impl(scheduler_pointer self, engine_holder holder,
                                              std::shared_ptr<metrics_registry> metrics) {
  self->state.engine = std::move(*holder);
  self->state.metrics = std::move(metrics);
  self->state.publish_stats();
  return {
      [self](submit_atom, engine::engine_request& request, output_sink_actor& owner) -> int32_t {
        const std::string id = request.request_id;
        const engine::add_error err = self->state.engine->add_request(std::move(request));
        if (err == engine::add_error::none) {
          self->state.owners[id] = std::move(owner);
          schedule_step(self);
        }
        self->state.publish_stats();
        return static_cast<int32_t>(err);
      },
      [self](abort_atom, const std::string& request_id) {
        self->state.engine->abort_request(request_id);
        self->state.publish_stats();
        schedule_step(self);  // the abort's output is reported by the next step
      },
      [self](step_atom) {
        self->state.step_pending = false;
        auto& st = self->state;
        for (engine::request_output& out : st.engine->step()) {
          auto it = st.owners.find(out.request_id);
          if (it == st.owners.end()) continue;
          const bool finished = out.finished != engine::finish_reason::none;
          self->send(it->second, output_atom::value, std::move(out));
          if (finished) st.owners.erase(it);
        }
        st.publish_stats();
        if (st.engine->has_unfinished_requests()) schedule_step(self);
      },
      [self](stats_atom) { return self->state.engine->stats(); },
  };
}

}  // namespace

scheduler_actor spawn_scheduler(caf::actor_system& system, std::unique_ptr<engine::engine> engine,
                                std::shared_ptr<metrics_registry> metrics) {
  auto holder = std::make_shared<std::unique_ptr<engine::engine>>(std::move(engine));
  return system.spawn<caf::detached>(scheduler_impl, holder, std::move(metrics));
}

}  // namespace troupe::actors
