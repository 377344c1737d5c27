#include "actors/node/local_service.hpp"

#include "actors/engine/exec/cpu_executor.hpp"
#include "actors/engine/structured/token_vocabulary.hpp"
#include "actors/node/cluster_service.hpp"
#include "actors/node/model_bundle.hpp"
#ifdef TROUPE_HAVE_CUDA
#include "actors/engine/exec/cuda_executor_adapter.hpp"
#endif

namespace troupe::actors {


std::unique_ptr<engine::executor> make_executor(const node_options& options, std::string* error) {
  std::string which = options.executor;
  auto quantization = engine::parse_quantization_flag(options.quantization, error);
  if (!quantization) return nullptr;
#ifdef TROUPE_HAVE_CUDA
  if (which == "auto") which = engine::cuda_device_available() ? "cuda" : "cpu";
  if (which == "cuda") {
    gpu::cuda_executor_options o;
    o.block_size = options.block_size;
    o.gpu_memory_utilization = options.gpu_memory_utilization;
    // The executor's workspaces and graph buckets are sized for the largest
    // step the scheduler can form.
    o.max_num_seqs = options.engine.max_num_seqs;
    o.max_num_batched_tokens = options.engine.max_num_batched_tokens;
    o.max_model_len = options.engine.max_model_len;
    return engine::make_cuda_executor(options.model_dir, o, error, *quantization);
  }
#else
  if (which == "auto") which = "cpu";
  if (which == "cuda") {
    *error = "executor 'cuda' requested, but this build has no CUDA executor";
    return nullptr;
  }
#endif
  if (which != "cpu") {
    *error = "unknown executor '" + which + "' (expected auto, cpu or cuda)";
    return nullptr;
  }
  engine::cpu_executor_options o;
  o.block_size = options.block_size;
  o.kv_budget_bytes = options.kv_cache_bytes;
  o.num_threads = options.num_threads;
  o.quantization = *quantization;
  return engine::make_cpu_executor(options.model_dir, o, error);
}

std::optional<loaded_worker> load_worker(const node_options& options, std::string* error) {
  auto info = read_worker_model_files(options.model_dir, options.served_model_name,
                                      options.chat_template_override, error);
  if (!info) return std::nullopt;
  auto exec = make_executor(options, error);
  if (!exec) return std::nullopt;
  info->executor = exec->name();
  info->block_size = options.block_size;
  info->max_num_seqs = options.engine.max_num_seqs;
  // The worker masks tokens for guided decoding: it needs each token's bytes.
  auto tokenizer = engine::tokenizer::from_json_text(info->tokenizer_json, error);
  if (!tokenizer) return std::nullopt;
  engine::engine_options engine_options = options.engine;
  engine_options.vocabulary =
      engine::structured::vocabulary_from_tokenizer(*tokenizer, exec->spec().vocab_size);
  loaded_worker w;
  w.engine = std::make_unique<engine::engine>(std::move(exec), engine_options);
  info->max_model_len = w.engine->max_model_len();
  w.info = std::move(*info);
  return w;
}

std::unique_ptr<generation_service> start_local_service(const node_options& options,
                                                        std::string* error) {
  auto worker = load_worker(options, error);
  if (!worker) return nullptr;
  gateway_options g;
  g.num_threads = options.scheduler_threads;
  g.max_in_flight = options.engine.max_num_seqs + options.engine.max_waiting;
  auto service = cluster_service::create(g, error);
  if (!service) return nullptr;
  if (!service->add_local_worker(std::move(worker->engine), std::move(worker->info), error))
    return nullptr;
  return service;
}

}  // namespace troupe::actors
