// The one place where configuration structs become engine and node options.
#include <fstream>
#include <sstream>

#include "actors/node/local_service.hpp"
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

}  // namespace

std::unique_ptr<generation_service> start_local_service(const config::troupe_config& config,
                                                        std::string* error) {
  node_options o;
  o.model_dir = config.model.path;
  o.served_model_name = config.model.served_model_name;
  if (!config.model.chat_template.empty() &&
      !read_file(config.model.chat_template, &o.chat_template_override)) {
    *error = "model.chat_template: cannot read '" + config.model.chat_template + "'";
    return nullptr;
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
  return start_local_service(o, error);
}

}  // namespace troupe::actors
