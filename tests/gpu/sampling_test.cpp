// The on-device sampler draws exactly the tokens of a host implementation of
// the algorithm written in gpu/kernels/sampling.hpp (the CPU sampler's
// semantics), for greedy, temperature, top-k, top-p, min-p and penalties.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <map>
#include <set>

#include "gpu/kernels/sampling.hpp"
#include "gpu/philox.hpp"
#include "tests/gpu/gpu_test_util.hpp"

namespace troupe::gpu::test {
namespace {

using kernels::sampling_row;

struct host_draw {
  int32_t token = -1;
  float logprob = 0.0f;
  std::vector<int32_t> top_ids;
  std::vector<float> top_logprobs;
};

// Straight transcription of the algorithm (actors/engine/sampling/sampler.hpp):
// sums in fp64 in rank order.
float nan_to_neg_inf(float x) { return std::isnan(x) ? -INFINITY : x; }

host_draw host_sample(const float* raw, int32_t V, const sampling_row& p,
                      const std::vector<int32_t>& history) {
  host_draw out;
  float mx = -INFINITY;
  for (int32_t i = 0; i < V; ++i) mx = std::max(mx, nan_to_neg_inf(raw[i]));
  double sum = 0.0;
  for (int32_t i = 0; i < V; ++i) sum += std::exp(static_cast<double>(nan_to_neg_inf(raw[i]) - mx));
  const float log_sum = mx + static_cast<float>(std::log(sum));
  std::vector<float> lp(V);
  for (int32_t i = 0; i < V; ++i) lp[i] = nan_to_neg_inf(raw[i]) - log_sum;
  auto desc = [](const std::vector<float>& v) {
    return [&v](int32_t a, int32_t b) { return v[a] > v[b] || (v[a] == v[b] && a < b); };
  };
  std::vector<int32_t> by_lp(V);
  std::iota(by_lp.begin(), by_lp.end(), 0);
  std::sort(by_lp.begin(), by_lp.end(), desc(lp));
  for (int32_t k = 0; k < p.num_top_logprobs; ++k) {
    out.top_ids.push_back(by_lp[k]);
    out.top_logprobs.push_back(lp[by_lp[k]]);
  }
  auto finish = [&](int32_t token) {
    out.token = token;
    out.logprob = lp[token];
    return out;
  };

  std::vector<float> x(raw, raw + V);
  std::set<int32_t> seen;
  std::map<int32_t, int32_t> out_count;
  for (int32_t j = p.penalty_begin; j < p.penalty_end; ++j) {
    seen.insert(history[j]);
    if (j >= p.penalty_output_begin) ++out_count[history[j]];
  }
  if (p.repetition_penalty != 1.0f && p.repetition_penalty > 0.0f)
    for (int32_t t : seen) x[t] = x[t] > 0.0f ? x[t] / p.repetition_penalty : x[t] * p.repetition_penalty;
  if (p.frequency_penalty != 0.0f || p.presence_penalty != 0.0f)
    for (const auto& [t, c] : out_count) {
      volatile float f = p.frequency_penalty * static_cast<float>(c);  // no FMA contraction
      x[t] -= f + p.presence_penalty;
    }
  if (p.temperature < kernels::kGreedyTemperature) {
    int32_t best = 0;
    float best_value = -INFINITY;
    for (int32_t i = 0; i < V; ++i)
      if (nan_to_neg_inf(x[i]) > best_value) {
        best_value = nan_to_neg_inf(x[i]);
        best = i;
      }
    return finish(best);
  }
  std::vector<int32_t> ids;
  for (int32_t i = 0; i < V; ++i) {
    x[i] = nan_to_neg_inf(x[i]) / p.temperature;
    if (x[i] != -INFINITY) ids.push_back(i);
  }
  if (ids.empty()) return finish(0);
  std::sort(ids.begin(), ids.end(), desc(x));
  size_t keep = ids.size();
  if (p.top_k > 0 && static_cast<size_t>(p.top_k) < keep) keep = p.top_k;
  const float x_max = x[ids[0]];
  std::vector<float> e(keep);
  double total = 0.0;
  for (size_t i = 0; i < keep; ++i) {
    e[i] = std::exp(x[ids[i]] - x_max);
    total += e[i];
  }
  if (p.top_p < 1.0f) {
    const double target = static_cast<double>(p.top_p) * total;
    double running = 0.0;
    for (size_t i = 0; i < keep; ++i) {
      running += e[i];
      if (running >= target) {
        keep = i + 1;
        break;
      }
    }
  }
  if (p.min_p > 0.0f)
    while (keep > 1 && e[keep - 1] < p.min_p) --keep;
  double kept = 0.0;
  for (size_t i = 0; i < keep; ++i) kept += e[i];
  const double threshold = static_cast<double>(philox_uniform(p.seed, p.sample_index)) * kept;
  double running = 0.0;
  for (size_t i = 0; i < keep; ++i) {
    running += e[i];
    if (threshold < running) return finish(ids[i]);
  }
  return finish(ids[keep - 1]);
}

struct device_result {
  std::vector<int32_t> tokens;
  std::vector<float> logprobs, top_logprobs;
  std::vector<int32_t> top_ids;
};

device_result device_sample(const std::vector<float>& logits, int32_t V,
                            const std::vector<sampling_row>& rows,
                            const std::vector<int32_t>& history, int32_t max_top) {
  const int32_t R = static_cast<int32_t>(rows.size());
  auto d_logits = device_buffer::from(logits);
  auto d_rows = device_buffer::from(rows);
  auto d_hist = device_buffer::from(history.empty() ? std::vector<int32_t>{0} : history);
  const size_t ws_bytes = kernels::sampling_workspace_bytes(R, V);
  device_buffer d_ws(ws_bytes);
  EXPECT_EQ(cudaMemset(d_ws.get(), 0, ws_bytes), cudaSuccess);
  device_buffer d_tok(R * 4), d_lp(R * 4), d_tid(std::max(1, R * max_top) * 4),
      d_tlp(std::max(1, R * max_top) * 4);
  d_tok.poison();
  d_lp.poison();
  d_tid.poison();
  d_tlp.poison();
  kernels::sampling_args a;
  a.logits = d_logits.as<float>();
  a.rows = d_rows.as<sampling_row>();
  a.penalty_token_ids = d_hist.as<int32_t>();
  a.num_rows = R;
  a.vocab_size = V;
  a.max_top_logprobs = max_top;
  for (const auto& r : rows) {
    a.any_penalty = a.any_penalty || r.repetition_penalty != 1.0f || r.presence_penalty != 0.0f ||
                    r.frequency_penalty != 0.0f;
    a.any_random = a.any_random || r.temperature >= kernels::kGreedyTemperature;
  }
  a.out_token_ids = d_tok.as<int32_t>();
  a.out_logprobs = d_lp.as<float>();
  a.out_top_ids = d_tid.as<int32_t>();
  a.out_top_logprobs = d_tlp.as<float>();
  EXPECT_EQ(kernels::launch_sampling(a, d_ws.get(), ws_bytes, nullptr), cudaSuccess);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  device_result r;
  r.tokens = d_tok.to_host<int32_t>();
  r.logprobs = d_lp.to_host<float>();
  r.top_ids = d_tid.to_host<int32_t>();
  r.top_logprobs = d_tlp.to_host<float>();
  return r;
}

std::vector<float> random_logits(int32_t rows, int32_t V, std::mt19937& rng, bool with_ties) {
  std::normal_distribution<float> dist(0.0f, 3.0f);
  std::vector<float> l(static_cast<size_t>(rows) * V);
  for (auto& x : l) x = with_ties ? std::round(dist(rng) * 2.0f) / 2.0f : dist(rng);
  return l;
}

void expect_same_draws(int32_t V, const std::vector<sampling_row>& rows, bool ties,
                       const std::vector<int32_t>& history, uint32_t seed) {
  std::mt19937 rng(seed);
  const int32_t R = static_cast<int32_t>(rows.size());
  const auto logits = random_logits(R, V, rng, ties);
  int32_t max_top = 0;
  for (const auto& r : rows) max_top = std::max(max_top, r.num_top_logprobs);
  const device_result got = device_sample(logits, V, rows, history, max_top);
  for (int32_t r = 0; r < R; ++r) {
    const host_draw want = host_sample(logits.data() + static_cast<size_t>(r) * V, V, rows[r], history);
    EXPECT_EQ(got.tokens[r], want.token) << "row " << r << " temperature " << rows[r].temperature
                                         << " top_k " << rows[r].top_k << " top_p " << rows[r].top_p
                                         << " min_p " << rows[r].min_p;
    EXPECT_FLOAT_EQ(got.logprobs[r], want.logprob);
    for (int32_t k = 0; k < max_top; ++k) {
      const size_t o = static_cast<size_t>(r) * max_top + k;
      if (k < rows[r].num_top_logprobs) {
        EXPECT_EQ(got.top_ids[o], want.top_ids[k]) << "row " << r << " rank " << k;
        EXPECT_FLOAT_EQ(got.top_logprobs[o], want.top_logprobs[k]);
      } else {
        EXPECT_EQ(got.top_ids[o], -1);
        EXPECT_TRUE(std::isinf(got.top_logprobs[o]) && got.top_logprobs[o] < 0);
      }
    }
  }
}

sampling_row row(float temperature, int32_t top_k, float top_p, float min_p, uint64_t seed,
                 int32_t index) {
  sampling_row r;
  r.temperature = temperature;
  r.top_k = top_k;
  r.top_p = top_p;
  r.min_p = min_p;
  r.seed = seed;
  r.sample_index = index;
  return r;
}

TEST(sampling, greedy_picks_the_argmax_and_the_lowest_id_on_ties) {
  std::vector<sampling_row> rows;
  for (int i = 0; i < 16; ++i) rows.push_back(row(0.0f, 0, 1.0f, 0.0f, 0, 0));
  rows[3].num_top_logprobs = 5;
  expect_same_draws(3000, rows, /*ties=*/true, {}, 1);
  expect_same_draws(3000, rows, /*ties=*/false, {}, 2);
}

TEST(sampling, temperature_top_k_top_p_min_p_draws_equal_the_host_algorithm) {
  std::vector<sampling_row> rows;
  uint64_t seed = 1234;
  const float temps[] = {0.3f, 0.7f, 1.0f, 1.5f};
  const int32_t ks[] = {0, 1, 5, 50, 4000};
  const float ps[] = {1.0f, 0.9f, 0.5f, 0.0f};
  const float mins[] = {0.0f, 0.05f, 0.3f};
  int idx = 0;
  for (float t : temps)
    for (int32_t k : ks)
      for (float p : ps)
        for (float m : mins) rows.push_back(row(t, k, p, m, seed++, idx++ % 7));
  rows[0].num_top_logprobs = 20;
  rows[5].num_top_logprobs = 3;
  expect_same_draws(4000, rows, false, {}, 3);
  expect_same_draws(4000, rows, true, {}, 4);
}

TEST(sampling, a_seeded_row_draws_many_different_tokens_across_sample_indices) {
  // Same logits, same seed, indices 0..127: the draws follow u = philox(seed, k).
  std::vector<sampling_row> rows;
  for (int k = 0; k < 128; ++k) rows.push_back(row(1.0f, 0, 1.0f, 0.0f, 42, k));
  std::mt19937 rng(5);
  const auto one = random_logits(1, 64, rng, false);
  std::vector<float> logits;
  for (int k = 0; k < 128; ++k) logits.insert(logits.end(), one.begin(), one.end());
  const device_result got = device_sample(logits, 64, rows, {}, 0);
  std::set<int32_t> distinct(got.tokens.begin(), got.tokens.end());
  EXPECT_GT(distinct.size(), 8u);
  for (int k = 0; k < 128; ++k) EXPECT_EQ(got.tokens[k], host_sample(one.data(), 64, rows[k], {}).token);
}

TEST(sampling, penalties_apply_once_per_distinct_token_as_the_host_does) {
  std::mt19937 rng(6);
  const int32_t V = 500;
  std::vector<int32_t> history;
  std::vector<sampling_row> rows;
  std::uniform_int_distribution<int32_t> pick(0, 40);  // small range: many repeats
  for (int r = 0; r < 24; ++r) {
    sampling_row p = row(r % 3 == 0 ? 0.0f : 0.8f, r % 4 == 1 ? 20 : 0, r % 5 == 2 ? 0.9f : 1.0f,
                         0.0f, 77 + r, r);
    p.repetition_penalty = (r % 2) ? 1.3f : 1.0f;
    p.presence_penalty = (r % 3 == 1) ? 0.7f : 0.0f;
    p.frequency_penalty = (r % 4 == 3) ? 0.4f : -0.2f;
    p.penalty_begin = static_cast<int32_t>(history.size());
    const int32_t prompt = 5 + r, output = r * 3;
    for (int i = 0; i < prompt + output; ++i) history.push_back(pick(rng));
    p.penalty_output_begin = p.penalty_begin + prompt;
    p.penalty_end = static_cast<int32_t>(history.size());
    rows.push_back(p);
  }
  expect_same_draws(V, rows, false, history, 7);
  // Counters were cleared: a second identical launch gives the same draws.
  expect_same_draws(V, rows, false, history, 7);
}

TEST(sampling, full_llama3_vocabulary_rows_match_the_host) {
  std::vector<sampling_row> rows = {row(0.0f, 0, 1.0f, 0.0f, 1, 0), row(1.0f, 0, 1.0f, 0.0f, 2, 3),
                                    row(0.6f, 0, 0.95f, 0.0f, 3, 9), row(0.8f, 40, 0.9f, 0.02f, 4, 1)};
  rows[1].num_top_logprobs = 20;
  expect_same_draws(128256, rows, false, {}, 8);
}

}  // namespace
}  // namespace troupe::gpu::test
