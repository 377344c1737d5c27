// The engine over the CPU executor and a real (tiny) Llama-family checkpoint:
// whatever the scheduler does to the batch (chunked prefill under a small
// token budget, preemption by a small KV pool, prefix caching), greedy
// outputs equal the continuations Hugging Face transformers computed for each
// prompt alone (tests/data/reference).
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "../support/engine_harness.hpp"
#include "actors/engine/exec/cpu_executor.hpp"

namespace troupe::engine {
namespace {

struct reference_case {
  std::vector<int32_t> input_ids;
  std::vector<int32_t> greedy_ids;
};

std::string source_path(const std::string& relative) {
  return std::string(TROUPE_SOURCE_DIR) + "/" + relative;
}

std::vector<reference_case> load_reference(const std::string& model) {
  std::ifstream in(source_path("tests/data/reference/logits_" + model + ".json"));
  if (!in) return {};
  const nlohmann::json doc = nlohmann::json::parse(in);  // outlives the loop below
  std::vector<reference_case> out;
  for (const auto& p : doc.at("prompts")) {
    out.push_back({p.at("input_ids").get<std::vector<int32_t>>(),
                   p.at("greedy_ids").get<std::vector<int32_t>>()});
  }
  return out;
}

std::string request_id(size_t i) {
  std::string id = "p";
  id += std::to_string(i);
  return id;
}

struct engine_shape {
  int32_t block_size;
  int64_t num_kv_blocks;
  int32_t token_budget;
};

// Runs every reference prompt through one engine, then the longest prompt
// again (served from the prefix cache), checking tokens against transformers.
// Returns the engine's stats.
engine_stats expect_engine_matches_transformers(const std::string& model, engine_shape shape) {
  const auto cases = load_reference(model);
  EXPECT_FALSE(cases.empty()) << "reference data for " << model << " is missing";
  if (cases.empty()) return {};
  cpu_executor_options exec_options;
  exec_options.block_size = shape.block_size;
  exec_options.num_kv_blocks = shape.num_kv_blocks;
  exec_options.num_threads = 2;
  std::string error;
  auto exec = make_cpu_executor(source_path("tests/data/models/" + model), exec_options, &error);
  EXPECT_TRUE(exec) << error;
  if (!exec) return {};
  engine_options options;
  options.max_num_seqs = 8;
  options.max_num_batched_tokens = shape.token_budget;
  engine e(std::move(exec), options);

  const auto request_for = [&](std::string id, const reference_case& c) {
    return testing::make_request(std::move(id), c.input_ids,
                                 static_cast<int32_t>(c.greedy_ids.size()));
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(e.add_request(request_for(request_id(i), cases[i])), add_error::none);
  }
  testing::engine_run run = testing::run_to_completion(e);
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(run.output_ids[request_id(i)], cases[i].greedy_ids) << model << " prompt " << i;
  }

  size_t longest = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    if (cases[i].input_ids.size() > cases[longest].input_ids.size()) longest = i;
  }
  EXPECT_EQ(e.add_request(request_for("repeat", cases[longest])), add_error::none);
  run = testing::run_to_completion(e);
  EXPECT_EQ(run.output_ids["repeat"], cases[longest].greedy_ids);
  // Its full blocks, but for the last token, unless the pool evicted them.
  const int32_t prompt_len = static_cast<int32_t>(cases[longest].input_ids.size());
  const int32_t max_cached = (prompt_len - 1) / shape.block_size * shape.block_size;
  if (shape.num_kv_blocks * shape.block_size >= 8 * 64) {
    EXPECT_EQ(run.num_cached_prompt_tokens["repeat"], max_cached);
  } else {
    EXPECT_LE(run.num_cached_prompt_tokens["repeat"], max_cached);
  }
  EXPECT_EQ(e.stats().num_free_blocks, shape.num_kv_blocks);
  return e.stats();
}

TEST(EngineCpuModel, TinyLlama3GreedyOutputsMatchTransformersUnderChunkingAndPreemption) {
  // 16 blocks of 4 tokens for 8 sequences of up to 47 tokens; 8-token budget.
  const engine_stats stats = expect_engine_matches_transformers("tiny-llama3", {4, 16, 8});
  EXPECT_GT(stats.num_preemptions, 0);
}

TEST(EngineCpuModel, TinyQwen2GreedyOutputsMatchTransformersUnderChunkingAndPreemption) {
  const engine_stats stats = expect_engine_matches_transformers("tiny-qwen2", {4, 16, 8});
  EXPECT_GT(stats.num_preemptions, 0);
}

TEST(EngineCpuModel, TinyLlama3GreedyOutputsMatchTransformersAndARepeatedPromptHitsThePrefixCache) {
  const engine_stats stats = expect_engine_matches_transformers("tiny-llama3", {4, 256, 2048});
  EXPECT_EQ(stats.num_preemptions, 0);
  EXPECT_EQ(stats.prefix_cache_hits, 12);  // the repeated 15-token prompt
}

}  // namespace
}  // namespace troupe::engine
