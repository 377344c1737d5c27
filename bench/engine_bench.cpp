// Throughput of the engine loop (schedule, build the step batch, sample,
// bookkeeping) with a synthetic executor whose forward pass costs only the
// logits it writes, and, where a CPU executor and a model are available, with
// a real model. Prints figures; asserts nothing.
//
//   engine_bench [--requests=N] [--prompt=N] [--output=N] [--max-seqs=N]
//                [--budget=N] [--vocab=N] [--blocks=N] [--temperature=T]
//                [--step-ms=X] [--model=DIR] [--executor=cpu|cuda]
//                [--quantization=none|int8|fp8|nf4|fp4|int4|awq]
//                [--fixed-output] [--only-continuous]
//
// The offline throughput figure of the GPU issue (500 requests of 202 prompt
// and 179 output tokens, all submitted at once):
//   engine_bench --executor=cuda --model=DIR --requests=500 --prompt=202
//                --output=179 --fixed-output --max-seqs=256 --budget=8192
//                --blocks=0 --only-continuous
//
// --step-ms gives the synthetic forward pass a fixed floor per step, as a
// memory-bound decode has (every weight read once per step whatever the batch),
// so that batching policies can be compared in tokens/s and not only in steps.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "actors/engine/engine.hpp"
#include "actors/engine/sampling/sampler.hpp"

#include "actors/engine/exec/cuda_executor_adapter.hpp"
#if __has_include("actors/engine/exec/cpu_executor.hpp")
#include "actors/engine/exec/cpu_executor.hpp"
#define TROUPE_BENCH_HAVE_CPU_EXECUTOR 1
#endif

namespace {

using namespace troupe;
using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

// Logits are a cheap hash of (context length, last token, id): a flat tail in
// [-4, 4) with four peaks; the KV cache is not modelled. Times the sampler separately.
class synthetic_executor final : public engine::executor {
 public:
  synthetic_executor(int32_t vocab_size, int64_t num_blocks, int32_t block_size, double step_ms)
      : num_blocks_(num_blocks), block_size_(block_size), step_ms_(step_ms) {
    spec_.architecture = "Synthetic";
    spec_.vocab_size = vocab_size;
  }
  std::string name() const override { return "synthetic"; }
  const gpu::model_spec& spec() const override { return spec_; }
  int64_t num_kv_blocks() const override { return num_blocks_; }
  int32_t block_size() const override { return block_size_; }

  engine::expected<gpu::step_result> try_execute(const gpu::step_batch& batch) override {
    const auto start = clock_type::now();
    const int32_t vocab = spec_.vocab_size;
    logits_.assign(static_cast<size_t>(batch.num_seqs) * vocab, 0.0f);
    for (int32_t s = 0; s < batch.num_seqs; ++s) {
      if (!batch.do_sample[s]) continue;
      const uint32_t last = static_cast<uint32_t>(batch.token_ids[batch.query_start_loc[s + 1] - 1]);
      uint32_t x = last * 2654435761u + static_cast<uint32_t>(batch.seq_lens[s]) * 40503u;
      float* row = logits_.data() + static_cast<size_t>(s) * vocab;
      for (int32_t v = 0; v < vocab; ++v) {
        x = x * 1664525u + 1013904223u;
        row[v] = static_cast<float>(x >> 8) * (8.0f / 16777216.0f) - 4.0f;
      }
      // A few likely tokens over a flat tail, as language models tend to have.
      for (int32_t peak = 0; peak < 4; ++peak) {
        x = x * 1664525u + 1013904223u;
        row[(x >> 8) % static_cast<uint32_t>(vocab)] += 9.0f - 2.0f * peak;
      }
    }
    const auto t0 = clock_type::now();
    gpu::step_result result;
    engine::sample_batch(batch, logits_.data(), vocab, result);
    sampler_seconds += seconds_since(t0);
    while (1e3 * seconds_since(start) < step_ms_) {
    }
    return result;
  }

  double sampler_seconds = 0;

 private:
  gpu::model_spec spec_;
  int64_t num_blocks_;
  int32_t block_size_;
  double step_ms_;
  std::vector<float> logits_;
};

// Forwards to another executor, timing it.
class timed_executor final : public engine::executor {
 public:
  explicit timed_executor(std::unique_ptr<engine::executor> inner) : inner_(std::move(inner)) {}
  std::string name() const override { return inner_->name(); }
  const gpu::model_spec& spec() const override { return inner_->spec(); }
  int64_t num_kv_blocks() const override { return inner_->num_kv_blocks(); }
  int32_t block_size() const override { return inner_->block_size(); }
  engine::expected<gpu::step_result> try_execute(const gpu::step_batch& batch) override {
    const auto t0 = clock_type::now();
    engine::expected<gpu::step_result> r = inner_->try_execute(batch);
    execute_seconds += seconds_since(t0);
    return r;
  }
  engine::executor& inner() { return *inner_; }
  double execute_seconds = 0;

 private:
  std::unique_ptr<engine::executor> inner_;
};

struct bench_args {
  int32_t num_requests = 256;
  int32_t prompt_len = 128;
  int32_t output_len = 128;
  int32_t max_num_seqs = 64;
  int32_t budget = 2048;
  int32_t vocab_size = 32000;
  int64_t num_blocks = 0;  // KV blocks; 0: 4096 synthetic, as memory allows on CUDA
  float temperature = 0.0f;
  double step_ms = 0.0;
  std::string model_dir;
  std::string executor = "cpu";  // for --model: cpu or cuda
  std::string quantization;      // for --model: docs/quantization.md
  bool fixed_output = false;     // every request exactly --output tokens
  bool only_continuous = false;  // skip the static-batching runs
};

bench_args parse(int argc, char** argv) {
  bench_args a;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto eq = arg.find('=');
    const std::string key = arg.substr(0, eq), value = eq == std::string::npos ? "" : arg.substr(eq + 1);
    if (key == "--requests") a.num_requests = std::atoi(value.c_str());
    else if (key == "--prompt") a.prompt_len = std::atoi(value.c_str());
    else if (key == "--output") a.output_len = std::atoi(value.c_str());
    else if (key == "--max-seqs") a.max_num_seqs = std::atoi(value.c_str());
    else if (key == "--budget") a.budget = std::atoi(value.c_str());
    else if (key == "--vocab") a.vocab_size = std::atoi(value.c_str());
    else if (key == "--blocks") a.num_blocks = std::atoll(value.c_str());
    else if (key == "--temperature") a.temperature = std::strtof(value.c_str(), nullptr);
    else if (key == "--step-ms") a.step_ms = std::strtod(value.c_str(), nullptr);
    else if (key == "--model") a.model_dir = value;
    else if (key == "--executor") a.executor = value;
    else if (key == "--quantization") a.quantization = value;
    else if (key == "--fixed-output") a.fixed_output = true;
    else if (key == "--only-continuous") a.only_continuous = true;
    else std::fprintf(stderr, "ignoring unknown argument %s\n", arg.c_str());
  }
  return a;
}

// Output lengths spread over [output/2, 3*output/2] so that static batches
// wait for their longest member.
std::vector<engine::engine_request> make_requests(const bench_args& a, int32_t vocab_size) {
  std::vector<engine::engine_request> out;
  uint32_t x = 12345;
  for (int32_t i = 0; i < a.num_requests; ++i) {
    engine::engine_request r;
    r.request_id = std::to_string(i);
    for (int32_t t = 0; t < a.prompt_len; ++t) {
      x = x * 1664525u + 1013904223u;
      r.prompt_token_ids.push_back(static_cast<int32_t>((x >> 8) % static_cast<uint32_t>(vocab_size)));
    }
    x = x * 1664525u + 1013904223u;
    r.params.max_tokens = a.fixed_output
        ? a.output_len
        : std::max(1, a.output_len / 2 + static_cast<int32_t>((x >> 8) % (a.output_len + 1)));
    r.params.ignore_eos = true;
    r.params.temperature = a.temperature;
    r.params.top_p = a.temperature > 0 ? 0.95f : 1.0f;
    r.params.seed = static_cast<uint64_t>(i) + 1;
    out.push_back(std::move(r));
  }
  return out;
}

void run(const char* label, std::unique_ptr<engine::executor> exec, const bench_args& a,
         engine::batching_policy policy, const double* sampler_seconds) {
  auto timed = std::make_unique<timed_executor>(std::move(exec));
  timed_executor* timer = timed.get();
  const int32_t vocab = timed->spec().vocab_size;
  engine::engine_options options;
  options.policy = policy;
  options.max_num_seqs = a.max_num_seqs;
  options.max_num_batched_tokens = a.budget;
  options.max_waiting = a.num_requests;
  engine::engine e(std::move(timed), options);
  int64_t num_rejected = 0;
  for (auto& r : make_requests(a, vocab)) num_rejected += e.add_request(std::move(r)) != engine::add_error::none;

  const auto t0 = clock_type::now();
  int64_t num_steps = 0, num_output_tokens = 0;
  while (e.has_unfinished_requests()) {
    for (const auto& o : e.step()) num_output_tokens += static_cast<int64_t>(o.new_token_ids.size());
    ++num_steps;
  }
  const double total = seconds_since(t0);
  const double loop = total - timer->execute_seconds;
  const engine::engine_stats stats = e.stats();
  std::printf(
      "%-28s %-10s steps %6lld  output tokens %8lld  %9.0f tok/s  step %7.3f ms  "
      "engine loop %6.3f ms/step",
      label, policy == engine::batching_policy::continuous ? "continuous" : "static",
      static_cast<long long>(num_steps), static_cast<long long>(num_output_tokens),
      num_output_tokens / total, 1e3 * total / num_steps, 1e3 * loop / num_steps);
  if (sampler_seconds) std::printf("  sampler %6.3f ms/step", 1e3 * *sampler_seconds / num_steps);
  std::printf("  preemptions %lld  rejected %lld\n", static_cast<long long>(stats.num_preemptions),
              static_cast<long long>(num_rejected));
}

}  // namespace

int main(int argc, char** argv) {
  const bench_args a = parse(argc, argv);
  std::printf("requests %d, prompt %d tokens, output %d..%d tokens, max_num_seqs %d, budget %d, "
              "temperature %.2f, synthetic step floor %.1f ms\n",
              a.num_requests, a.prompt_len, a.fixed_output ? a.output_len : a.output_len / 2,
              a.fixed_output ? a.output_len : a.output_len / 2 + a.output_len,
              a.max_num_seqs, a.budget, a.temperature, a.step_ms);
  std::vector<engine::batching_policy> policies{engine::batching_policy::continuous};
  if (!a.only_continuous) policies.push_back(engine::batching_policy::static_batch);
  if (a.executor == "cuda") {
    if (a.model_dir.empty()) {
      std::fprintf(stderr, "--executor=cuda needs --model=DIR\n");
      return 2;
    }
    for (auto policy : policies) {
      gpu::cuda_executor_options o;
      o.max_num_seqs = a.max_num_seqs;
      o.max_num_batched_tokens = a.budget;
      o.max_kv_blocks = a.num_blocks;
      std::string error;
      auto quant = engine::parse_quantization_flag(a.quantization, &error);
      if (!quant) {
        std::fprintf(stderr, "%s\n", error.c_str());
        return 2;
      }
      auto exec = engine::make_cuda_executor(a.model_dir, o, &error, *quant);
      if (!exec) {
        std::fprintf(stderr, "cannot load %s: %s\n", a.model_dir.c_str(), error.c_str());
        return 1;
      }
      run(("cuda " + a.model_dir).c_str(), std::move(exec), a, policy, nullptr);
    }
    return 0;
  }
  for (auto policy : policies) {
    auto exec = std::make_unique<synthetic_executor>(a.vocab_size, a.num_blocks > 0 ? a.num_blocks : 4096,
                                                     16, a.step_ms);
    const double* sampler_seconds = &exec->sampler_seconds;
    const std::string label = "synthetic vocab " + std::to_string(a.vocab_size);
    run(label.c_str(), std::move(exec), a, policy, sampler_seconds);
  }
#ifdef TROUPE_BENCH_HAVE_CPU_EXECUTOR
  if (!a.model_dir.empty()) {
    for (auto policy : policies) {
      std::string error;
      engine::cpu_executor_options co;
      auto quant = engine::parse_quantization_flag(a.quantization, &error);
      if (!quant) {
        std::fprintf(stderr, "%s\n", error.c_str());
        return 2;
      }
      co.quantization = *quant;
      auto exec = engine::make_cpu_executor(a.model_dir, co, &error);
      if (!exec) {
        std::fprintf(stderr, "cannot load %s: %s\n", a.model_dir.c_str(), error.c_str());
        return 1;
      }
      run(("cpu " + a.model_dir).c_str(), std::move(exec), a, policy, nullptr);
    }
  }
#else
  if (!a.model_dir.empty()) std::fprintf(stderr, "this build has no CPU executor; --model ignored\n");
#endif
  return 0;
}
