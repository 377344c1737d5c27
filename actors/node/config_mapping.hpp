#pragma once
// Configuration (config/) → the options of each node role.
#include <memory>
#include <optional>
#include <string>

#include "actors/node/cluster_service.hpp"
#include "actors/node/local_service.hpp"
#include "actors/node/worker_node.hpp"

namespace troupe::config {
struct troupe_config;
}

namespace troupe::actors {

std::optional<node_options> node_options_from(const config::troupe_config& config, std::string* error);
cluster_options cluster_options_from(const config::troupe_config& config);
// A gateway's options; refuses addresses that are not host:port and
// plaintext off loopback.
std::optional<gateway_options> gateway_options_from(const config::troupe_config& config,
                                                    std::string* error);
std::optional<worker_options> worker_options_from(const config::troupe_config& config,
                                                  std::string* error);

}  // namespace troupe::actors
