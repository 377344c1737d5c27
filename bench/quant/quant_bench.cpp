// Quantized weights against bf16 on the CUDA executor, one checkpoint, each
// mode in turn: decode step time at batch 1/64/256 (context 512) against its
// floor (bytes read / measured copy bandwidth), TTFT of a 1,024-token prompt,
// weight bytes and KV blocks, and the error of the last-position logits of a
// 1,024-token prompt against the bf16 path. Prints a table; asserts nothing.
//
//   quant_bench --model DIR [--modes none,int8,fp8,nf4,fp4,int4] [--quick]
//
// The checkpoint is opened once; its float weights are quantized at load per
// mode (an AWQ checkpoint is measured as such with --modes awq).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#if TROUPE_HAVE_CUDA
#include <cuda_runtime_api.h>

#include "actors/engine/model/checkpoint.hpp"
#include "actors/engine/model/quantized_linear.hpp"
#include "gpu/cuda_executor.hpp"
#endif

#if TROUPE_HAVE_CUDA
namespace {

using namespace troupe;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double copy_bandwidth_bytes_per_s() {
  const size_t bytes = size_t{2} << 30;
  void *a = nullptr, *b = nullptr;
  if (cudaMalloc(&a, bytes) != cudaSuccess || cudaMalloc(&b, bytes) != cudaSuccess) return 0.0;
  cudaMemset(a, 1, bytes);
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  std::vector<double> seconds;
  for (int i = 0; i < 8; ++i) {
    cudaEventRecord(start);
    cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice);
    cudaEventRecord(stop);
    cudaEventSynchronize(stop);
    float ms = 0.0f;
    cudaEventElapsedTime(&ms, start, stop);
    if (i >= 2) seconds.push_back(ms / 1e3);
  }
  cudaFree(a);
  cudaFree(b);
  return 2.0 * bytes / median(seconds);
}

gpu::step_batch decode_batch(int32_t B, int32_t ctx, int32_t block_size, int64_t num_blocks,
                             int32_t vocab) {
  gpu::step_batch b;
  b.num_seqs = B;
  b.block_size = block_size;
  const int32_t blocks_per_seq = (ctx + block_size - 1) / block_size;
  b.max_blocks_per_seq = blocks_per_seq;
  b.query_start_loc.push_back(0);
  for (int32_t s = 0; s < B; ++s) {
    b.token_ids.push_back((s * 7919) % vocab);
    b.positions.push_back(ctx - 1);
    b.query_start_loc.push_back(s + 1);
    b.seq_lens.push_back(ctx);
    for (int32_t j = 0; j < blocks_per_seq; ++j)
      b.block_tables.push_back(static_cast<int32_t>((int64_t{s} * blocks_per_seq + j) % num_blocks));
    b.slot_mapping.push_back(int64_t{b.block_tables.back()} * block_size + (ctx - 1) % block_size);
    b.do_sample.push_back(1);
    gpu::sequence_sampling sp;
    sp.temperature = 0.0f;
    b.sampling.push_back(sp);
    b.sample_index.push_back(0);
  }
  return b;
}

gpu::step_batch prefill_batch(int32_t n, int32_t block_size, int32_t vocab, bool all_logits) {
  gpu::step_batch b = decode_batch(1, n, block_size, 1 << 30, vocab);
  b.token_ids.clear();
  b.positions.clear();
  b.slot_mapping.clear();
  for (int32_t i = 0; i < n; ++i) {
    b.token_ids.push_back((i * 104729) % vocab);
    b.positions.push_back(i);
    b.slot_mapping.push_back(int64_t{b.block_tables[i / block_size]} * block_size + i % block_size);
  }
  b.query_start_loc = {0, n};
  b.return_all_logits = all_logits;
  return b;
}

double time_step_ms(gpu::cuda_executor& exec, const gpu::step_batch& b, int reps) {
  for (int i = 0; i < 3; ++i) exec.execute(b);
  std::vector<double> ms;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = exec.execute(b);
    const auto t1 = std::chrono::steady_clock::now();
    if (r.sampled_token_ids.empty()) {
      std::fprintf(stderr, "step failed: %s\n", exec.last_error().c_str());
      return -1.0;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  return median(ms);
}

struct result_row {
  std::string mode;
  double weight_gb = 0, ready_s = 0, ttft_ms = 0;
  int64_t kv_blocks = 0;
  double ms[3] = {0, 0, 0}, floor_ms[3] = {0, 0, 0};
  double logit_rel_err = 0, logit_max_abs = 0;
  int32_t argmax_agree = 0;
};

}  // namespace

int main(int argc, char** argv) {
  std::string model_dir, modes_arg = "none,int8,fp8,nf4,int4";
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--model" && i + 1 < argc) model_dir = argv[++i];
    else if (a == "--modes" && i + 1 < argc) modes_arg = argv[++i];
    else if (a == "--quick") quick = true;
    else {
      std::fprintf(stderr, "usage: quant_bench --model DIR [--modes none,int8,...] [--quick]\n");
      return 2;
    }
  }
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    std::printf("no CUDA device: nothing to measure\n");
    return 77;
  }
  cudaDeviceProp prop{};
  cudaGetDeviceProperties(&prop, 0);
  const double bw = copy_bandwidth_bytes_per_s();
  std::printf("card: %s, copy bandwidth (read + write) %.3f TB/s\n", prop.name, bw / 1e12);
  std::string error;
  auto ckpt = engine::checkpoint::open(model_dir, &error);
  if (!ckpt) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  const auto& spec = ckpt->spec();
  std::vector<std::string> modes;
  std::stringstream ss(modes_arg);
  for (std::string m; std::getline(ss, m, ',');) modes.push_back(m);
  const int32_t batches[3] = {1, 64, 256};
  const double kv_per_token = 2.0 * spec.num_layers * spec.num_kv_heads * spec.head_dim * 2.0;
  std::vector<float> reference_logits;  // bf16 path, last position of the prompt
  std::vector<result_row> rows;
  for (const auto& mode : modes) {
    result_row row;
    row.mode = mode;
    auto flag = engine::parse_quantization_flag(mode == "none" ? "" : mode, &error);
    if (!flag) return std::fprintf(stderr, "%s\n", error.c_str()), 1;
    auto quant = engine::resolve_quantization(*flag, ckpt->quantization(), &error);
    if (!quant) return std::fprintf(stderr, "%s\n", error.c_str()), 1;
    gpu::cuda_executor_options o;
    o.max_num_seqs = 256;
    o.max_num_batched_tokens = 4096;
    o.verbose = false;
    const auto t0 = std::chrono::steady_clock::now();
    gpu::quantized_linears linears;
    if (quant->active()) {
      if (auto err = engine::read_quantized_linears(spec, ckpt->weights(), *quant, linears); !err.empty())
        return std::fprintf(stderr, "%s: %s\n", mode.c_str(), err.c_str()), 1;
    }
    auto exec = gpu::cuda_executor::create(spec, ckpt->weights(), o, &error,
                                           quant->active() ? &linears : nullptr);
    linears.clear();
    if (!exec) return std::fprintf(stderr, "%s: %s\n", mode.c_str(), error.c_str()), 1;
    row.ready_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    exec->fill_kv_random(2);
    row.weight_gb = exec->weight_bytes() / 1e9;
    row.kv_blocks = exec->num_kv_blocks();
    std::printf("[%s] %s; ready in %.1f s\n", mode.c_str(), exec->memory_plan().c_str(), row.ready_s);
    // Bytes a decode step reads: every weight but the embedding table.
    const double weight_read = static_cast<double>(exec->weight_bytes()) -
                               static_cast<double>(spec.vocab_size) * spec.hidden_size * 2.0;
    for (int i = 0; i < 3; ++i) {
      const auto b = decode_batch(batches[i], 512, exec->block_size(), exec->num_kv_blocks(), spec.vocab_size);
      row.ms[i] = time_step_ms(*exec, b, quick ? 8 : 20);
      row.floor_ms[i] = (weight_read + kv_per_token * batches[i] * 512) / bw * 1e3;
      std::printf("[%s] decode batch %d ctx 512: %.3f ms (floor %.3f)\n", mode.c_str(), batches[i],
                  row.ms[i], row.floor_ms[i]);
      std::fflush(stdout);
    }
    const auto prompt = prefill_batch(1024, exec->block_size(), spec.vocab_size, false);
    row.ttft_ms = time_step_ms(*exec, prompt, quick ? 3 : 5);
    // Logits of the whole prompt; compare the last position with bf16.
    auto r = exec->execute(prefill_batch(1024, exec->block_size(), spec.vocab_size, true));
    const size_t V = static_cast<size_t>(spec.vocab_size);
    if (r.logits.size() >= V) {
      std::vector<float> last(r.logits.end() - static_cast<std::ptrdiff_t>(V), r.logits.end());
      if (reference_logits.empty() && mode == "none") reference_logits = last;
      if (!reference_logits.empty()) {
        double num = 0, den = 0, max_abs = 0;
        for (size_t i = 0; i < V; ++i) {
          const double d = last[i] - reference_logits[i];
          num += d * d;
          den += double(reference_logits[i]) * reference_logits[i];
          max_abs = std::max(max_abs, std::fabs(d));
        }
        row.logit_rel_err = std::sqrt(num / std::max(den, 1e-30));
        row.logit_max_abs = max_abs;
        row.argmax_agree = std::max_element(last.begin(), last.end()) - last.begin() ==
                           std::max_element(reference_logits.begin(), reference_logits.end()) -
                               reference_logits.begin();
      }
    }
    rows.push_back(row);
  }
  const double base1 = rows.empty() ? 0 : rows.front().ms[0];
  std::printf("\n| mode | weights GB | KV blocks | B=1 ms (floor, x bf16 speed) | B=64 ms (floor) | "
              "B=256 ms (floor) | TTFT 1024 ms | logits rel. err vs bf16 (max abs, argmax same) |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  for (const auto& r : rows)
    std::printf("| %s | %.2f | %lld | %.3f (%.3f, %.2fx) | %.3f (%.3f) | %.3f (%.3f) | %.1f | %.4f (%.3f, %s) |\n",
                r.mode.c_str(), r.weight_gb, static_cast<long long>(r.kv_blocks), r.ms[0],
                r.floor_ms[0], base1 / r.ms[0], r.ms[1], r.floor_ms[1], r.ms[2], r.floor_ms[2],
                r.ttft_ms, r.logit_rel_err, r.logit_max_abs, r.argmax_agree ? "yes" : "no");
  std::printf("card: %s; copy bandwidth %.3f TB/s; decode context 512; first row is the baseline\n",
              prop.name, bw / 1e12);
  return 0;
}
#else
int main() {
  std::printf("quant_bench needs a build with CUDA\n");
  return 77;
}
#endif
