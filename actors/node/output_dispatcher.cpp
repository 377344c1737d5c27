#include "actors/node/output_dispatcher.hpp"

#include <unordered_map>

namespace troupe::actors {

namespace {

struct dispatcher_state {
  std::unordered_map<std::string, request_actor> watchers;  // engine request id -> its actor
  std::shared_ptr<cluster_state> cluster;
  static inline const char* name = "troupe.output_dispatcher";
};

dispatcher_actor::behavior_type dispatcher_impl(dispatcher_actor::stateful_pointer<dispatcher_state> self,
                                                std::shared_ptr<cluster_state> cluster) {
  self->state.cluster = std::move(cluster);
  return {
      [self](outputs_atom, std::vector<engine::request_output>& batch, const engine::engine_stats& stats) {
        auto& cluster = *self->state.cluster;
        if (auto id = cluster.workers->id_of(caf::actor_cast<caf::actor_addr>(self->current_sender()))) {
          cluster.workers->heard_from(*id, stats);
          cluster.publish_engine_gauges();
        }
        auto& watchers = self->state.watchers;
        for (engine::request_output& out : batch) {
          auto it = watchers.find(out.request_id);
          if (it == watchers.end()) continue;  // cancelled, or moved to another worker
          const bool finished = out.finished != engine::finish_reason::none;
          self->send(it->second, output_atom::value, std::move(out));
          if (finished) watchers.erase(it);
        }
      },
      [self](watch_atom, const std::string& engine_id, const request_actor& who) {
        self->state.watchers[engine_id] = who;
      },
      [self](unwatch_atom, const std::string& engine_id) { self->state.watchers.erase(engine_id); },
  };
}

}  // namespace

dispatcher_actor spawn_output_dispatcher(caf::actor_system& system, std::shared_ptr<cluster_state> state) {
  return system.spawn(dispatcher_impl, std::move(state));
}

}  // namespace troupe::actors
