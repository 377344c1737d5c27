#pragma once
// The middleman and its TLS wiring, in one place: how a node's actor system
// is configured to talk to other nodes, how it publishes an actor, and which
// middleman actor connects to a peer. Node-to-node traffic is BASP over
// mutually authenticated TLS (CAF's OpenSSL module: every node presents a
// certificate signed by the cluster CA and accepts only peers that do); plain
// BASP is allowed on loopback only, behind --cluster-plaintext.
#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace troupe::actors {

struct cluster_options {
  bool plaintext = false;        // plain BASP: loopback only, for tests
  std::string cert_file;         // this node's certificate (PEM), signed by the cluster CA
  std::string key_file;          // its private key (PEM)
  std::string ca_file;           // the cluster CA: peers must present a certificate it signed
  int64_t heartbeat_ms = 500;    // gateway → worker stats request, and BASP heartbeat
  int64_t eject_after_ms = 3000; // a worker silent this long is ejected (and its link dropped)
  int64_t connect_timeout_ms = 2000;
  int64_t affinity_max_imbalance = 8;  // sequences a prefix-affine worker may carry above the least loaded
};

struct host_port {
  std::string host;
  uint16_t port = 0;
};

// "host:port" (IPv6 as "[::1]:port"); nullopt on anything else.
std::optional<host_port> parse_host_port(const std::string& text);

// Refuses options that would let an unauthenticated node in: plaintext on a
// non-loopback address, or TLS without certificate, key and CA.
std::optional<std::string> check_cluster_options(const cluster_options& o,
                                                 const std::string& listen_or_peer_host);

// Loads the middleman (and the OpenSSL manager unless plaintext) into cfg,
// with the certificate files and the BASP heartbeat/timeout. Call before the
// actor system is built.
void configure_cluster(caf::actor_system_config& cfg, const cluster_options& o);

// Publishes handle (with its typed interface, which connecting peers check)
// on host:port (0 = ephemeral) over the transport the options choose; the
// bound port or an error.
template <class Handle>
caf::expected<uint16_t> publish_on_cluster(const Handle& handle, const host_port& where,
                                           const cluster_options& o);

// True when a TCP connection to peer opens within timeout. The middleman's own
// connect blocks its I/O loop while a SYN goes unanswered (a cut link), which
// would starve every other connection of the node: probe first, off that loop.
bool tcp_reachable(const host_port& peer, std::chrono::milliseconds timeout);

// The middleman actor that connects to peers over that transport.
caf::io::middleman_actor cluster_connector(caf::actor_system& sys, const cluster_options& o);

// Blocking connect for the worker's side of a join (the worker has no event loop).
template <class Handle>
caf::expected<Handle> connect_on_cluster(caf::actor_system& sys, const host_port& peer,
                                         const cluster_options& o);

}  // namespace troupe::actors

#include "actors/node/cluster_link_impl.hpp"
