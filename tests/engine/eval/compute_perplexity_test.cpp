// compute_perplexity driving an executor: the steps it builds and the errors it
// reports, with a scripted executor whose logits are known.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "actors/engine/eval/perplexity.hpp"

namespace troupe::engine {
namespace {

// Returns logits that give the token (position + 1) % vocab probability
// `p_next` and share the rest uniformly; remembers every batch it ran.
class scripted_executor final : public executor {
 public:
  scripted_executor(int32_t vocab, int64_t num_blocks, double p_next)
      : vocab_(vocab), num_blocks_(num_blocks), p_next_(p_next) {
    spec_.vocab_size = vocab;
  }
  std::string name() const override { return "scripted"; }
  const gpu::model_spec& spec() const override { return spec_; }
  int64_t num_kv_blocks() const override { return num_blocks_; }
  int32_t block_size() const override { return 4; }
  expected<gpu::step_result> try_execute(const gpu::step_batch& batch) override {
    batches.push_back(batch);
    gpu::step_result r;
    r.sampled_token_ids.assign(batch.num_seqs, -1);
    const float other = static_cast<float>(std::log((1.0 - p_next_) / (vocab_ - 1)));
    const float next = static_cast<float>(std::log(p_next_));
    r.logits.assign(static_cast<std::size_t>(batch.num_tokens()) * vocab_, other);
    for (int32_t i = 0; i < batch.num_tokens(); ++i)
      r.logits[static_cast<std::size_t>(i) * vocab_ + (batch.positions[i] + 1) % vocab_] = next;
    return r;
  }
  std::vector<gpu::step_batch> batches;

 private:
  gpu::model_spec spec_;
  int32_t vocab_;
  int64_t num_blocks_;
  double p_next_;
};

std::vector<int32_t> counting_ids(int32_t n, int32_t vocab) {
  std::vector<int32_t> ids(n);
  for (int32_t i = 0; i < n; ++i) ids[i] = i % vocab;
  return ids;
}

TEST(ComputePerplexity, of_uniform_logits_is_the_vocabulary_size) {
  scripted_executor exec(50, 8, 1.0 / 50);
  std::string error;
  auto r = compute_perplexity(exec, counting_ids(37, 50), {8, 3}, &error);
  ASSERT_TRUE(r) << error;
  EXPECT_EQ(r->tokens_evaluated, 36);
  EXPECT_NEAR(r->perplexity(), 50.0, 1e-9);
}

TEST(ComputePerplexity, scores_each_token_with_the_logits_of_the_row_before_it) {
  // The scripted model predicts id (position + 1) % 16 from each row. The ids
  // count 0, 1, 2, ... modulo 16 and every window begins at a multiple of 16,
  // so row j - 1 predicts token j correctly exactly when the scoring is
  // shifted by one row: each scored token gets probability p.
  const double p = 0.9;
  scripted_executor exec(16, 16, p);
  std::string error;
  auto r = compute_perplexity(exec, counting_ids(64, 16), {32, 16}, &error);
  ASSERT_TRUE(r) << error;
  EXPECT_EQ(r->tokens_evaluated, 63);
  EXPECT_NEAR(r->mean_nll(), -std::log(p), 1e-6);
}

TEST(ComputePerplexity, runs_each_window_as_one_fresh_sequence_in_blocks_from_zero) {
  scripted_executor exec(16, 4, 0.5);
  std::string error;
  ASSERT_TRUE(compute_perplexity(exec, counting_ids(21, 16), {10, 5}, &error)) << error;
  ASSERT_EQ(exec.batches.size(), 4u);  // [0,10) [5,15) [10,20) [15,21)
  const auto& last = exec.batches.back();
  EXPECT_EQ(last.num_seqs, 1);
  EXPECT_EQ(last.token_ids, (std::vector<int32_t>{15, 0, 1, 2, 3, 4}));
  EXPECT_EQ(last.positions, (std::vector<int32_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(last.query_start_loc, (std::vector<int32_t>{0, 6}));
  EXPECT_EQ(last.seq_lens, (std::vector<int32_t>{6}));
  EXPECT_EQ(last.max_blocks_per_seq, 2);
  EXPECT_EQ(last.block_tables, (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(last.slot_mapping, (std::vector<int64_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(last.do_sample, (std::vector<uint8_t>{0}));
  EXPECT_TRUE(last.return_all_logits);
}

TEST(ComputePerplexity, reports_invalid_requests_as_errors) {
  scripted_executor exec(16, 2, 0.5);  // 2 blocks of 4 tokens
  std::string error;
  EXPECT_FALSE(compute_perplexity(exec, counting_ids(20, 16), {8, 9}, &error));
  EXPECT_NE(error.find("stride"), std::string::npos) << error;
  EXPECT_FALSE(compute_perplexity(exec, counting_ids(20, 16), {12, 6}, &error));
  EXPECT_NE(error.find("KV blocks"), std::string::npos) << error;
  EXPECT_FALSE(compute_perplexity(exec, {3}, {8, 8}, &error));
  EXPECT_NE(error.find("fewer than two"), std::string::npos) << error;
  EXPECT_FALSE(compute_perplexity(exec, {3, 16}, {8, 8}, &error));
  EXPECT_NE(error.find("vocabulary"), std::string::npos) << error;
  EXPECT_TRUE(exec.batches.empty());
}

}  // namespace
}  // namespace troupe::engine
