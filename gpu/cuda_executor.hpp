#pragma once
// The CUDA executor: runs one model step (forward pass over a step_batch with
// the paged KV cache it owns, then on-device sampling) on one GPU. Mirrors
// engine::executor (actors/engine/exec/cuda_executor_adapter wraps it) but
// depends on nothing outside gpu/. No CUDA headers here: the engine includes it.
//
// A step: upload the batch's index arrays in one copy; embedding gather; per
// layer RMSNorm (fused with the residual add) -> fused QKV GEMM (+bias) ->
// RoPE -> KV write through slot_mapping -> paged attention -> O GEMM ->
// RMSNorm -> fused gate/up GEMM -> SiLU-and-mul -> down GEMM; final norm;
// LM head on the last row of each sequence; sampling. Decode-only batches run
// as a CUDA graph captured lazily per batch-size bucket.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gpu/model_spec.hpp"
#include "gpu/quant_matrix.hpp"
#include "gpu/step_batch.hpp"
#include "gpu/weight_map.hpp"

namespace troupe::gpu {

struct cuda_executor_options {
  int32_t device = 0;
  // Fraction of the card's memory the executor may use in all (weights,
  // activations, workspaces, KV cache).
  double gpu_memory_utilization = 0.9;
  int32_t block_size = 16;
  int32_t max_num_seqs = 256;            // sequences per step
  int32_t max_num_batched_tokens = 8192; // token rows per step
  int32_t max_model_len = 0;             // 0: spec.max_position_embeddings
  int64_t max_kv_blocks = 0;             // 0: as many as memory allows
  bool enable_cuda_graphs = true;
  // GEMMs of at most this many token rows use the GEMV kernel (see gpu/gemm.hpp).
  int32_t gemv_max_rows = 1;
  bool verbose = true;                   // progress and memory plan on stderr
};

class cuda_executor {
 public:
  // Loads `weights` (host views, e.g. memory-mapped safetensors) onto the
  // device. With `quantized` (one entry per layer, docs/quantization.md) the
  // layers' Linear weights come from it instead and run on the quantized
  // kernels. Returns nullptr and sets *error on failure.
  static std::unique_ptr<cuda_executor> create(const model_spec& spec, const weight_map& weights,
                                               const cuda_executor_options& options,
                                               std::string* error,
                                               const quantized_linears* quantized = nullptr);
  // Same model shape with random weights generated on the device (benchmarks).
  static std::unique_ptr<cuda_executor> create_random(const model_spec& spec, uint64_t seed,
                                                      const cuda_executor_options& options,
                                                      std::string* error);
  ~cuda_executor();

  const model_spec& spec() const;
  int64_t num_kv_blocks() const;
  int32_t block_size() const;
  // One line: weights, activations, KV blocks, max tokens in KV.
  const std::string& memory_plan() const;

  // Runs one step (see gpu/step_batch.hpp). On a CUDA error the result is
  // empty and last_error() says why.
  step_result execute(const step_batch& batch);
  const std::string& last_error() const;

  // Benchmarks: fills the whole KV cache with random values (timing on
  // zeros is not representative). Returns "" or an error.
  std::string fill_kv_random(uint64_t seed);
  // Runs `batch` eagerly (no graph) with an event after every operation and
  // returns the device milliseconds spent per phase (upload, embedding,
  // rmsnorm, gemm, rope+kv, attention, silu*mul, lm_head, sampling).
  std::string profile(const step_batch& batch,
                      std::vector<std::pair<std::string, double>>* ms_by_phase);
  // Device memory held by the weights, in bytes.
  int64_t weight_bytes() const;

  struct impl;

 private:
  explicit cuda_executor(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

// True when the CUDA runtime sees at least one device.
bool cuda_device_count_positive(std::string* reason);

}  // namespace troupe::gpu
