#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <set>
#include <vector>

#include "actors/engine/sampling/sample_row.hpp"
#include "actors/engine/sampling/sampler.hpp"

namespace troupe::engine {
namespace {

// One-sequence batch with the given controls; returns the sampled id.
gpu::step_result sample_one(const std::vector<float>& logits, gpu::sequence_sampling params,
                            int32_t sample_index, std::vector<int32_t> prompt = {},
                            std::vector<int32_t> output = {}) {
  gpu::step_batch batch;
  batch.num_seqs = 1;
  batch.do_sample = {1};
  batch.sampling = {params};
  batch.sample_index = {sample_index};
  if (!prompt.empty() || !output.empty()) {
    batch.penalty_token_ids = prompt;
    batch.penalty_token_ids.insert(batch.penalty_token_ids.end(), output.begin(), output.end());
    batch.penalty_offsets = {0, static_cast<int32_t>(batch.penalty_token_ids.size())};
    batch.penalty_prompt_lens = {static_cast<int32_t>(prompt.size())};
  }
  gpu::step_result out;
  sample_batch(batch, logits.data(), static_cast<int32_t>(logits.size()), out);
  return out;
}

// Softmax of logits / temperature in double, the expectation the draws are
// compared against.
std::vector<double> reference_probs(const std::vector<float>& logits, double temperature) {
  double max_v = -1e300;
  for (float x : logits) max_v = std::max(max_v, x / temperature);
  std::vector<double> p(logits.size());
  double sum = 0;
  for (size_t i = 0; i < p.size(); ++i) sum += p[i] = std::exp(logits[i] / temperature - max_v);
  for (double& v : p) v /= sum;
  return p;
}

// Draws num_draws tokens (seeds 1..num_draws, index 0 and 7 alternating) and
// returns per-token counts.
std::vector<int64_t> histogram(const std::vector<float>& logits, gpu::sequence_sampling params,
                               int32_t num_draws) {
  std::vector<int64_t> counts(logits.size(), 0);
  for (int32_t i = 0; i < num_draws; ++i) {
    params.seed = 1000003ull * (i + 1);
    const int32_t token = sample_one(logits, params, i % 2 ? 7 : 0).sampled_token_ids[0];
    counts.at(token) += 1;
  }
  return counts;
}

// Pearson chi-square of counts against expected probabilities over the ids
// with p > 0; every id with p == 0 must have count 0.
double chi_square(const std::vector<int64_t>& counts, const std::vector<double>& expected) {
  const double n = static_cast<double>(std::accumulate(counts.begin(), counts.end(), int64_t{0}));
  double chi2 = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (expected[i] == 0) {
      EXPECT_EQ(counts[i], 0) << "token " << i << " must be excluded";
      continue;
    }
    const double e = n * expected[i];
    chi2 += (counts[i] - e) * (counts[i] - e) / e;
  }
  return chi2;
}

const std::vector<float> six_logits = {1.0f, 0.5f, 0.0f, -0.5f, 2.0f, -1.0f};
// Probabilities 0.5, 0.3, 0.15, 0.05 as logits.
const std::vector<float> four_logits = {std::log(0.5f), std::log(0.3f), std::log(0.15f),
                                        std::log(0.05f)};
// 99.99% quantiles of chi-square: 5 dof 25.7, 3 dof 21.1, 2 dof 18.4, 1 dof 15.1.

TEST(Sampler, GreedyPicksTheLargestLogitAndTheLowestIdOnTies) {
  gpu::sequence_sampling greedy;
  greedy.temperature = 0.0f;
  EXPECT_EQ(sample_one({0.1f, 3.0f, -2.0f, 3.0f}, greedy, 0).sampled_token_ids[0], 1);
  greedy.temperature = 1e-6f;
  greedy.seed = 99;
  EXPECT_EQ(sample_one({0.1f, 3.0f, -2.0f, 3.0f}, greedy, 5).sampled_token_ids[0], 1);
}

TEST(Sampler, TemperatureDrawsFollowTheSoftmaxDistribution) {
  for (float temperature : {1.0f, 0.5f, 2.0f}) {
    gpu::sequence_sampling params;
    params.temperature = temperature;
    const auto counts = histogram(six_logits, params, 20000);
    EXPECT_LT(chi_square(counts, reference_probs(six_logits, temperature)), 25.7)
        << "temperature " << temperature;
  }
}

TEST(Sampler, TopKDrawsOnlyTheKMostLikelyTokensInProportion) {
  gpu::sequence_sampling params;
  params.top_k = 2;  // ids 4 (logit 2) and 0 (logit 1)
  std::vector<double> expected(6, 0.0);
  expected[4] = std::exp(2.0) / (std::exp(2.0) + std::exp(1.0));
  expected[0] = 1 - expected[4];
  EXPECT_LT(chi_square(histogram(six_logits, params, 10000), expected), 15.1);
}

TEST(Sampler, TopPKeepsTheSmallestSetReachingTheMass) {
  gpu::sequence_sampling params;
  params.top_p = 0.75f;  // 0.5 < 0.75 <= 0.8: ids 0 and 1
  EXPECT_LT(chi_square(histogram(four_logits, params, 10000), {0.5 / 0.8, 0.3 / 0.8, 0, 0}),
            15.1);
  params.top_p = 0.85f;  // 0.8 < 0.85 <= 0.95: ids 0, 1, 2
  EXPECT_LT(chi_square(histogram(four_logits, params, 10000),
                       {0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0}),
            18.4);
  params.top_p = 0.01f;  // never fewer than one token
  EXPECT_LT(chi_square(histogram(four_logits, params, 200), {1, 0, 0, 0}), 1e-9);
}

TEST(Sampler, MinPDropsTokensBelowTheFractionOfTheTopProbability) {
  gpu::sequence_sampling params;
  params.min_p = 0.25f;  // threshold 0.125: keeps 0.5, 0.3, 0.15; drops 0.05
  EXPECT_LT(chi_square(histogram(four_logits, params, 10000),
                       {0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0}),
            18.4);
}

TEST(Sampler, TopKTopPAndMinPCompose) {
  // top_k 3 leaves 0.5, 0.3, 0.15 (renormalized 0.526, 0.316, 0.158); top_p 0.8
  // needs 0.526 + 0.316 = 0.842 >= 0.8: ids 0, 1; min_p 0.7 drops 0.3/0.5 = 0.6.
  gpu::sequence_sampling params;
  params.top_k = 3;
  params.top_p = 0.8f;
  const auto dist = filtered_distribution(four_logits, params);
  EXPECT_EQ(dist.ids, (std::vector<int32_t>{0, 1}));
  params.min_p = 0.7f;
  EXPECT_EQ(filtered_distribution(four_logits, params).ids, (std::vector<int32_t>{0}));
}

TEST(Sampler, PenaltiesMatchHandComputedLogits) {
  std::vector<float> logits = {2.0f, -1.0f, 0.5f, 3.0f, 1.0f};
  gpu::sequence_sampling params;
  params.repetition_penalty = 2.0f;
  params.frequency_penalty = 0.5f;
  params.presence_penalty = 0.25f;
  // prompt {0, 1, 0}, output {2, 2, 1}; id 3 unseen; id 7 out of vocab ignored.
  apply_penalties(logits, params, std::vector<int32_t>{0, 1, 0, 7},
                  std::vector<int32_t>{2, 2, 1});
  EXPECT_FLOAT_EQ(logits[0], 1.0f);                       // 2 / 2, once though seen twice
  EXPECT_FLOAT_EQ(logits[1], -1.0f * 2 - 0.5f - 0.25f);   // -2.75
  EXPECT_FLOAT_EQ(logits[2], 0.5f / 2 - 2 * 0.5f - 0.25f);  // -1.0
  EXPECT_FLOAT_EQ(logits[3], 3.0f);
  EXPECT_FLOAT_EQ(logits[4], 1.0f);
}

TEST(Sampler, RepetitionPenaltyChangesTheGreedyChoice) {
  gpu::sequence_sampling params;
  params.temperature = 0.0f;
  params.repetition_penalty = 1.5f;
  // 3.0 / 1.5 = 2.0 < 2.5: the repeated id 0 loses to id 1.
  EXPECT_EQ(sample_one({3.0f, 2.5f, 0.0f}, params, 0, {0}, {}).sampled_token_ids[0], 1);
  params.repetition_penalty = 1.0f;
  EXPECT_EQ(sample_one({3.0f, 2.5f, 0.0f}, params, 0, {0}, {}).sampled_token_ids[0], 0);
}

TEST(Sampler, ReportedLogprobsAreOfTheRawLogitsNotThePenalizedOnes) {
  const std::vector<float> logits = {1.0f, 2.0f, 0.5f, 2.0f};
  gpu::sequence_sampling params;
  params.temperature = 0.0f;
  params.repetition_penalty = 5.0f;  // ids 1, 3 -> 0.4, id 0 -> 0.2: unseen id 2 (0.5) wins
  params.num_top_logprobs = 3;
  const auto out = sample_one(logits, params, 0, {1, 3, 0}, {});
  const double log_z = std::log(std::exp(1.0) + 2 * std::exp(2.0) + std::exp(0.5));
  EXPECT_EQ(out.sampled_token_ids[0], 2);
  EXPECT_NEAR(out.sampled_logprobs[0], 0.5 - log_z, 1e-5);
  ASSERT_EQ(out.max_top_logprobs, 3);
  EXPECT_EQ(out.top_token_ids, (std::vector<int32_t>{1, 3, 0}));  // tie 1/3 by id
  EXPECT_NEAR(out.top_logprobs[0], 2.0 - log_z, 1e-5);
  EXPECT_NEAR(out.top_logprobs[2], 1.0 - log_z, 1e-5);
}

TEST(Sampler, SeededDrawsAreReproducibleAndIndependentOfBatchComposition) {
  std::vector<float> wide(50);
  for (size_t i = 0; i < wide.size(); ++i) wide[i] = std::sin(static_cast<float>(i)) * 3;
  gpu::sequence_sampling params;
  params.temperature = 0.9f;
  params.top_p = 0.95f;
  params.seed = 1234;
  std::vector<int32_t> alone;
  for (int32_t k = 0; k < 20; ++k) alone.push_back(sample_one(wide, params, k).sampled_token_ids[0]);
  // The same sequence as row 1 of a 3-row batch, neighbours with other seeds.
  for (int32_t k = 0; k < 20; ++k) {
    gpu::step_batch batch;
    batch.num_seqs = 3;
    batch.do_sample = {1, 1, 0};
    gpu::sequence_sampling other = params;
    other.seed = 77 + k;
    batch.sampling = {other, params, other};
    batch.sample_index = {3, k, 0};
    std::vector<float> logits(wide.size() * 3, 0.0f);
    std::copy(wide.begin(), wide.end(), logits.begin() + wide.size());
    gpu::step_result out;
    sample_batch(batch, logits.data(), static_cast<int32_t>(wide.size()), out);
    EXPECT_EQ(out.sampled_token_ids[1], alone[k]) << "draw " << k;
    EXPECT_EQ(out.sampled_token_ids[2], -1);
  }
  // Different draws over the index: not a constant.
  EXPECT_GT(std::set<int32_t>(alone.begin(), alone.end()).size(), 3u);
}

TEST(Sampler, InvertCdfMapsTheUnitIntervalOntoCumulativeWeights) {
  sampling_distribution dist{{7, 3, 5}, {2.0f, 1.0f, 1.0f}};  // CDF 0.5, 0.75, 1
  EXPECT_EQ(invert_cdf(dist, 0.0f), 7);
  EXPECT_EQ(invert_cdf(dist, 0.4999f), 7);
  EXPECT_EQ(invert_cdf(dist, 0.5f), 3);
  EXPECT_EQ(invert_cdf(dist, 0.7499f), 3);
  EXPECT_EQ(invert_cdf(dist, 0.75f), 5);
  EXPECT_EQ(invert_cdf(dist, 0.99999994f), 5);
}

}  // namespace
}  // namespace troupe::engine
