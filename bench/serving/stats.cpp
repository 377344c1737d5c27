#include "bench/serving/stats.hpp"

#include <algorithm>
#include <cmath>

namespace troupe::bench {

namespace {

// Linear interpolation between closest ranks (numpy's default percentile).
double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const double pos = q / 100.0 * (sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const auto hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

}  // namespace

distribution summarize(std::vector<double> values) {
  distribution d;
  if (values.empty()) return d;
  std::sort(values.begin(), values.end());
  double sum = 0;
  for (double v : values) sum += v;
  d.mean = sum / values.size();
  d.p50 = percentile(values, 50);
  d.p90 = percentile(values, 90);
  d.p99 = percentile(values, 99);
  return d;
}

run_summary summarize_run(const std::vector<request_timing>& timings, double duration_s,
                          const slo& goal) {
  run_summary s;
  s.duration_s = duration_s;
  std::vector<double> ttft, tpot, itl, e2e;
  int32_t good = 0;
  for (const auto& t : timings) {
    if (!t.ok) {
      ++s.failed;
      if (s.sample_errors.size() < 5) s.sample_errors.push_back(t.error);
      continue;
    }
    ++s.completed;
    s.total_input_tokens += t.prompt_tokens;
    s.total_output_tokens += t.output_tokens;
    ttft.push_back(1e3 * t.ttft_s);
    e2e.push_back(1e3 * t.e2e_s);
    if (t.output_tokens > 1) tpot.push_back(1e3 * t.tpot_s());
    for (double g : t.itl_s) itl.push_back(1e3 * g);
    const bool ttft_ok = goal.ttft_ms <= 0 || 1e3 * t.ttft_s <= goal.ttft_ms;
    const bool tpot_ok = goal.tpot_ms <= 0 || 1e3 * t.tpot_s() <= goal.tpot_ms;
    if (ttft_ok && tpot_ok) ++good;
  }
  s.ttft_ms = summarize(ttft);
  s.tpot_ms = summarize(tpot);
  s.itl_ms = summarize(itl);
  s.e2e_ms = summarize(e2e);
  if (duration_s > 0) {
    s.request_throughput = s.completed / duration_s;
    s.output_throughput = s.total_output_tokens / duration_s;
    s.total_token_throughput = (s.total_input_tokens + s.total_output_tokens) / duration_s;
    s.goodput = good / duration_s;
  }
  return s;
}

}  // namespace troupe::bench
