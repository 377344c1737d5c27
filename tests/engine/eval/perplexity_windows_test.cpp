// The window plan and the per-token likelihood of actors/engine/eval/perplexity,
// against the counts written by tools/reference/perplexity_reference.py
// (transformers) and against hand-computed values.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "actors/engine/eval/perplexity.hpp"

namespace troupe::engine {
namespace {

nlohmann::json load_reference(const std::string& name) {
  std::ifstream in(std::string(TROUPE_SOURCE_DIR) + "/tests/data/perplexity/" + name);
  EXPECT_TRUE(in.good()) << name;
  return nlohmann::json::parse(in);
}

int64_t total_scored(const std::vector<perplexity_window>& windows) {
  int64_t n = 0;
  for (const auto& w : windows) n += w.num_scored();
  return n;
}

TEST(PerplexityWindows, match_the_window_and_token_counts_of_the_transformers_reference) {
  for (const char* name : {"heldout.json", "heldout_excerpt.json"}) {
    const auto ref = load_reference(name);
    ASSERT_FALSE(ref["results"].empty()) << name;
    for (const auto& r : ref["results"]) {
      perplexity_options options;
      options.context_tokens = r["context"].get<int32_t>();
      options.stride_tokens = r["stride"].get<int32_t>();
      const auto windows =
          plan_perplexity_windows(r["num_text_tokens"].get<int64_t>(), options);
      EXPECT_EQ(static_cast<int64_t>(windows.size()), r["num_windows"].get<int64_t>())
          << name << " context " << options.context_tokens;
      EXPECT_EQ(total_scored(windows), r["tokens_evaluated"].get<int64_t>())
          << name << " context " << options.context_tokens;
    }
  }
}

TEST(PerplexityWindows, overlapping_windows_score_every_token_but_the_first_exactly_once) {
  for (int64_t n : {2, 3, 10, 17, 100}) {
    for (int32_t context : {2, 4, 7, 16}) {
      for (int32_t stride = 1; stride < context; ++stride) {
        const auto windows = plan_perplexity_windows(n, {context, stride});
        std::vector<int> times_scored(static_cast<std::size_t>(n), 0);
        for (const auto& w : windows) {
          EXPECT_LE(w.num_tokens(), context);
          for (int32_t j = w.first_scored; j < w.num_tokens(); ++j) ++times_scored[w.begin + j];
        }
        EXPECT_EQ(times_scored[0], 0);
        for (int64_t t = 1; t < n; ++t)
          ASSERT_EQ(times_scored[t], 1) << "n " << n << " context " << context << " stride "
                                        << stride << " token " << t;
        EXPECT_EQ(windows.back().end, n);
      }
    }
  }
}

TEST(PerplexityWindows, disjoint_windows_skip_the_first_token_of_each_window) {
  // 10 tokens, windows of 4: [0,4) [4,8) [8,10); tokens 0, 4 and 8 have no context.
  const auto windows = plan_perplexity_windows(10, {4, 4});
  ASSERT_EQ(windows.size(), 3u);
  EXPECT_EQ(windows[1].begin, 4);
  EXPECT_EQ(windows[1].first_scored, 1);
  EXPECT_EQ(windows[2].end, 10);
  EXPECT_EQ(total_scored(windows), 10 - 3);
}

TEST(PerplexityWindows, a_text_of_one_token_has_no_window) {
  EXPECT_TRUE(plan_perplexity_windows(1, {4, 2}).empty());
  EXPECT_TRUE(plan_perplexity_windows(0, {4, 2}).empty());
}

TEST(TokenNll, is_the_negative_log_softmax_of_the_target) {
  // Values from Python's math module: log(e^1 + e^2 + e^3) - 3, and
  // log(e^-1.5 + e^0.25 + e^4 + e^2) + 1.5.
  const float a[] = {1.0f, 2.0f, 3.0f};
  EXPECT_NEAR(token_nll(a, 3, 2), 0.40760596444438013, 1e-12);
  const float b[] = {-1.5f, 0.25f, 4.0f, 2.0f};
  EXPECT_NEAR(token_nll(b, 4, 0), 5.650951109970752, 1e-12);
}

TEST(TokenNll, stays_finite_for_large_logits) {
  const float big[] = {1000.0f, 1000.0f};
  EXPECT_NEAR(token_nll(big, 2, 1), std::log(2.0), 1e-12);
}

}  // namespace
}  // namespace troupe::engine
