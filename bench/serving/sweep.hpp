#pragma once
// A set of bench results read as sweeps: grouped into one curve per label,
// ordered along the swept parameter (--point NAME=VALUE), the knee of a
// curve, and a markdown table of every run.
#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace troupe::bench {

struct sweep_point {
  const nlohmann::json* result = nullptr;
  std::string point_name;   // "" when the run was not given --point
  double point_value = 0;
  double output_throughput = 0;  // tokens/s
  double tpot_p50_ms = 0;
  std::string point_text() const;  // "max_num_seqs=16", or "" without a point
};

struct sweep_curve {
  std::string label;
  std::vector<sweep_point> points;  // by point_value when every run has one, else by throughput
  std::optional<std::size_t> knee;  // set by mark_knees
};

// Curves in the order their labels first appear in `results` (which must
// outlive the curves).
std::vector<sweep_curve> group_curves(const std::vector<nlohmann::json>& results);

// The knee of a curve ordered by a growing parameter (concurrency, batch size,
// rate): the first point after which output throughput never again grows by
// max_throughput_gain (relative, 0.10 = 10%) or more, while the next step
// grows TPOT p50 by more than that throughput gain. Past the knee, more
// concurrency buys latency, not throughput. Comparing with the best later
// point (not only the next) keeps one noisy dip from being taken as the knee.
// nullopt when no point qualifies (the curve still climbs within the sweep).
std::optional<std::size_t> find_knee(const std::vector<sweep_point>& points,
                                     double max_throughput_gain);
void mark_knees(std::vector<sweep_curve>& curves, double max_throughput_gain);

// One markdown row per run: label, point, offered load, throughput, TTFT and
// TPOT p50/p99, the prefix-cache hit rate and preemptions where the run
// scraped the server's counters, and "knee" on knee rows when with_knee.
std::string markdown_table(const std::vector<sweep_curve>& curves, bool with_knee);

// Hits / queries of the prefix cache from a run's "server_metrics" deltas;
// nullopt when the run has none or nothing was looked up.
std::optional<double> prefix_cache_hit_rate(const nlohmann::json& result);

}  // namespace troupe::bench
