// The CUDA sampler draws the same tokens as the CPU sampler
// (engine::sample_batch) on the same logits, for every sampling control.
// Skips without a CUDA device.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "actors/engine/exec/cuda_executor_adapter.hpp"
#include "actors/engine/sampling/sampler.hpp"

#if TROUPE_HAVE_CUDA
#include <cuda_runtime_api.h>

#include "gpu/kernels/sampling.hpp"
#endif

using namespace troupe;

namespace {

#if TROUPE_HAVE_CUDA
struct device_mem {
  void* p = nullptr;
  explicit device_mem(size_t n) { EXPECT_EQ(cudaMalloc(&p, n ? n : 1), cudaSuccess); }
  ~device_mem() { cudaFree(p); }
};

// Runs the CUDA sampler over the batch's rows exactly as the executor does.
gpu::step_result cuda_sample(const gpu::step_batch& b, const std::vector<float>& logits, int32_t V) {
  const int32_t S = b.num_seqs;
  std::vector<gpu::kernels::sampling_row> rows(S);
  int32_t max_top = 0;
  bool any_penalty = false, any_random = false;
  for (int32_t s = 0; s < S; ++s) {
    const auto& p = b.sampling[s];
    auto& r = rows[s];
    r.temperature = p.temperature;
    r.top_k = p.top_k;
    r.top_p = p.top_p;
    r.min_p = p.min_p;
    r.repetition_penalty = p.repetition_penalty;
    r.presence_penalty = p.presence_penalty;
    r.frequency_penalty = p.frequency_penalty;
    r.num_top_logprobs = p.num_top_logprobs;
    r.seed = p.seed;
    r.sample_index = b.sample_index[s];
    r.penalty_begin = b.penalty_offsets[s];
    r.penalty_end = b.penalty_offsets[s + 1];
    r.penalty_output_begin = r.penalty_begin + b.penalty_prompt_lens[s];
    if (b.bias_offsets.size() == static_cast<size_t>(S) + 1) {
      r.bias_begin = b.bias_offsets[s];
      r.bias_end = b.bias_offsets[s + 1];
    }
    r.has_mask = s < static_cast<int32_t>(b.has_token_mask.size()) ? b.has_token_mask[s] : 0;
    max_top = std::max(max_top, p.num_top_logprobs);
    any_penalty = true;
    any_random = any_random || p.temperature >= gpu::kernels::kGreedyTemperature;
  }
  device_mem d_logits(logits.size() * 4), d_rows(rows.size() * sizeof(rows[0])),
      d_hist(b.penalty_token_ids.size() * 4), d_tok(S * 4), d_lp(S * 4),
      d_tid(S * std::max(1, max_top) * 4), d_tlp(S * std::max(1, max_top) * 4);
  const size_t ws_bytes = gpu::kernels::sampling_workspace_bytes(S, V);
  device_mem d_ws(ws_bytes);
  cudaMemset(d_ws.p, 0, ws_bytes);
  cudaMemcpy(d_logits.p, logits.data(), logits.size() * 4, cudaMemcpyHostToDevice);
  cudaMemcpy(d_rows.p, rows.data(), rows.size() * sizeof(rows[0]), cudaMemcpyHostToDevice);
  cudaMemcpy(d_hist.p, b.penalty_token_ids.data(), b.penalty_token_ids.size() * 4, cudaMemcpyHostToDevice);
  device_mem d_bias_ids(b.bias_token_ids.size() * 4), d_bias_vals(b.bias_values.size() * 4),
      d_masks(b.allowed_token_masks.size() * 4);
  cudaMemcpy(d_bias_ids.p, b.bias_token_ids.data(), b.bias_token_ids.size() * 4, cudaMemcpyHostToDevice);
  cudaMemcpy(d_bias_vals.p, b.bias_values.data(), b.bias_values.size() * 4, cudaMemcpyHostToDevice);
  cudaMemcpy(d_masks.p, b.allowed_token_masks.data(), b.allowed_token_masks.size() * 4, cudaMemcpyHostToDevice);
  gpu::kernels::sampling_args a;
  a.bias_token_ids = static_cast<const int32_t*>(d_bias_ids.p);
  a.bias_values = static_cast<const float*>(d_bias_vals.p);
  a.allowed_masks = b.allowed_token_masks.empty() ? nullptr : static_cast<const uint32_t*>(d_masks.p);
  a.mask_words = b.mask_words;
  a.any_edit = !b.bias_token_ids.empty() || !b.allowed_token_masks.empty();
  a.logits = static_cast<const float*>(d_logits.p);
  a.rows = static_cast<const gpu::kernels::sampling_row*>(d_rows.p);
  a.penalty_token_ids = static_cast<const int32_t*>(d_hist.p);
  a.num_rows = S;
  a.vocab_size = V;
  a.max_top_logprobs = max_top;
  a.any_penalty = any_penalty;
  a.any_random = any_random;
  a.out_token_ids = static_cast<int32_t*>(d_tok.p);
  a.out_logprobs = static_cast<float*>(d_lp.p);
  a.out_top_ids = static_cast<int32_t*>(d_tid.p);
  a.out_top_logprobs = static_cast<float*>(d_tlp.p);
  EXPECT_EQ(gpu::kernels::launch_sampling(a, d_ws.p, ws_bytes, nullptr), cudaSuccess);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  gpu::step_result r;
  r.sampled_token_ids.resize(S);
  r.sampled_logprobs.resize(S);
  r.max_top_logprobs = max_top;
  r.top_token_ids.resize(static_cast<size_t>(S) * max_top);
  r.top_logprobs.resize(static_cast<size_t>(S) * max_top);
  cudaMemcpy(r.sampled_token_ids.data(), d_tok.p, S * 4, cudaMemcpyDeviceToHost);
  cudaMemcpy(r.sampled_logprobs.data(), d_lp.p, S * 4, cudaMemcpyDeviceToHost);
  cudaMemcpy(r.top_token_ids.data(), d_tid.p, r.top_token_ids.size() * 4, cudaMemcpyDeviceToHost);
  cudaMemcpy(r.top_logprobs.data(), d_tlp.p, r.top_logprobs.size() * 4, cudaMemcpyDeviceToHost);
  return r;
}
#endif

TEST(CudaSampler, DrawsTheSameTokensAsTheCpuSampler) {
  if (!engine::cuda_device_available()) GTEST_SKIP() << "no CUDA device (or built without CUDA)";
#if TROUPE_HAVE_CUDA
  std::mt19937 rng(2024);
  for (int32_t V : {1000, 151936}) {
    gpu::step_batch b;
    b.num_seqs = V > 100000 ? 8 : 96;
    std::normal_distribution<float> logit(0.0f, 2.5f);
    std::uniform_int_distribution<int32_t> tok(0, 60);
    std::vector<float> logits(static_cast<size_t>(b.num_seqs) * V);
    for (auto& x : logits) x = V > 100000 ? logit(rng) : std::round(logit(rng) * 4.0f) / 4.0f;
    b.penalty_offsets.push_back(0);
    for (int32_t s = 0; s < b.num_seqs; ++s) {
      gpu::sequence_sampling p;
      p.temperature = (s % 6 == 0) ? 0.0f : 0.25f + 0.25f * (s % 6);
      p.top_k = (s % 4 == 1) ? 1 + s : 0;
      p.top_p = (s % 3 == 2) ? 0.8f : 1.0f;
      p.min_p = (s % 5 == 3) ? 0.05f : 0.0f;
      p.repetition_penalty = (s % 7 == 4) ? 1.2f : 1.0f;
      p.presence_penalty = (s % 8 == 5) ? 0.5f : 0.0f;
      p.frequency_penalty = (s % 9 == 6) ? 0.3f : 0.0f;
      p.num_top_logprobs = s % 5;
      p.seed = 1000 + s;
      b.sampling.push_back(p);
      b.do_sample.push_back(1);
      b.sample_index.push_back(s % 11);
      const int32_t prompt = 3 + s % 7, output = s % 13;
      for (int32_t i = 0; i < prompt + output; ++i) b.penalty_token_ids.push_back(tok(rng));
      b.penalty_prompt_lens.push_back(prompt);
      b.penalty_offsets.push_back(static_cast<int32_t>(b.penalty_token_ids.size()));
    }
    gpu::step_result cpu;
    engine::sample_batch(b, logits.data(), V, cpu);
    const gpu::step_result gpu_r = cuda_sample(b, logits, V);
    EXPECT_EQ(gpu_r.sampled_token_ids, cpu.sampled_token_ids) << "vocab " << V;
    ASSERT_EQ(gpu_r.max_top_logprobs, cpu.max_top_logprobs);
    EXPECT_EQ(gpu_r.top_token_ids, cpu.top_token_ids) << "vocab " << V;
    for (int32_t s = 0; s < b.num_seqs; ++s)
      EXPECT_FLOAT_EQ(gpu_r.sampled_logprobs[s], cpu.sampled_logprobs[s]) << "row " << s;
  }
#endif
}

TEST(CudaSampler, LogitBiasAndGrammarMasksDrawTheSameTokensAsTheCpuSampler) {
  if (!engine::cuda_device_available()) GTEST_SKIP() << "no CUDA device (or built without CUDA)";
#if TROUPE_HAVE_CUDA
  std::mt19937 rng(77);
  for (int32_t V : {1000, 128256}) {
    gpu::step_batch b;
    b.num_seqs = 24;
    std::normal_distribution<float> logit(0.0f, 2.5f);
    std::uniform_int_distribution<int32_t> tok(0, V - 1);
    std::vector<float> logits(static_cast<size_t>(b.num_seqs) * V);
    for (auto& x : logits) x = logit(rng);
    b.penalty_offsets.push_back(0);
    b.bias_offsets.push_back(0);
    b.mask_words = (V + 31) / 32;
    b.allowed_token_masks.assign(static_cast<size_t>(b.num_seqs) * b.mask_words, 0u);
    for (int32_t s = 0; s < b.num_seqs; ++s) {
      gpu::sequence_sampling p;
      p.temperature = (s % 4 == 0) ? 0.0f : 0.5f + 0.25f * (s % 4);
      p.top_p = (s % 3 == 2) ? 0.9f : 1.0f;
      p.repetition_penalty = (s % 5 == 1) ? 1.3f : 1.0f;
      p.num_top_logprobs = s % 3;
      p.seed = 500 + s;
      b.sampling.push_back(p);
      b.do_sample.push_back(1);
      b.sample_index.push_back(s);
      for (int32_t i = 0; i < 5; ++i) b.penalty_token_ids.push_back(tok(rng));
      b.penalty_prompt_lens.push_back(3);
      b.penalty_offsets.push_back(static_cast<int32_t>(b.penalty_token_ids.size()));
      // Rows 0-7: bias only; 8-15: mask only; 16-23: both (a mask of a few
      // hundred ids, as a grammar state inside a JSON number would allow).
      if (s < 8 || s >= 16) {
        for (int32_t k = 0; k < 6; ++k) {
          b.bias_token_ids.push_back((s * 37 + k * 101) % V);
          b.bias_values.push_back(k % 2 ? -100.0f : 4.0f + k);
        }
      }
      b.bias_offsets.push_back(static_cast<int32_t>(b.bias_token_ids.size()));
      const bool masked = s >= 8;
      b.has_token_mask.push_back(masked ? 1 : 0);
      if (masked)
        for (int32_t k = 0; k < 300; ++k) {
          const int32_t t = (s * 53 + k * 211) % V;
          b.allowed_token_masks[static_cast<size_t>(s) * b.mask_words + (t >> 5)] |= 1u << (t & 31);
        }
    }
    gpu::step_result cpu;
    engine::sample_batch(b, logits.data(), V, cpu);
    const gpu::step_result gpu_r = cuda_sample(b, logits, V);
    EXPECT_EQ(gpu_r.sampled_token_ids, cpu.sampled_token_ids) << "vocab " << V;
    for (int32_t s = 8; s < b.num_seqs; ++s) {
      const int32_t t = gpu_r.sampled_token_ids[s];
      EXPECT_TRUE((b.allowed_token_masks[static_cast<size_t>(s) * b.mask_words + (t >> 5)] >> (t & 31)) & 1u)
          << "row " << s << " drew a masked token";
    }
    for (int32_t s = 0; s < b.num_seqs; ++s)
      EXPECT_FLOAT_EQ(gpu_r.sampled_logprobs[s], cpu.sampled_logprobs[s]) << "row " << s;
  }
#endif
}

}  // namespace
