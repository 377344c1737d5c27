#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "actors/engine/sampling/sampler.hpp"

namespace troupe::engine {
namespace {

const std::vector<float> logits = {std::log(0.5f), std::log(0.3f), std::log(0.15f), std::log(0.05f)};

gpu::step_batch one_row(float temperature, uint64_t seed) {
  gpu::step_batch b;
  b.num_seqs = 1;
  b.do_sample = {1};
  gpu::sequence_sampling p;
  p.temperature = temperature;
  p.seed = seed;
  b.sampling = {p};
  b.sample_index = {0};
  return b;
}

int32_t draw(const gpu::step_batch& b) {
  gpu::step_result out;
  sample_batch(b, logits.data(), static_cast<int32_t>(logits.size()), out);
  return out.sampled_token_ids[0];
}

TEST(SamplerBiasAndMask, ABiasIsAddedToTheLogitBeforeTheGreedyChoice) {
  gpu::step_batch b = one_row(0.0f, 1);
  EXPECT_EQ(draw(b), 0);
  b.bias_offsets = {0, 1};
  b.bias_token_ids = {3};
  b.bias_values = {2.5f};  // log 0.05 + 2.5 = -0.50 > log 0.5 = -0.69
  EXPECT_EQ(draw(b), 3);
  b.bias_values = {2.0f};  // -1.0 < -0.69
  EXPECT_EQ(draw(b), 0);
}

TEST(SamplerBiasAndMask, MinusOneHundredBansAndReportedLogprobsStayRaw) {
  gpu::step_batch b = one_row(0.0f, 1);
  b.bias_offsets = {0, 1};
  b.bias_token_ids = {0};
  b.bias_values = {-100.0f};
  gpu::step_result out;
  sample_batch(b, logits.data(), 4, out);
  EXPECT_EQ(out.sampled_token_ids[0], 1);
  EXPECT_NEAR(out.sampled_logprobs[0], std::log(0.3), 1e-5);
}

TEST(SamplerBiasAndMask, MaskedTokensAreNeverDrawnAndTheRestKeepTheirProportions) {
  int counts[4] = {0, 0, 0, 0};
  for (uint64_t seed = 1; seed <= 4000; ++seed) {
    gpu::step_batch b = one_row(1.0f, seed * 7919);
    b.mask_words = 1;
    b.allowed_token_masks = {0b1010u};  // tokens 1 and 3
    b.has_token_mask = {1};
    ++counts[draw(b)];
  }
  EXPECT_EQ(counts[0], 0);
  EXPECT_EQ(counts[2], 0);
  // 0.3 : 0.05 → token 1 drawn 6/7 of the time.
  EXPECT_NEAR(counts[1] / 4000.0, 6.0 / 7.0, 0.03);
}

TEST(SamplerBiasAndMask, RowsWithoutAMaskAreUnconstrained) {
  gpu::step_batch b = one_row(0.0f, 1);
  b.mask_words = 1;
  b.allowed_token_masks = {0b1000u};
  b.has_token_mask = {0};
  EXPECT_EQ(draw(b), 0);
  b.has_token_mask = {1};
  EXPECT_EQ(draw(b), 3);
}

}  // namespace
}  // namespace troupe::engine
