// The CPU executor against Hugging Face transformers: reference logits and
// greedy continuations computed by transformers in float32 for the tiny test
// models (tests/data/models, tests/data/reference).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "actors/engine/exec/cpu_executor.hpp"
#include "actors/engine/tokenizer/tokenizer.hpp"
#include "tests/engine/exec/reference_logits.hpp"
#include "tests/engine/exec/step_batches.hpp"

using namespace troupe;
using troupe::test::contiguous_blocks;
using troupe::test::greedy_batch;
using troupe::test::make_step;
using troupe::test::model_dir;
using troupe::test::seq_chunk;
using troupe::test::load_reference;
using troupe::test::reference_prompt;
using troupe::test::source_path;

namespace {

constexpr int32_t k_block_size = 16;
constexpr double k_max_relative_error = 1e-4;

std::unique_ptr<engine::executor> open_model(const std::string& model) {
  engine::cpu_executor_options options;
  options.num_kv_blocks = 64;
  options.num_threads = 2;
  std::string error;
  auto exec = engine::make_cpu_executor(model_dir(model), options, &error);
  EXPECT_TRUE(exec) << error;
  return exec;
}

// ||ours[probe] - ref|| / ||ref|| for one logits row.
double relative_error(const float* row, const std::vector<int32_t>& probe_ids,
                      const std::vector<float>& ref) {
  double diff = 0.0, norm = 0.0;
  for (std::size_t i = 0; i < probe_ids.size(); ++i) {
    const double d = double{row[probe_ids[i]]} - ref[i];
    diff += d * d;
    norm += double{ref[i]} * ref[i];
  }
  return std::sqrt(diff / norm);
}

// Runs the prompt in chunks of `chunk_size` tokens (all of it when 0) and
// returns the logits of every position, [num_tokens * vocab].
std::vector<float> prompt_logits(engine::executor& exec, const std::vector<int32_t>& ids,
                                 int32_t chunk_size, const std::vector<int32_t>& block_table) {
  const int32_t n = static_cast<int32_t>(ids.size());
  if (chunk_size <= 0) chunk_size = n;
  std::vector<float> logits;
  for (int32_t start = 0; start < n; start += chunk_size) {
    const int32_t end = std::min(n, start + chunk_size);
    seq_chunk chunk{{ids.begin() + start, ids.begin() + end}, start, block_table, end == n};
    auto result = exec.execute(make_step({chunk}, k_block_size, /*all_logits=*/true));
    logits.insert(logits.end(), result.logits.begin(), result.logits.end());
  }
  return logits;
}

void expect_logits_match(const std::string& model, int32_t chunk_size) {
  auto exec = open_model(model);
  ASSERT_TRUE(exec);
  const int32_t vocab = exec->spec().vocab_size;
  for (const auto& prompt : load_reference(model)) {
    const auto n = static_cast<int32_t>(prompt.input_ids.size());
    auto logits = prompt_logits(*exec, prompt.input_ids, chunk_size,
                                contiguous_blocks(3, n, k_block_size));
    ASSERT_EQ(logits.size(), static_cast<std::size_t>(n) * vocab);
    for (int32_t pos = 0; pos < n; ++pos) {
      EXPECT_LT(relative_error(logits.data() + int64_t{pos} * vocab, prompt.probe_ids,
                               prompt.logits[pos]),
                k_max_relative_error)
          << model << " prompt '" << prompt.text << "' position " << pos;
    }
  }
}

void expect_greedy_match(const std::string& model) {
  auto exec = open_model(model);
  ASSERT_TRUE(exec);
  for (const auto& prompt : load_reference(model)) {
    auto ids = greedy_batch(*exec, {prompt.input_ids},
                            static_cast<int32_t>(prompt.greedy_ids.size()))[0];
    EXPECT_EQ(ids, prompt.greedy_ids) << model << " prompt '" << prompt.text << "'";
  }
}

}  // namespace

TEST(CpuExecutorReference, TinyLlama3LogitsMatchTransformers) {
  expect_logits_match("tiny-llama3", 0);
}

TEST(CpuExecutorReference, TinyQwen2LogitsMatchTransformers) {
  expect_logits_match("tiny-qwen2", 0);
}

// The bundled trained model on text prompts (passages of its corpus and
// ChatML turns): transformers' token ids, logits and 32 greedy tokens
// (tools/reference/make_trained_model_reference.py). Its logits are peaked,
// so greedy decoding is a sharp check here, unlike on random weights.
TEST(CpuExecutorReference, TrainedModelTokensLogitsAndGreedyMatchTransformers) {
  const auto prompts = load_reference("troupe-tiny-chat");
  ASSERT_EQ(prompts.size(), 8u);
  std::string error;
  auto tok = engine::tokenizer::load(model_dir("troupe-tiny-chat") + "/tokenizer.json", &error);
  ASSERT_TRUE(tok) << error;
  for (const auto& p : prompts) EXPECT_EQ(tok->encode(p.text, true), p.input_ids) << p.text;
  expect_logits_match("troupe-tiny-chat", 0);
  expect_logits_match("troupe-tiny-chat", 7);
  expect_greedy_match("troupe-tiny-chat");
}

TEST(CpuExecutorReference, ChunkedPrefillGivesTheSameLogitsAsOneGo) {
  for (const char* model : {"tiny-llama3", "tiny-qwen2"}) {
    expect_logits_match(model, 1);
    expect_logits_match(model, 3);
    expect_logits_match(model, 5);
  }
}

TEST(CpuExecutorReference, TinyLlama3GreedyContinuationMatchesTransformers) {
  expect_greedy_match("tiny-llama3");
}

TEST(CpuExecutorReference, TinyQwen2GreedyContinuationMatchesTransformers) {
  expect_greedy_match("tiny-qwen2");
}

TEST(CpuExecutorReference, AllPromptsBatchedInOneStepMatchTransformers) {
  for (const char* model : {"tiny-llama3", "tiny-qwen2"}) {
    auto exec = open_model(model);
    ASSERT_TRUE(exec);
    const int32_t vocab = exec->spec().vocab_size;
    auto prompts = load_reference(model);
    std::vector<seq_chunk> chunks;
    int32_t next_block = 0;
    for (const auto& p : prompts) {
      const auto n = static_cast<int32_t>(p.input_ids.size());
      chunks.push_back({p.input_ids, 0, contiguous_blocks(next_block, n, k_block_size)});
      next_block += static_cast<int32_t>(chunks.back().block_table.size());
    }
    auto batch = make_step(chunks, k_block_size, /*all_logits=*/true);
    auto result = exec->execute(batch);
    for (std::size_t s = 0; s < prompts.size(); ++s) {
      const auto& p = prompts[s];
      for (std::size_t pos = 0; pos < p.input_ids.size(); ++pos) {
        const int64_t row = batch.query_start_loc[s] + static_cast<int64_t>(pos);
        EXPECT_LT(relative_error(result.logits.data() + row * vocab, p.probe_ids, p.logits[pos]),
                  k_max_relative_error)
            << model << " prompt " << s << " position " << pos;
      }
      EXPECT_EQ(result.sampled_token_ids[s], p.greedy_ids[0]) << model << " prompt " << s;
    }
  }
}
