#pragma once
// Options of a node that runs an engine (`serve`, `worker`), and the
// functions that build one.
#include <memory>
#include <optional>
#include <string>

#include "actors/engine/engine.hpp"
#include "actors/generation_service.hpp"
#include "actors/node/worker_info.hpp"

namespace troupe::config {
struct troupe_config;
}

namespace troupe::actors {

struct node_options {
  std::string model_dir;
  std::string served_model_name;      // default: the folder's name
  std::string chat_template_override; // template source, or empty
  std::string executor = "auto";      // "auto" | "cpu" | "cuda"
  std::string quantization;           // --quantization: "", int8, fp8, nf4, fp4, int4, awq
  engine::engine_options engine;
  int32_t block_size = 16;               // tokens per KV block
  int64_t kv_cache_bytes = 256ll << 20;  // CPU executor KV budget
  double gpu_memory_utilization = 0.9;   // CUDA executor
  int32_t num_threads = 0;               // CPU executor threads, 0 = all cores
  int32_t scheduler_threads = 2;         // CAF worker threads for request actors
};

// A worker before it runs: its engine (executor loaded) and what it announces.
struct loaded_worker {
  std::unique_ptr<engine::engine> engine;
  worker_info info;
};
std::optional<loaded_worker> load_worker(const node_options& options, std::string* error);

// The all-in-one node: the gateway's cluster_service with one in-process
// worker (the same routing path as a gateway of remote workers).
// nullptr and *error on failure.
std::unique_ptr<generation_service> start_local_service(const node_options& options,
                                                        std::string* error);
// The same, from the TOML/flag configuration (actors/node/ is the one place that
// maps config structs onto engine options).
std::unique_ptr<generation_service> start_local_service(const config::troupe_config& config,
                                                        std::string* error);

// Builds the executor the options ask for ("auto": CUDA when a GPU is present).
std::unique_ptr<engine::executor> make_executor(const node_options& options, std::string* error);

}  // namespace troupe::actors
