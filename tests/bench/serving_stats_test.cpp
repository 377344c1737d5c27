#include <gtest/gtest.h>

#include "bench/serving/client.hpp"
#include "bench/serving/stats.hpp"
#include "bench/serving/workload.hpp"

using namespace troupe::bench;

// Expected values are numpy.percentile's (linear interpolation) on the same data.
TEST(ServingStats, PercentilesInterpolateLikeNumpy) {
  const auto d = summarize({1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  EXPECT_DOUBLE_EQ(d.mean, 5.5);
  EXPECT_DOUBLE_EQ(d.p50, 5.5);
  EXPECT_NEAR(d.p90, 9.1, 1e-12);
  EXPECT_NEAR(d.p99, 9.91, 1e-12);
}

TEST(ServingStats, TpotExcludesTheFirstTokenAndGoodputCountsRequestsWithinTheSlo) {
  request_timing fast{true, "", 10, 11, 0.1, 1.1, {}};   // tpot = 1.0 s / 10 = 100 ms
  request_timing slow{true, "", 10, 11, 0.5, 2.5, {}};   // ttft 500 ms, tpot 200 ms
  request_timing failed{false, "HTTP 503", 0, 0, 0, 0, {}};
  const auto s = summarize_run({fast, slow, failed}, 2.0, slo{300, 150});
  EXPECT_EQ(s.completed, 2);
  EXPECT_EQ(s.failed, 1);
  EXPECT_NEAR(s.tpot_ms.mean, 150.0, 1e-9);
  EXPECT_DOUBLE_EQ(s.goodput, 0.5);  // one good request over 2 s
  EXPECT_DOUBLE_EQ(s.output_throughput, 11.0);
}

TEST(ServingWorkload, TheSameSeedGivesTheSameRequestsAndPoissonArrivalsMatchTheRate) {
  workload_options o;
  o.num_prompts = 2000;
  o.request_rate = 50;
  o.seed = 7;
  o.dataset = dataset_kind::sharegpt_like;
  const auto a = make_workload(o), b = make_workload(o);
  ASSERT_EQ(a.size(), 2000u);
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].prompt, b[i].prompt);
    EXPECT_EQ(a[i].output_len, b[i].output_len);
  }
  // 2000 exponential gaps of mean 1/50 s: the last arrival is near 40 s.
  EXPECT_NEAR(a.back().send_at_s, 40.0, 4.0);
  double in = 0, out = 0;
  for (const auto& r : a) in += r.input_len, out += r.output_len;
  EXPECT_NEAR(in / a.size(), 202, 25);   // ShareGPT means, clipped
  EXPECT_NEAR(out / a.size(), 179, 25);
}

TEST(ServingWorkload, FixedPromptsHaveExactlyInputLenWordsAndShareTheirPrefix) {
  workload_options o;
  o.num_prompts = 3;
  o.input_len = 20;
  o.shared_prefix_len = 12;
  const auto r = make_workload(o);
  for (const auto& x : r) {
    EXPECT_EQ(std::count(x.prompt.begin(), x.prompt.end(), ' '), 19);
    EXPECT_EQ(x.send_at_s, 0.0);
  }
  auto prefix = [](const std::string& s) {
    std::size_t pos = 0;
    for (int i = 0; i < 12; ++i) pos = s.find(' ', pos) + 1;
    return s.substr(0, pos);
  };
  EXPECT_EQ(prefix(r[0].prompt), prefix(r[1].prompt));
  EXPECT_NE(r[0].prompt, r[1].prompt);
}

TEST(ServingClient, BaseUrlsAreSplitIntoSchemeHostPortAndPrefix) {
  endpoint_url u;
  std::string err;
  ASSERT_TRUE(parse_base_url("https://127.0.0.1:8443/v1", &u, &err));
  EXPECT_TRUE(u.tls);
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, "8443");
  EXPECT_EQ(u.path_prefix, "");
  ASSERT_TRUE(parse_base_url("http://localhost/proxy/", &u, &err));
  EXPECT_EQ(u.port, "80");
  EXPECT_EQ(u.path_prefix, "/proxy");
  EXPECT_FALSE(parse_base_url("ftp://x", &u, &err));
}
