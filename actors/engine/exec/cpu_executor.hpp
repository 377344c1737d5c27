#pragma once
// The CPU reference executor: the Llama-family forward pass in fp32 over the
// paged KV cache of gpu/kv_layout.hpp, then engine::sample_batch. It is the
// numerical reference the CUDA executor is tested against, and a usable
// backend for small models.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "actors/engine/exec/cpu_weights.hpp"
#include "actors/engine/exec/executor.hpp"
#include "actors/engine/exec/thread_pool.hpp"
#include "gpu/kv_layout.hpp"
#include "gpu/weight_map.hpp"

namespace troupe::engine {

// The Linear inputs of one decoder layer.
enum class linear_site : int32_t { qkv = 0, o_proj = 1, gate_up = 2, down = 3 };

struct cpu_executor_options {
  int32_t block_size = 16;
  // KV cache size: num_kv_blocks when > 0, else as many blocks as fit in
  // kv_budget_bytes (fp32 K and V of every layer).
  int64_t num_kv_blocks = 0;
  int64_t kv_budget_bytes = int64_t{256} << 20;
  int32_t num_threads = 0;  // 0 => all hardware threads
  // Weight quantization (docs/quantization.md). make_cpu_executor resolves the
  // --quantization flag given here against the checkpoint's
  // quantization_config; create() takes it as resolved.
  quantization_config quantization;
  // Called with the input of every Linear of the layers before it runs
  // (calibration for `troupe quantize awq`); empty: nothing is called.
  // x is [num_rows, num_cols] fp32; site names the Linear(s) it feeds.
  std::function<void(int32_t layer, linear_site site, const float* x, int64_t num_rows,
                     int64_t num_cols)>
      observe_linear_input;
};

class cpu_executor final : public executor {
 public:
  // Takes converted weights (create() converts and checks them).
  cpu_executor(const gpu::model_spec& spec, cpu::model_weights weights,
               const cpu_executor_options& options);

  // Validates the weights and options first; nullptr and a message on error.
  static std::unique_ptr<cpu_executor> create(const gpu::model_spec& spec,
                                              const gpu::weight_map& weights,
                                              const cpu_executor_options& options,
                                              std::string* error);

  std::string name() const override { return "cpu"; }
  const gpu::model_spec& spec() const override { return spec_; }
  int64_t num_kv_blocks() const override { return layout_.num_blocks; }
  int32_t block_size() const override { return layout_.block_size; }
  // Also requires every token id < spec().vocab_size.
  expected<gpu::step_result> try_execute(const gpu::step_batch& batch) override;
  void release_idle_memory() override;
  bool supports_token_masks() const override { return true; }

 private:
  // The forward pass: writes the batch's K/V to the cache and the fp32 logits
  // of the given token rows to logits ([rows.size(), vocab_size]).
  void forward(const gpu::step_batch& batch, const std::vector<int32_t>& rows, float* logits);
  void run_layer(int32_t layer, const gpu::step_batch& batch);
  void compute_logits(const std::vector<int32_t>& rows, float* logits);

  gpu::model_spec spec_;
  gpu::kv_layout layout_;
  cpu::model_weights weights_;
  std::vector<float> inv_freq_;                 // [head_dim / 2]
  std::vector<std::unique_ptr<float[]>> kv_;    // [num_layers] of layout_.elements_per_layer()
  thread_pool pool_;
  std::function<void(int32_t, linear_site, const float*, int64_t, int64_t)> observe_;

  // Step scratch, [num_tokens, *]; kept between steps to avoid reallocation,
  // released when far larger than the step at hand (see fit() in the .cpp).
  std::vector<float> hidden_, normed_, qkv_, attn_, proj_, gate_up_, act_;
  std::vector<float> logits_;      // [sampled sequences, vocab]
  std::vector<float> seq_logits_;  // [num_seqs, vocab] when some sequence does not sample
};

// Opens the Hugging Face checkpoint in `model_dir` and builds a CPU executor
// from it; nullptr and a message naming the problem on failure.
std::unique_ptr<executor> make_cpu_executor(const std::string& model_dir,
                                            const cpu_executor_options& options,
                                            std::string* error);

}  // namespace troupe::engine
