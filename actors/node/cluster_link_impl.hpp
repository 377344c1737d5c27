#pragma once
// Template part of cluster_link.hpp.
#include <caf/openssl/all.hpp>

namespace troupe::actors {

template <class Handle>
caf::expected<Handle> connect_on_cluster(caf::actor_system& sys, const host_port& peer,
                                         const cluster_options& o) {
  if (o.plaintext) return sys.middleman().remote_actor<Handle>(peer.host, peer.port);
  return caf::openssl::remote_actor<Handle>(sys, peer.host, peer.port);
}

template <class Handle>
caf::expected<uint16_t> publish_on_cluster(const Handle& handle, const host_port& where,
                                           const cluster_options& o) {
  if (o.plaintext)
    return handle.home_system().middleman().publish(handle, where.port, where.host.c_str(), true);
  return caf::openssl::publish(handle, where.port, where.host.c_str(), true);
}

}  // namespace troupe::actors
