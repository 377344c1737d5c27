// The one place where configuration structs become engine, node and cluster
// options.
#include "actors/node/config_mapping.hpp"

#include <fstream>
#include <sstream>
#include <unistd.h>

#include "config/troupe_config.hpp"

namespace troupe::actors {

namespace {

bool read_file(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  *out = s.str();
  return true;
}

std::optional<host_port> address_from(const std::string& key, const std::string& text,
                                      std::string* error) {
  auto hp = parse_host_port(text);
  if (!hp) *error = "config: '" + key + "' must be host:port (got \"" + text + "\")";
  return hp;
}

}  // namespace

std::optional<node_options> node_options_from(const config::troupe_config& config, std::string* error) {
  node_options o;
  o.model_dir = config.model.path;
  o.served_model_name = config.model.served_model_name;
  if (!config.model.chat_template.empty() &&
      !read_file(config.model.chat_template, &o.chat_template_override)) {
    *error = "model.chat_template: cannot read '" + config.model.chat_template + "'";
    return std::nullopt;
  }
  o.executor = config.engine.executor;
  o.quantization = config.engine.quantization == "none" ? "" : config.engine.quantization;
  o.engine.policy = config.engine.policy == "static" ? engine::batching_policy::static_batch
                                                      : engine::batching_policy::continuous;
  o.engine.max_num_seqs = static_cast<int32_t>(config.engine.max_num_seqs);
  o.engine.max_num_batched_tokens = static_cast<int32_t>(config.engine.max_num_batched_tokens);
  o.engine.max_model_len = static_cast<int32_t>(config.engine.max_model_len);
  o.engine.enable_prefix_caching = config.engine.enable_prefix_caching;
  o.engine.max_waiting = static_cast<int32_t>(config.engine.max_waiting);
  o.block_size = static_cast<int32_t>(config.engine.block_size);
  o.kv_cache_bytes = config.engine.kv_cache_bytes;
  o.gpu_memory_utilization = config.engine.gpu_memory_utilization;
  o.num_threads = static_cast<int32_t>(config.engine.num_threads);
  return o;
}

cluster_options cluster_options_from(const config::troupe_config& config) {
  cluster_options o;
  o.plaintext = config.cluster.plaintext;
  o.cert_file = config.cluster.cert;
  o.key_file = config.cluster.key;
  o.ca_file = config.cluster.ca;
  o.heartbeat_ms = config.cluster.heartbeat_ms;
  o.eject_after_ms = config.cluster.eject_after_ms;
  o.connect_timeout_ms = config.cluster.connect_timeout_ms;
  o.affinity_max_imbalance = config.cluster.affinity_max_imbalance;
  return o;
}

std::optional<gateway_options> gateway_options_from(const config::troupe_config& config,
                                                    std::string* error) {
  gateway_options g;
  g.remote = true;
  g.cluster = cluster_options_from(config);
  g.max_in_flight = static_cast<int32_t>(config.cluster.max_in_flight);
  if (config.cluster.workers.empty() && config.cluster.listen.empty()) {
    *error = "a gateway needs workers: --worker HOST:PORT (repeatable) and/or --listen HOST:PORT "
             "for workers that join with `troupe worker --gateway`";
    return std::nullopt;
  }
  for (const std::string& w : config.cluster.workers) {
    auto hp = address_from("cluster.workers", w, error);
    if (!hp) return std::nullopt;
    if (auto e = check_cluster_options(g.cluster, hp->host)) return *error = *e, std::nullopt;
    g.workers.push_back(*hp);
  }
  if (!config.cluster.listen.empty()) {
    auto hp = address_from("cluster.listen", config.cluster.listen, error);
    if (!hp) return std::nullopt;
    if (auto e = check_cluster_options(g.cluster, hp->host)) return *error = *e, std::nullopt;
    g.registry = *hp;
  }
  return g;
}

std::optional<worker_options> worker_options_from(const config::troupe_config& config,
                                                  std::string* error) {
  worker_options w;
  auto node = node_options_from(config, error);
  if (!node) return std::nullopt;
  w.node = std::move(*node);
  w.cluster = cluster_options_from(config);
  w.drain_grace_ms = config.cluster.drain_grace_ms;
  if (config.cluster.listen.empty() && config.cluster.gateway.empty()) {
    *error = "a worker needs --listen HOST:PORT (gateways dial it) and/or --gateway HOST:PORT "
             "(it joins that gateway)";
    return std::nullopt;
  }
  if (!config.cluster.workers.empty()) {
    *error = "config: 'cluster.workers' is a gateway setting; a worker takes --listen or --gateway";
    return std::nullopt;
  }
  if (!config.cluster.listen.empty()) {
    w.listen = address_from("cluster.listen", config.cluster.listen, error);
    if (!w.listen) return std::nullopt;
    if (auto e = check_cluster_options(w.cluster, w.listen->host)) return *error = *e, std::nullopt;
  }
  if (!config.cluster.gateway.empty()) {
    w.gateway = address_from("cluster.gateway", config.cluster.gateway, error);
    if (!w.gateway) return std::nullopt;
    if (auto e = check_cluster_options(w.cluster, w.gateway->host)) return *error = *e, std::nullopt;
  }
  w.advertise = !config.cluster.advertise.empty() ? config.cluster.advertise : config.cluster.listen;
  if (w.advertise.empty()) w.advertise = "joined-" + std::to_string(::getpid());
  return w;
}

std::unique_ptr<generation_service> start_local_service(const config::troupe_config& config,
                                                        std::string* error) {
  auto o = node_options_from(config, error);
  if (!o) return nullptr;
  return start_local_service(*o, error);
}

}  // namespace troupe::actors
