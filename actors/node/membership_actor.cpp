#include "actors/node/membership_actor.hpp"

#include <chrono>
#include <cstdio>
#include <functional>

namespace troupe::actors {

namespace {

using tick_atom = caf::atom_constant<caf::atom("tick")>;
using dial_atom = caf::atom_constant<caf::atom("dial")>;
using probed_atom = caf::atom_constant<caf::atom("probed")>;

struct membership_data {
  std::shared_ptr<cluster_state> state;
  cluster_options options;
  std::vector<host_port> addresses;  // workers this gateway dials (and redials)
};

std::string address_of(const host_port& hp) { return hp.host + ":" + std::to_string(hp.port); }

void log_line(const std::string& line) {
  std::fprintf(stderr, "troupe gateway: %s\n", line.c_str());
  std::fflush(stderr);
}

// Every request that may hold sequences on the worker is told; each checks
// whether it does.
void tell_requests_lost(caf::event_based_actor* self, cluster_state& state, int32_t worker_id) {
  std::vector<request_actor> requests;
  {
    std::lock_guard lock(state.mutex);
    for (const auto& [id, actor] : state.requests) requests.push_back(actor);
  }
  for (const auto& r : requests) self->send(r, lost_atom::value, worker_id);
}

// Handshake: the worker's info, checked and turned into a model bundle the
// first time its model is seen. False (and a log line) when refused.
bool admit(caf::event_based_actor* self, membership_data& d, const scheduler_actor& handle,
           const std::string& address, const worker_info& info) {
  if (info.protocol_version != cluster_protocol_version) {
    ++d.state->refused_workers_total;
    log_line("refusing worker " + address + ": it speaks cluster protocol " +
             std::to_string(info.protocol_version) + ", this gateway " +
             std::to_string(cluster_protocol_version) + "; run the same troupe version on both");
    return false;
  }
  if (!d.state->find_model(info.model_id)) {
    std::string error;
    auto bundle = model_bundle_from_info(info, &error);
    if (!bundle) {
      ++d.state->refused_workers_total;
      log_line("refusing worker " + address + ": its model '" + info.model_id + "': " + error);
      return false;
    }
    std::lock_guard lock(d.state->mutex);
    d.state->models.push_back(std::move(bundle));
  }
  const int32_t id = d.state->workers->add(address, info.model_id, info.block_size, handle);
  self->monitor(handle);
  log_line("worker " + address + " (#" + std::to_string(id) + ") serves '" + info.model_id +
           "' (" + info.executor + ", context " + std::to_string(info.max_model_len) + ")");
  return true;
}

void join(caf::event_based_actor* self, std::shared_ptr<membership_data> d, scheduler_actor handle,
          std::string address, std::function<void(bool)> done);

void dial(caf::event_based_actor* self, std::shared_ptr<membership_data> d, host_port peer) {
  const auto timeout = std::chrono::milliseconds(d->options.connect_timeout_ms);
  // Probe on a thread of its own (see tcp_reachable), then let the middleman connect.
  auto membership = caf::actor_cast<caf::actor>(self);
  self->spawn<caf::detached>([membership, peer, timeout] {
    caf::anon_send(membership, probed_atom::value, peer.host, peer.port, tcp_reachable(peer, timeout));
  });
}

// The probe's answer: connect over the middleman, or try again later.
void connect_probed(caf::event_based_actor* self, std::shared_ptr<membership_data> d, host_port peer,
                    bool reachable) {
  const auto timeout = std::chrono::milliseconds(d->options.connect_timeout_ms);
  const auto retry = std::chrono::milliseconds(std::max<int64_t>(d->options.heartbeat_ms, 200));
  if (!reachable) {
    self->delayed_send(self, retry, dial_atom::value, peer.host, peer.port);
    return;
  }
  auto mm = cluster_connector(self->home_system(), d->options);
  self->request(mm, timeout, caf::connect_atom::value, peer.host, peer.port)
      .then(
          [self, d, peer, retry](const caf::node_id&, caf::strong_actor_ptr& ptr,
                                 const std::set<std::string>& interface) {
            if (!ptr || interface != self->home_system().message_types<scheduler_actor>()) {
              ++d->state->refused_workers_total;
              log_line("refusing " + address_of(peer) +
                       ": not a troupe worker of this version (its actor interface differs)");
              self->delayed_send(self, retry * 10, dial_atom::value, peer.host, peer.port);
              return;
            }
            join(self, d, caf::actor_cast<scheduler_actor>(ptr), address_of(peer), [self, d, peer, retry](bool ok) {
              if (!ok) self->delayed_send(self, retry * 10, dial_atom::value, peer.host, peer.port);
            });
          },
          [self, peer, retry](caf::error&) {
            self->delayed_send(self, retry, dial_atom::value, peer.host, peer.port);
          });
}

void heartbeat(caf::event_based_actor* self, std::shared_ptr<membership_data> d) {
  const auto timeout = std::chrono::milliseconds(d->options.eject_after_ms);
  for (const worker_entry& w : d->state->workers->snapshot()) {
    if (!w.handle || !w.connected) continue;  // a lost connection is redialed, not pinged
    const int32_t id = w.id;
    self->request(w.handle, timeout, stats_atom::value)
        .then([d, id](const engine::engine_stats& stats) { d->state->workers->heard_from(id, stats); },
              [](caf::error&) {});
  }
  for (int32_t id : d->state->workers->eject_silent(std::chrono::milliseconds(d->options.eject_after_ms))) {
    log_line("worker #" + std::to_string(id) + " is silent: ejected; its requests fail over");
    tell_requests_lost(self, *d->state, id);
  }
  d->state->publish_engine_gauges();
}

// Handshake, admission, then a first heartbeat (so gauges and load are right
// from the start); done(admitted) runs at the end.
void join(caf::event_based_actor* self, std::shared_ptr<membership_data> d, scheduler_actor handle,
          std::string address, std::function<void(bool)> done) {
  self->request(handle, std::chrono::milliseconds(d->options.connect_timeout_ms), info_atom::value,
                cluster_protocol_version)
      .then(
          [self, d, handle, address, done](worker_info& info) {
            if (info.address.empty()) info.address = address;
            if (!admit(self, *d, handle, address, info)) {
              done(false);
              return;
            }
            const auto id = d->state->workers->id_of(handle.address());
            self->request(handle, std::chrono::milliseconds(d->options.eject_after_ms), stats_atom::value)
                .then(
                    [d, id, done](const engine::engine_stats& stats) {
                      if (id) d->state->workers->heard_from(*id, stats);
                      d->state->publish_engine_gauges();
                      done(true);
                    },
                    [done](caf::error&) { done(true); });
          },
          [address, done](caf::error& e) {
            log_line("worker " + address + " did not answer the handshake: " + caf::to_string(e));
            done(false);
          });
}

caf::behavior membership_impl(caf::event_based_actor* self, std::shared_ptr<cluster_state> state,
                              cluster_options options, std::vector<host_port> addresses) {
  auto d = std::make_shared<membership_data>();
  d->state = std::move(state);
  d->options = options;
  d->addresses = std::move(addresses);
  self->set_down_handler([self, d](const caf::down_msg& dm) {
    auto id = d->state->workers->id_of(dm.source);
    if (!id) return;
    d->state->workers->eject(*id);
    log_line("lost the connection to worker #" + std::to_string(*id) + "; its requests fail over");
    tell_requests_lost(self, *d->state, *id);
    d->state->publish_engine_gauges();
    for (const worker_entry& w : d->state->workers->snapshot())
      for (const host_port& hp : d->addresses)
        if (w.id == *id && address_of(hp) == w.address) dial(self, d, hp);  // until it returns
  });
  for (const host_port& hp : d->addresses) dial(self, d, hp);
  self->send(self, tick_atom::value);
  return {
      [self, d](join_atom, scheduler_actor& handle, std::string& address) -> caf::result<bool> {
        auto rp = self->make_response_promise<bool>();
        join(self, d, handle, address, [rp](bool ok) mutable { rp.deliver(ok); });
        return rp;
      },
      [self, d](dial_atom, const std::string& host, uint16_t port) {
        dial(self, d, host_port{host, port});
      },
      [self, d](probed_atom, const std::string& host, uint16_t port, bool reachable) {
        connect_probed(self, d, host_port{host, port}, reachable);
      },
      [self, d](tick_atom) {
        heartbeat(self, d);
        self->delayed_send(self, std::chrono::milliseconds(d->options.heartbeat_ms), tick_atom::value);
      },
  };
}

registry_actor::behavior_type registry_impl(registry_actor::pointer self, caf::actor membership) {
  return {
      [self, membership](register_atom, const scheduler_actor& worker, const std::string& address) {
        caf::anon_send(membership, join_atom::value, worker, address);
      },
  };
}

}  // namespace

caf::actor spawn_membership(caf::actor_system& system, std::shared_ptr<cluster_state> state,
                            cluster_options options, std::vector<host_port> worker_addresses) {
  return system.spawn(membership_impl, std::move(state), std::move(options), std::move(worker_addresses));
}

registry_actor spawn_registry(caf::actor_system& system, caf::actor membership) {
  return system.spawn(registry_impl, std::move(membership));
}

}  // namespace troupe::actors
