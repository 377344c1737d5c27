// A request resumed on another engine (what a gateway does when a worker
// dies): prompt + the tokens already produced, marked as resumed output,
// continues exactly as the undisturbed run would have — greedy and seeded,
// with penalties — on the CPU executor and a real tiny checkpoint.
#include <gtest/gtest.h>

#include "../support/engine_harness.hpp"
#include "actors/engine/exec/cpu_executor.hpp"

namespace troupe::engine {
namespace {

std::unique_ptr<engine> tiny_engine() {
  cpu_executor_options o;
  o.block_size = 16;
  o.num_kv_blocks = 256;
  o.num_threads = 2;
  std::string error;
  auto exec = make_cpu_executor(std::string(TROUPE_SOURCE_DIR) + "/tests/data/models/tiny-llama3", o, &error);
  EXPECT_TRUE(exec) << error;
  if (!exec) return nullptr;
  engine_options options;
  options.max_num_seqs = 4;
  options.max_num_batched_tokens = 256;
  return std::make_unique<engine>(std::move(exec), options);
}

engine_request sampled_request(std::string id, std::vector<int32_t> prompt, int32_t max_tokens) {
  engine_request r;
  r.request_id = std::move(id);
  r.prompt_token_ids = std::move(prompt);
  r.params.max_tokens = max_tokens;
  r.params.temperature = 0.9f;
  r.params.top_p = 0.95f;
  r.params.presence_penalty = 0.5f;
  r.params.repetition_penalty = 1.1f;
  r.params.seed = 1234;
  return r;
}

std::vector<int32_t> run_alone(engine_request r) {
  auto e = tiny_engine();
  if (!e) return {};
  const std::string id = r.request_id;
  EXPECT_EQ(e->add_request(std::move(r)), add_error::none);
  return testing::run_to_completion(*e).output_ids[id];
}

void expect_resumed_run_continues(engine_request original, int32_t num_done) {
  const std::vector<int32_t> full = run_alone(original);
  ASSERT_EQ(static_cast<int32_t>(full.size()), original.params.max_tokens);
  engine_request resumed = original;
  resumed.request_id += "-resumed";
  resumed.prompt_token_ids.insert(resumed.prompt_token_ids.end(), full.begin(), full.begin() + num_done);
  resumed.num_resumed_output_tokens = num_done;
  const std::vector<int32_t> rest = run_alone(resumed);
  EXPECT_EQ(rest, std::vector<int32_t>(full.begin() + num_done, full.end()))
      << "the continuation differs from the undisturbed run after " << num_done << " tokens";
}

TEST(EngineResume, a_resumed_greedy_request_continues_the_undisturbed_output) {
  auto r = testing::make_request("g", testing::make_prompt(21, 3), 24);
  expect_resumed_run_continues(r, 9);
}

TEST(EngineResume, a_resumed_seeded_request_with_penalties_draws_what_the_dead_worker_would_have) {
  expect_resumed_run_continues(sampled_request("s", testing::make_prompt(30, 5), 24), 1);
  expect_resumed_run_continues(sampled_request("s", testing::make_prompt(30, 5), 24), 13);
}

TEST(EngineResume, resumed_tokens_count_as_output_for_max_tokens_and_usage) {
  auto e = tiny_engine();
  ASSERT_TRUE(e);
  auto r = testing::make_request("u", testing::make_prompt(10, 7), 6);
  r.prompt_token_ids.insert(r.prompt_token_ids.end(), {5, 6, 7, 8});
  r.num_resumed_output_tokens = 4;
  ASSERT_EQ(e->add_request(r), add_error::none);
  int32_t num_prompt = -1, num_output = -1;
  std::vector<int32_t> ids;
  while (e->has_unfinished_requests())
    for (const auto& out : e->step()) {
      num_prompt = out.num_prompt_tokens;
      num_output = out.num_output_tokens;
      ids.insert(ids.end(), out.new_token_ids.begin(), out.new_token_ids.end());
    }
  EXPECT_EQ(ids.size(), 2u) << "6 output tokens allowed, 4 already produced";
  EXPECT_EQ(num_prompt, 10);
  EXPECT_EQ(num_output, 6);
}

TEST(EngineResume, a_resume_that_claims_the_whole_prompt_as_output_is_refused) {
  auto e = tiny_engine();
  ASSERT_TRUE(e);
  auto r = testing::make_request("bad", {3, 4, 5}, 4);
  r.num_resumed_output_tokens = 3;
  EXPECT_EQ(e->add_request(r), add_error::bad_params);
  r.num_resumed_output_tokens = -1;
  EXPECT_EQ(e->add_request(r), add_error::bad_params);
}

}  // namespace
}  // namespace troupe::engine
