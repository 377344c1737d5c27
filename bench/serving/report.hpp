#pragma once
// A run's figures as a human table and as JSON (with the run's parameters),
// and charts of one or more JSON results through gnuplot.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/serving/client.hpp"
#include "bench/serving/stats.hpp"
#include "bench/serving/workload.hpp"

namespace troupe::bench {

std::string format_table(const run_summary& s, const slo& goal);

nlohmann::json to_json(const run_summary& s, const client_options& client,
                       const workload_options& workload, const slo& goal,
                       const std::string& label);

// Writes PNG or SVG charts (by the extension of out_prefix + ".png"/".svg"):
// <prefix>_latency_vs_throughput and <prefix>_percentiles. Results are grouped
// into curves by their "label" and ordered by their "point" (see sweep.hpp);
// each point is named on the chart. knee_gain > 0 marks each curve's knee
// (find_knee). Returns false and *error if gnuplot fails.
bool plot_results(const std::vector<nlohmann::json>& results, const std::string& out_prefix,
                  const std::string& format, double knee_gain, std::string* error);

// Where the run happened: CPU model and GPU names when nvidia-smi answers.
std::string describe_machine();

}  // namespace troupe::bench
