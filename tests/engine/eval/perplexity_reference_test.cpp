// The bundled model's perplexity computed by the engine equals the figure
// transformers computed (tools/reference/perplexity_reference.py, float32,
// committed in tests/data/perplexity/heldout_excerpt.json): within 0.5 % on
// the CPU executor (fp32), within 1 % on the CUDA executor (bf16).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "actors/engine/eval/perplexity.hpp"
#include "actors/engine/exec/cpu_executor.hpp"
#include "actors/engine/exec/cuda_executor_adapter.hpp"
#include "actors/engine/tokenizer/tokenizer.hpp"

namespace troupe::engine {
namespace {

const std::string source_dir = TROUPE_SOURCE_DIR;
const std::string model_dir = source_dir + "/models/troupe-tiny-chat";

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void expect_perplexity_matches_transformers(executor& exec, const char* name, double tolerance) {
  const auto ref = nlohmann::json::parse(
      read_text(source_dir + "/tests/data/perplexity/heldout_excerpt.json"));
  std::string error;
  auto tok = tokenizer::load(model_dir + "/tokenizer.json", &error);
  ASSERT_TRUE(tok) << error;
  const auto ids =
      tok->encode(read_text(source_dir + "/tests/data/perplexity/heldout_excerpt.txt"), true);
  ASSERT_FALSE(ref["results"].empty());
  for (const auto& r : ref["results"]) {
    const perplexity_options options{r["context"].get<int32_t>(), r["stride"].get<int32_t>()};
    SCOPED_TRACE("context " + std::to_string(options.context_tokens) + " stride " +
                 std::to_string(options.stride_tokens));
    ASSERT_EQ(static_cast<int64_t>(ids.size()), r["num_text_tokens"].get<int64_t>());
    auto result = compute_perplexity(exec, ids, options, &error);
    ASSERT_TRUE(result) << error;
    EXPECT_EQ(result->num_windows, r["num_windows"].get<int64_t>());
    EXPECT_EQ(result->tokens_evaluated, r["tokens_evaluated"].get<int64_t>());
    const double expected = r["perplexity"].get<double>();
    EXPECT_NEAR(result->perplexity(), expected, tolerance * expected);
    std::printf("context %d stride %d: %s executor %.6f, transformers %.6f (%+.3f %%)\n",
                options.context_tokens, options.stride_tokens, name, result->perplexity(), expected,
                100.0 * (result->perplexity() / expected - 1.0));
  }
}

TEST(CpuPerplexity, of_the_bundled_model_on_the_heldout_excerpt_matches_transformers) {
  std::string error;
  auto exec = make_cpu_executor(model_dir, cpu_executor_options{}, &error);
  ASSERT_TRUE(exec) << error;
  expect_perplexity_matches_transformers(*exec, "cpu", 0.005);
}

TEST(CudaPerplexity, of_the_bundled_model_on_the_heldout_excerpt_matches_transformers) {
  if (!cuda_device_available()) GTEST_SKIP() << "no CUDA device (or built without CUDA)";
  gpu::cuda_executor_options options;
  options.max_kv_blocks = 256;
  options.verbose = false;
  std::string error;
  auto exec = make_cuda_executor(model_dir, options, &error);
  ASSERT_TRUE(exec) << error;
  expect_perplexity_matches_transformers(*exec, "cuda", 0.01);
}

}  // namespace
}  // namespace troupe::engine
