// GPU benchmark of the CUDA executor on a Llama-3-8B-shaped model with random
// bf16 weights generated on the device. Prints the card, the measured
// device-to-device copy bandwidth, decode step time per batch size and
// context against the floor (weight bytes + KV bytes read) / bandwidth, and
// the time to first token of a 1,024-token prompt.
//
//   troupe_gpu_bench [--quick]      (--quick: fewer batch sizes, for smoke runs)
#include <cuda_runtime_api.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "gpu/cuda_executor.hpp"

namespace {

using troupe::gpu::cuda_executor;
using troupe::gpu::model_spec;
using troupe::gpu::step_batch;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// (bytes read + bytes written) / time of a large device-to-device copy.
double copy_bandwidth_bytes_per_s() {
  const size_t bytes = size_t{2} << 30;
  void *a = nullptr, *b = nullptr;
  if (cudaMalloc(&a, bytes) != cudaSuccess || cudaMalloc(&b, bytes) != cudaSuccess) return 0.0;
  cudaMemset(a, 1, bytes);
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  std::vector<double> seconds;
  for (int i = 0; i < 12; ++i) {
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

model_spec llama3_8b() {
  model_spec s;
  s.architecture = "LlamaForCausalLM";
  s.vocab_size = 128256;
  s.hidden_size = 4096;
  s.intermediate_size = 14336;
  s.num_layers = 32;
  s.num_heads = 32;
  s.num_kv_heads = 8;
  s.head_dim = 128;
  s.max_position_embeddings = 8192;
  s.rms_norm_eps = 1e-5f;
  s.rope.theta = 500000.0f;
  s.rope.scaling = troupe::gpu::rope_scaling_kind::llama3;
  s.rope.factor = 8.0f;
  s.tie_word_embeddings = false;
  return s;
}

// B sequences of context ctx, each decoding one token; blocks wrap around the
// pool when B * ctx exceeds it (reads stay the same size).
step_batch decode_batch(int32_t B, int32_t ctx, int32_t block_size, int64_t num_blocks) {
  step_batch b;
  b.num_seqs = B;
  b.block_size = block_size;
  const int32_t blocks_per_seq = (ctx + block_size - 1) / block_size;
  b.max_blocks_per_seq = blocks_per_seq;
  b.query_start_loc.push_back(0);
  for (int32_t s = 0; s < B; ++s) {
    b.token_ids.push_back((s * 7919) % 128000);
    b.positions.push_back(ctx - 1);
    b.query_start_loc.push_back(s + 1);
    b.seq_lens.push_back(ctx);
    for (int32_t j = 0; j < blocks_per_seq; ++j)
      b.block_tables.push_back(static_cast<int32_t>((int64_t{s} * blocks_per_seq + j) % num_blocks));
    const int64_t last_block = b.block_tables.back();
    b.slot_mapping.push_back(last_block * block_size + (ctx - 1) % block_size);
    b.do_sample.push_back(1);
    troupe::gpu::sequence_sampling sp;
    sp.temperature = 0.0f;
    b.sampling.push_back(sp);
    b.sample_index.push_back(0);
  }
  return b;
}

step_batch prefill_batch(int32_t n, int32_t block_size) {
  step_batch b = decode_batch(1, n, block_size, 1 << 30);
  b.token_ids.clear();
  b.positions.clear();
  b.slot_mapping.clear();
  for (int32_t i = 0; i < n; ++i) {
    b.token_ids.push_back((i * 104729) % 128000);
    b.positions.push_back(i);
    b.slot_mapping.push_back(int64_t{b.block_tables[i / block_size]} * block_size + i % block_size);
  }
  b.query_start_loc = {0, n};
  return b;
}

double time_step_ms(cuda_executor& exec, const step_batch& b, int reps) {
  for (int i = 0; i < 3; ++i) exec.execute(b);  // warm-up, graph capture
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

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    std::printf("no CUDA device: nothing to measure\n");
    return 77;
  }
  cudaDeviceProp prop{};
  cudaGetDeviceProperties(&prop, 0);
  const double bw = copy_bandwidth_bytes_per_s();
  std::printf("card: %s (%d SMs, %.1f GiB)\n", prop.name, prop.multiProcessorCount,
              prop.totalGlobalMem / 1073741824.0);
  std::printf("device-to-device copy bandwidth (read + write): %.3f TB/s\n", bw / 1e12);

  const model_spec spec = llama3_8b();
  troupe::gpu::cuda_executor_options o;
  o.max_num_seqs = 256;
  o.max_num_batched_tokens = 4096;
  std::string err;
  const auto t0 = std::chrono::steady_clock::now();
  auto exec = cuda_executor::create_random(spec, 1, o, &err);
  if (!exec) {
    std::printf("executor: %s\n", err.c_str());
    return 1;
  }
  if (auto e = exec->fill_kv_random(2); !e.empty()) {
    std::printf("kv fill: %s\n", e.c_str());
    return 1;
  }
  const double ready_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%s\nready in %.2f s (random weights made on the device)\n",
              exec->memory_plan().c_str(), ready_s);

  // Bytes one decode step must read: every weight except the embedding table.
  const double weight_read = static_cast<double>(exec->weight_bytes()) -
                             static_cast<double>(spec.vocab_size) * spec.hidden_size * 2.0;
  const double kv_per_token = 2.0 * spec.num_layers * spec.num_kv_heads * spec.head_dim * 2.0;

  const std::vector<int32_t> batches =
      quick ? std::vector<int32_t>{1, 64} : std::vector<int32_t>{1, 8, 32, 64, 128, 256};
  struct row { int32_t batch, ctx; double ms, floor_ms; bool wrapped; };
  std::vector<row> rows;
  for (int32_t ctx : {512, 2048})
    for (int32_t B : batches) {
      const step_batch b = decode_batch(B, ctx, exec->block_size(), exec->num_kv_blocks());
      const bool wrapped = int64_t{B} * ((ctx + 15) / 16) > exec->num_kv_blocks();
      const double ms = time_step_ms(*exec, b, quick ? 10 : 30);
      const double floor_ms = (weight_read + kv_per_token * B * ctx) / bw * 1e3;
      rows.push_back({B, ctx, ms, floor_ms, wrapped});
      std::printf("decode batch %3d ctx %4d: %.3f ms/step (floor %.3f ms, %.2fx)%s\n", B, ctx, ms,
                  floor_ms, ms / floor_ms, wrapped ? " [KV blocks shared: pool smaller than B*ctx]" : "");
      std::fflush(stdout);
    }

  const step_batch p = prefill_batch(1024, exec->block_size());
  const double ttft_ms = time_step_ms(*exec, p, 5);

  // Where the time goes: device time per phase of one eager step.
  struct profiled { const char* what; step_batch batch; };
  const profiled cases[] = {
      {"decode B=1 ctx=512", decode_batch(1, 512, exec->block_size(), exec->num_kv_blocks())},
      {"decode B=64 ctx=2048", decode_batch(64, 2048, exec->block_size(), exec->num_kv_blocks())},
      {"decode B=256 ctx=512", decode_batch(256, 512, exec->block_size(), exec->num_kv_blocks())},
      {"prefill 1024", p}};
  std::printf("\nphase breakdown (device ms, eager step with an event after every op):\n");
  for (const profiled& c : cases) {
    std::vector<std::pair<std::string, double>> ms;
    exec->profile(c.batch, &ms);  // warm
    if (auto e = exec->profile(c.batch, &ms); !e.empty()) std::printf("profile: %s\n", e.c_str());
    double total = 0.0;
    std::printf("  %-22s", c.what);
    for (const auto& [name, t] : ms) {
      std::printf(" %s %.3f", name.c_str(), t);
      total += t;
    }
    std::printf(" | total %.3f\n", total);
  }

  std::printf("\n| batch | ctx | step ms | floor ms | x floor | tok/s |\n|---|---|---|---|---|---|\n");
  for (const row& r : rows)
    std::printf("| %d | %d | %.3f | %.3f | %.2f | %.0f |\n", r.batch, r.ctx, r.ms, r.floor_ms,
                r.ms / r.floor_ms, r.batch / r.ms * 1e3);
  std::printf("TTFT (1,024-token prompt, one step incl. sampling): %.2f ms\n", ttft_ms);
  std::printf("card: %s; copy bandwidth %.3f TB/s\n", prop.name, bw / 1e12);
  return 0;
}
