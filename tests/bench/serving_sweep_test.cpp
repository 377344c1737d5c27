#include <gtest/gtest.h>

#include "bench/serving/server_metrics.hpp"
#include "bench/serving/sweep.hpp"

using namespace troupe::bench;
using nlohmann::json;

namespace {

json run(const std::string& label, double seqs, double tok_s, double tpot_p50) {
  return {{"label", label},
          {"point", {{"name", "max_num_seqs"}, {"value", seqs}}},
          {"output_throughput", tok_s},
          {"request_throughput", tok_s / 100},
          {"completed", 10},
          {"failed", 0},
          {"parameters", {{"request_rate", -1}, {"max_concurrency", 0}}},
          {"ttft_ms", {{"p50", 10.0}, {"p99", 20.0}}},
          {"tpot_ms", {{"p50", tpot_p50}, {"p99", 2 * tpot_p50}}}};
}

}  // namespace

TEST(ServingSweep, RunsOfOneLabelFormOneCurveOrderedByTheirPoint) {
  const std::vector<json> results = {run("a", 16, 300, 5), run("b", 1, 50, 2), run("a", 1, 100, 2),
                                     run("a", 4, 250, 3)};
  const auto curves = group_curves(results);
  ASSERT_EQ(curves.size(), 2u);
  EXPECT_EQ(curves[0].label, "a");
  ASSERT_EQ(curves[0].points.size(), 3u);
  EXPECT_EQ(curves[0].points[0].point_value, 1);
  EXPECT_EQ(curves[0].points[1].point_value, 4);
  EXPECT_EQ(curves[0].points[2].point_text(), "max_num_seqs=16");
}

// Throughput 100 → 250 (+150%) → 260 (+4%, TPOT +67%) → 262: the knee is the
// point before the first step that gains < 10% while TPOT grows faster.
TEST(ServingSweep, TheKneeIsThePointAfterWhichThroughputStallsAndTpotClimbs) {
  const std::vector<json> results = {run("c", 1, 100, 2), run("c", 4, 250, 3), run("c", 16, 260, 5),
                                     run("c", 64, 262, 9)};
  auto curves = group_curves(results);
  const auto knee = find_knee(curves[0].points, 0.10);
  ASSERT_TRUE(knee.has_value());
  EXPECT_EQ(*knee, 1u);  // max_num_seqs=4
  mark_knees(curves, 0.10);
  const std::string table = markdown_table(curves, true);
  EXPECT_NE(table.find("| c | max_num_seqs=4 |"), std::string::npos) << table;
  EXPECT_NE(table.find("| knee |\n| c | max_num_seqs=16"), std::string::npos) << table;
}

// 1 → 4 dips (noise) but 16 and 64 climb far beyond: the dip is no knee.
TEST(ServingSweep, ADipFollowedByFurtherGrowthIsNotTheKnee) {
  const std::vector<json> results = {run("c", 1, 240, 3), run("c", 4, 210, 12), run("c", 16, 460, 17),
                                     run("c", 64, 830, 20), run("c", 256, 850, 31)};
  const auto curves = group_curves(results);
  const auto knee = find_knee(curves[0].points, 0.10);
  ASSERT_TRUE(knee.has_value());
  EXPECT_EQ(curves[0].points[*knee].point_value, 64);
}

TEST(ServingSweep, AStillClimbingCurveHasNoKnee) {
  const std::vector<json> results = {run("c", 1, 100, 2), run("c", 4, 200, 3), run("c", 16, 400, 5)};
  const auto curves = group_curves(results);
  EXPECT_FALSE(find_knee(curves[0].points, 0.10).has_value());
}

// The engine's counters carry model_name (as vLLM's): a run's delta is also
// summed under the bare name, so the hit rate reads the same.
TEST(ServingServerMetrics, LabelledCountersAreAlsoSummedUnderTheirBareName) {
  const auto before = parse_prometheus_samples(
      "troupe:prefix_cache_hits_total{model_name=\"m\"} 100\n"
      "troupe:prefix_cache_queries_total{model_name=\"m\"} 400\n");
  const auto after = parse_prometheus_samples(
      "troupe:prefix_cache_hits_total{model_name=\"m\"} 250\n"
      "troupe:prefix_cache_queries_total{model_name=\"m\"} 700\n");
  const auto delta = counter_deltas(before, after);
  EXPECT_EQ(delta.at("troupe:prefix_cache_hits_total{model_name=\"m\"}"), 150);
  EXPECT_EQ(delta.at("troupe:prefix_cache_hits_total"), 150);
  EXPECT_EQ(delta.at("troupe:prefix_cache_queries_total"), 300);
}

// Sample text in the Prometheus exposition format, as /metrics serves it.
TEST(ServingServerMetrics, CounterDeltasGiveThePrefixCacheHitRateOfARun) {
  const auto before = parse_prometheus_samples(
      "# HELP troupe:prefix_cache_hits_total x\n# TYPE troupe:prefix_cache_hits_total counter\n"
      "troupe:prefix_cache_hits_total 100\ntroupe:prefix_cache_queries_total 400\n"
      "troupe:num_requests_running 3\nhttp_requests_total{code=\"200\"} 7\n");
  const auto after = parse_prometheus_samples(
      "troupe:prefix_cache_hits_total 400\ntroupe:prefix_cache_queries_total 800\n"
      "troupe:num_requests_running 0\nhttp_requests_total{code=\"200\"} 17\n");
  const auto delta = counter_deltas(before, after);
  EXPECT_EQ(delta.at("troupe:prefix_cache_hits_total"), 300);
  EXPECT_EQ(delta.at("http_requests_total{code=\"200\"}"), 10);
  EXPECT_FALSE(delta.contains("troupe:num_requests_running"));  // a gauge, not a counter
  json result = {{"server_metrics", delta}};
  EXPECT_DOUBLE_EQ(*prefix_cache_hit_rate(result), 0.75);
}
