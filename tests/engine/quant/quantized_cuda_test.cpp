// The quantized CUDA paths on the bundled model against the CPU executor with
// the same quantized weights: held-out perplexity (prefill: dequantized tiles
// + cuBLAS) and teacher-forced decode steps of three sequences at once (the
// dequantize-in-register GEMV), every format, and an AWQ checkpoint written
// by `troupe quantize awq`. Skipped without a CUDA device.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "actors/engine/eval/perplexity.hpp"
#include "actors/engine/exec/cpu_executor.hpp"
#include "actors/engine/exec/cuda_executor_adapter.hpp"
#include "actors/engine/quantize/awq_quantizer.hpp"
#include "actors/engine/tokenizer/tokenizer.hpp"
#include "tests/engine/exec/step_batches.hpp"
#include "tests/engine/model/test_files.hpp"

namespace troupe::engine {
namespace {

// TROUPE_SOURCE_DIR in the environment overrides the build's source path
// (binaries built on one machine and run from a checkout on another).
const std::string source_dir = std::getenv("TROUPE_SOURCE_DIR") ? std::getenv("TROUPE_SOURCE_DIR")
                                                                 : TROUPE_SOURCE_DIR;
const std::string model_dir = source_dir + "/models/troupe-tiny-chat";

std::vector<int32_t> heldout_ids() {
  std::ifstream in(source_dir + "/tests/data/perplexity/heldout_excerpt.txt", std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  std::string error;
  auto tok = tokenizer::load(model_dir + "/tokenizer.json", &error);
  EXPECT_TRUE(tok) << error;
  return tok->encode(s.str(), true);
}

std::unique_ptr<executor> make(const std::string& dir, const std::string& mode, bool cuda) {
  std::string error;
  auto quant = parse_quantization_flag(mode, &error);
  EXPECT_TRUE(quant) << error;
  std::unique_ptr<executor> exec;
  if (cuda) {
    gpu::cuda_executor_options o;
    o.max_kv_blocks = 256;
    o.verbose = false;
    exec = make_cuda_executor(dir, o, &error, *quant);
  } else {
    cpu_executor_options o;
    o.quantization = *quant;
    exec = make_cpu_executor(dir, o, &error);
  }
  EXPECT_TRUE(exec) << error;
  return exec;
}

// Mean NLL of the true next tokens over `steps` decode steps of three
// sequences decoded together, each fed its own text (teacher forcing).
double decode_nll(executor& exec, const std::vector<int32_t>& ids, int32_t steps) {
  const int32_t prompt = 32, bs = 16, vocab = exec.spec().vocab_size;
  std::vector<test::seq_chunk> chunks;
  std::vector<std::vector<int32_t>> tables;
  for (int32_t s = 0; s < 3; ++s) {
    tables.push_back(test::contiguous_blocks(s * 8, prompt + steps + 1, bs));
    const auto begin = ids.begin() + s * 200;
    chunks.push_back({std::vector<int32_t>(begin, begin + prompt), 0, tables[s]});
  }
  exec.execute(test::make_step(chunks, bs));
  double nll = 0.0;
  for (int32_t k = 0; k < steps; ++k) {
    chunks.clear();
    for (int32_t s = 0; s < 3; ++s)
      chunks.push_back({{ids[s * 200 + prompt + k]}, prompt + k, tables[s]});
    auto r = exec.execute(test::make_step(chunks, bs, true));
    EXPECT_EQ(r.logits.size(), static_cast<size_t>(3 * vocab));
    if (r.logits.size() != static_cast<size_t>(3 * vocab)) return NAN;
    for (int32_t s = 0; s < 3; ++s)
      nll += token_nll(r.logits.data() + s * vocab, vocab, ids[s * 200 + prompt + k + 1]);
  }
  return nll / (3.0 * steps);
}

double heldout_perplexity(executor& exec, const std::vector<int32_t>& ids) {
  std::string error;
  auto r = compute_perplexity(exec, ids, perplexity_options{512, 512}, &error);
  EXPECT_TRUE(r) << error;
  return r ? r->perplexity() : NAN;
}

void expect_cuda_tracks_cpu(const std::string& dir, const std::string& mode) {
  SCOPED_TRACE(mode);
  const auto ids = heldout_ids();
  auto cpu = make(dir, mode, false);
  auto cuda = make(dir, mode, true);
  ASSERT_TRUE(cpu && cuda);
  const double p_cpu = heldout_perplexity(*cpu, ids), p_cuda = heldout_perplexity(*cuda, ids);
  const double d_cpu = decode_nll(*cpu, ids, 12), d_cuda = decode_nll(*cuda, ids, 12);
  std::printf("%-5s perplexity cpu %.4f cuda %.4f (%+.2f %%); decode nll cpu %.4f cuda %.4f\n",
              mode.c_str(), p_cpu, p_cuda, 100.0 * (p_cuda / p_cpu - 1.0), d_cpu, d_cuda);
  // bf16 activations against fp32: the unquantized model's band is 1 %.
  EXPECT_NEAR(p_cuda, p_cpu, 0.015 * p_cpu);
  EXPECT_NEAR(d_cuda, d_cpu, 0.02 * d_cpu);
}

TEST(QuantizedCuda, every_format_tracks_the_cpu_executor_with_the_same_weights) {
  if (!cuda_device_available()) GTEST_SKIP() << "no CUDA device (or built without CUDA)";
  for (const char* mode : {"int8", "fp8", "nf4", "fp4", "int4"}) expect_cuda_tracks_cpu(model_dir, mode);
}

TEST(QuantizedCuda, an_awq_checkpoint_written_by_troupe_quantize_runs_on_the_gpu) {
  if (!cuda_device_available()) GTEST_SKIP() << "no CUDA device (or built without CUDA)";
  test::scratch_dir out;
  awq_quantize_options o;
  o.model_dir = model_dir;
  o.out_dir = (out.path() / "awq").string();
  ASSERT_EQ(quantize_awq(o), "");
  expect_cuda_tracks_cpu(o.out_dir, "awq");
}

}  // namespace
}  // namespace troupe::engine
