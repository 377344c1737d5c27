#include "actors/engine/exec/cpu_executor.hpp"

#include <algorithm>
#include <cstring>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "actors/engine/exec/cpu_kernels.hpp"
#include "actors/engine/exec/paged_attention.hpp"
#include "actors/engine/exec/rope.hpp"
#include "actors/engine/model/checkpoint.hpp"
#include "actors/engine/sampling/sampler.hpp"

namespace troupe::engine {
namespace {

int64_t kv_bytes_per_block(const gpu::model_spec& spec, int32_t block_size) {
  return int64_t{spec.num_layers} * 2 * block_size * spec.num_kv_heads * spec.head_dim *
         static_cast<int64_t>(sizeof(float));
}

int64_t blocks_for(const gpu::model_spec& spec, const cpu_executor_options& options) {
  if (options.num_kv_blocks > 0) return options.num_kv_blocks;
  return options.kv_budget_bytes / kv_bytes_per_block(spec, options.block_size);
}

}  // namespace

cpu_executor::cpu_executor(const gpu::model_spec& spec, cpu::model_weights weights,
                           const cpu_executor_options& options)
    : spec_(spec),
      weights_(std::move(weights)),
      inv_freq_(cpu::rope_inv_freq(spec.rope, spec.head_dim)),
      pool_(options.num_threads),
      observe_(options.observe_linear_input) {
  layout_.num_blocks = blocks_for(spec, options);
  layout_.block_size = options.block_size;
  layout_.num_kv_heads = spec.num_kv_heads;
  layout_.head_dim = spec.head_dim;
  // Left uninitialised: a slot is always written before any query reads it.
  for (int32_t l = 0; l < spec.num_layers; ++l)
    kv_.push_back(std::make_unique_for_overwrite<float[]>(
        static_cast<std::size_t>(layout_.elements_per_layer())));
}

std::unique_ptr<cpu_executor> cpu_executor::create(const gpu::model_spec& spec,
                                                   const gpu::weight_map& weights,
                                                   const cpu_executor_options& options,
                                                   std::string* error) {
  auto fail = [&](const std::string& message) {
    if (error) *error = message;
    return nullptr;
  };
  const bool quantized_linears = options.quantization.stored != checkpoint_quant::none;
  if (!check_weights(spec, weights, error, quantized_linears)) return nullptr;
  if (options.block_size <= 0) return fail("block_size must be positive");
  if (blocks_for(spec, options) <= 0)
    return fail("KV cache budget of " + std::to_string(options.kv_budget_bytes) +
                " bytes holds no block of " +
                std::to_string(kv_bytes_per_block(spec, options.block_size)) + " bytes");
  cpu::model_weights converted;
  if (auto err = cpu::convert_weights(spec, weights, options.quantization, converted); !err.empty())
    return fail(err);
  return std::make_unique<cpu_executor>(spec, std::move(converted), options);
}

void cpu_executor::run_layer(int32_t layer, const gpu::step_batch& batch) {
  const auto& w = weights_.layers[layer];
  const int64_t t = batch.num_tokens();
  const int64_t h = spec_.hidden_size;
  const int64_t q_dim = int64_t{spec_.num_heads} * spec_.head_dim;
  const int64_t kv_dim = int64_t{spec_.num_kv_heads} * spec_.head_dim;
  const int64_t qkv_dim = q_dim + 2 * kv_dim;
  const int64_t inter = spec_.intermediate_size;

  cpu::rms_norm(hidden_.data(), w.input_norm.data(), t, h, spec_.rms_norm_eps, normed_.data());
  if (observe_) observe_(layer, linear_site::qkv, normed_.data(), t, h);
  cpu::matmul(normed_.data(), t, w.qkv, w.qkv_bias.empty() ? nullptr : w.qkv_bias.data(),
              qkv_.data(), pool_);
  std::vector<float> cos_half(inv_freq_.size()), sin_half(inv_freq_.size());
  for (int64_t i = 0; i < t; ++i) {
    cpu::rope_angles(inv_freq_, batch.positions[i], cos_half.data(), sin_half.data());
    float* row = qkv_.data() + i * qkv_dim;
    cpu::apply_rope(row, spec_.num_heads, spec_.head_dim, cos_half.data(), sin_half.data());
    cpu::apply_rope(row + q_dim, spec_.num_kv_heads, spec_.head_dim, cos_half.data(),
                    sin_half.data());
  }
  float* cache = kv_[layer].get();
  cpu::write_kv(layout_, batch, qkv_.data() + q_dim, qkv_.data() + q_dim + kv_dim, qkv_dim, cache);
  cpu::attend(layout_, batch, qkv_.data(), qkv_dim, spec_.num_heads, cache, attn_.data(), pool_);
  if (observe_) observe_(layer, linear_site::o_proj, attn_.data(), t, q_dim);
  cpu::matmul(attn_.data(), t, w.o_proj, nullptr, proj_.data(), pool_);
  cpu::add_inplace(hidden_.data(), proj_.data(), t * h);

  cpu::rms_norm(hidden_.data(), w.post_norm.data(), t, h, spec_.rms_norm_eps, normed_.data());
  if (observe_) observe_(layer, linear_site::gate_up, normed_.data(), t, h);
  cpu::matmul(normed_.data(), t, w.gate_up, nullptr, gate_up_.data(), pool_);
  cpu::silu_mul(gate_up_.data(), t, inter, act_.data());
  if (observe_) observe_(layer, linear_site::down, act_.data(), t, inter);
  cpu::matmul(act_.data(), t, w.down, nullptr, proj_.data(), pool_);
  cpu::add_inplace(hidden_.data(), proj_.data(), t * h);
}

namespace {

// Sizes one step-scratch buffer. Buffers follow the largest step seen; one
// holding more than 4x what this step needs (and 16 MiB over it) is released
// first, so that a burst of concurrent requests (logits alone are
// [max_num_seqs, vocab] floats: 128 MiB for 256 sequences of a 128k vocab)
// does not stay resident for the life of the server once the load is gone.
// Returns true when it released memory.
bool fit(std::vector<float>& v, std::size_t n) {
  constexpr std::size_t slack = (std::size_t{16} << 20) / sizeof(float);
  bool released = false;
  if (v.capacity() > 4 * n + slack) {
    std::vector<float>().swap(v);
    released = true;
  }
  v.resize(n);
  return released;
}

// Hands freed heap pages back to the kernel: glibc keeps freed chunks below
// its (adaptive, up to 32 MiB) mmap threshold in its arenas otherwise.
void return_freed_memory() {
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}

}  // namespace

void cpu_executor::compute_logits(const std::vector<int32_t>& rows, float* logits) {
  const int64_t h = spec_.hidden_size;
  const auto m = static_cast<int64_t>(rows.size());
  if (m == 0) return;
  for (int64_t r = 0; r < m; ++r)
    cpu::rms_norm(hidden_.data() + rows[r] * h, weights_.final_norm.data(), 1, h,
                  spec_.rms_norm_eps, normed_.data() + r * h);
  const auto& head = spec_.tie_word_embeddings ? weights_.embed : weights_.lm_head;
  cpu::matmul(normed_.data(), m, head, nullptr, logits, pool_);
}

void cpu_executor::forward(const gpu::step_batch& batch, const std::vector<int32_t>& rows,
                           float* logits) {
  const int64_t t = batch.num_tokens();
  const int64_t h = spec_.hidden_size;
  const int64_t q_dim = int64_t{spec_.num_heads} * spec_.head_dim;
  const int64_t kv_dim = int64_t{spec_.num_kv_heads} * spec_.head_dim;
  bool released = fit(hidden_, t * h);
  released |= fit(normed_, std::max<int64_t>(t, static_cast<int64_t>(rows.size())) * h);
  released |= fit(qkv_, t * (q_dim + 2 * kv_dim));
  released |= fit(attn_, t * q_dim);
  released |= fit(proj_, t * h);
  released |= fit(gate_up_, t * 2 * spec_.intermediate_size);
  released |= fit(act_, t * spec_.intermediate_size);
  if (released) return_freed_memory();

  for (int64_t i = 0; i < t; ++i) weights_.embed.copy_row(batch.token_ids[i], hidden_.data() + i * h);
  for (int32_t l = 0; l < spec_.num_layers; ++l) run_layer(l, batch);
  compute_logits(rows, logits);
}

expected<gpu::step_result> cpu_executor::try_execute(const gpu::step_batch& batch) {
  const int64_t vocab = spec_.vocab_size;
  gpu::step_result result;
  // Sampling reads one row per sequence: its last token row, where it samples.
  std::vector<int32_t> sample_rows;
  std::vector<int32_t> sampled_seqs;
  for (int32_t s = 0; s < batch.num_seqs; ++s) {
    if (batch.do_sample[s] && batch.query_start_loc[s + 1] > batch.query_start_loc[s]) {
      sample_rows.push_back(batch.query_start_loc[s + 1] - 1);
      sampled_seqs.push_back(s);
    }
  }
  const float* sampled_logits = nullptr;  // row i: sequence sampled_seqs[i]
  if (batch.return_all_logits) {
    std::vector<int32_t> rows(static_cast<std::size_t>(batch.num_tokens()));
    for (int32_t i = 0; i < batch.num_tokens(); ++i) rows[i] = i;
    result.logits.resize(rows.size() * vocab);
    forward(batch, rows, result.logits.data());
    if (fit(logits_, sample_rows.size() * vocab)) return_freed_memory();
    for (std::size_t i = 0; i < sample_rows.size(); ++i)
      std::memcpy(logits_.data() + i * vocab, result.logits.data() + sample_rows[i] * vocab,
                  vocab * sizeof(float));
  } else {
    if (fit(logits_, sample_rows.size() * vocab)) return_freed_memory();
    forward(batch, sample_rows, logits_.data());
  }
  sampled_logits = logits_.data();

  // sample_batch wants row s for sequence s; rows of sequences that do not
  // sample are ignored, so when every sequence samples no copy is needed.
  if (static_cast<int32_t>(sampled_seqs.size()) != batch.num_seqs) {
    if (fit(seq_logits_, static_cast<std::size_t>(batch.num_seqs) * vocab)) return_freed_memory();
    for (std::size_t i = 0; i < sampled_seqs.size(); ++i)
      std::memcpy(seq_logits_.data() + sampled_seqs[i] * vocab, logits_.data() + i * vocab,
                  vocab * sizeof(float));
    sampled_logits = seq_logits_.data();
  } else if (fit(seq_logits_, 0)) {
    return_freed_memory();
  }
  sample_batch(batch, sampled_logits, spec_.vocab_size, result);
  return result;
}

void cpu_executor::release_idle_memory() {
  for (auto* v : {&hidden_, &normed_, &qkv_, &attn_, &proj_, &gate_up_, &act_, &logits_, &seq_logits_})
    std::vector<float>().swap(*v);
  return_freed_memory();
}

std::unique_ptr<executor> make_cpu_executor(const std::string& model_dir,
                                            const cpu_executor_options& options,
                                            std::string* error) {
  auto ckpt = checkpoint::open(model_dir, error);
  if (!ckpt) return nullptr;
  cpu_executor_options resolved = options;
  auto quant = resolve_quantization(options.quantization, ckpt->quantization(), error);
  if (!quant) return nullptr;
  resolved.quantization = *quant;
  return cpu_executor::create(ckpt->spec(), ckpt->weights(), resolved, error);
}

}  // namespace troupe::engine
