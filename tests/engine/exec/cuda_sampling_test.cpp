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
  gpu::kernels::sampling_args a;
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

}  // namespace
