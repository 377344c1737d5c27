#include "actors/node/worker_node.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "actors/scheduler_actor.hpp"

namespace troupe::actors {

namespace {

using namespace std::chrono_literals;

struct worker_config : caf::actor_system_config {
  explicit worker_config(const cluster_options& o) {
    announce_message_types(*this);
    configure_cluster(*this, o);
    set("scheduler.max-threads", 2);
    set("logger.console", caf::atom("none"));
  }
};

void log_line(const std::string& line) {
  std::fprintf(stderr, "troupe worker: %s\n", line.c_str());
  std::fflush(stderr);
}

// Stops admission and waits (at most grace) until the engine is idle.
void drain(caf::scoped_actor& self, const scheduler_actor& worker, std::chrono::milliseconds grace) {
  self->send(worker, drain_atom::value);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  int32_t left = 0;
  do {
    self->request(worker, 1s, stats_atom::value)
        .receive([&](const engine::engine_stats& s) { left = s.num_running + s.num_waiting; },
                 [&](caf::error&) { left = 0; });
    if (left == 0) break;
    std::this_thread::sleep_for(50ms);
  } while (std::chrono::steady_clock::now() < deadline);
  log_line(left == 0 ? "drained: no stream left" :
                       std::to_string(left) + " stream(s) still running after the grace period; "
                       "they fail over on their gateways");
}

}  // namespace

int run_worker_node(const worker_options& options, const std::atomic<bool>& stop) {
  std::string error;
  auto loaded = load_worker(options.node, &error);
  if (!loaded) {
    log_line(error);
    return 1;
  }
  worker_config cfg(options.cluster);
  caf::actor_system system(cfg);
  worker_info info = std::move(loaded->info);
  info.address = options.advertise;
  const std::string model_id = info.model_id;
  const std::string executor = info.executor;
  auto worker = spawn_scheduler(system, std::move(loaded->engine), std::make_shared<metrics_registry>(),
                                std::move(info));
  if (options.listen) {
    auto port = publish_on_cluster(worker, *options.listen, options.cluster);
    if (!port) {
      log_line("cannot listen on " + options.listen->host + ":" + std::to_string(options.listen->port) +
               ": " + system.render(port.error()));
      caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
      return 1;
    }
    std::printf("troupe worker: serving '%s' (%s) on %s:%u (%s)\n", model_id.c_str(), executor.c_str(),
                options.listen->host.c_str(), unsigned(*port),
                options.cluster.plaintext ? "plaintext, loopback only" : "mutual TLS");
    std::fflush(stdout);
  }
  caf::scoped_actor self{system};
  registry_actor registry;
  bool said_unreachable = false;
  while (!stop) {
    if (options.gateway && !registry) {
      auto joined = connect_on_cluster<registry_actor>(system, *options.gateway, options.cluster);
      if (joined) {
        registry = *joined;
        self->monitor(registry);
        self->send(registry, register_atom::value, worker, options.advertise);
        log_line("joined the gateway at " + options.gateway->host + ":" +
                 std::to_string(options.gateway->port) + " as " + options.advertise);
        said_unreachable = false;
      } else if (!said_unreachable) {
        log_line("gateway " + options.gateway->host + ":" + std::to_string(options.gateway->port) +
                 " not reachable (" + system.render(joined.error()) + "); retrying");
        said_unreachable = true;
      }
    }
    self->receive(
        [&](caf::down_msg&) {
          log_line("lost the gateway; rejoining");
          registry = nullptr;
        },
        caf::after(200ms) >> [] {});
  }
  log_line("stopping: no new requests; draining");
  drain(self, worker, std::chrono::milliseconds(options.drain_grace_ms));
  caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
  // The drain is what matters; tearing the actor system down can wait on
  // handles the middleman's TLS module still holds. Exit regardless.
  std::thread([] {
    std::this_thread::sleep_for(2s);
    std::fflush(nullptr);
    std::_Exit(0);
  }).detach();
  return 0;
}

}  // namespace troupe::actors
