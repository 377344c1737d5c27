#include "bench/serving/sweep.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace troupe::bench {

namespace {

double number_at(const nlohmann::json& j, const char* key, const char* sub = nullptr) {
  if (!j.contains(key)) return 0;
  const nlohmann::json& v = sub ? j[key].value(sub, nlohmann::json()) : j[key];
  return v.is_number() ? v.get<double>() : 0;
}

std::string format_number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

}  // namespace

std::string sweep_point::point_text() const {
  return point_name.empty() ? "" : point_name + "=" + format_number(point_value);
}

std::vector<sweep_curve> group_curves(const std::vector<nlohmann::json>& results) {
  std::vector<sweep_curve> curves;
  for (const auto& r : results) {
    const std::string label = r.value("label", "run");
    auto it = std::find_if(curves.begin(), curves.end(), [&](const auto& c) { return c.label == label; });
    if (it == curves.end()) {
      curves.push_back({label, {}, std::nullopt});
      it = curves.end() - 1;
    }
    sweep_point p;
    p.result = &r;
    if (r.contains("point") && r["point"].is_object()) {
      p.point_name = r["point"].value("name", "");
      p.point_value = r["point"].value("value", 0.0);
    }
    p.output_throughput = number_at(r, "output_throughput");
    p.tpot_p50_ms = number_at(r, "tpot_ms", "p50");
    it->points.push_back(std::move(p));
  }
  for (auto& c : curves) {
    const bool all_points = std::all_of(c.points.begin(), c.points.end(),
                                        [](const auto& p) { return !p.point_name.empty(); });
    std::stable_sort(c.points.begin(), c.points.end(), [&](const auto& a, const auto& b) {
      return all_points ? a.point_value < b.point_value : a.output_throughput < b.output_throughput;
    });
  }
  return curves;
}

std::optional<std::size_t> find_knee(const std::vector<sweep_point>& points,
                                     double max_throughput_gain) {
  for (std::size_t i = 0; i + 1 < points.size(); ++i) {
    const auto& a = points[i];
    if (a.output_throughput <= 0 || a.tpot_p50_ms <= 0) continue;
    // Gain to the best later point, so that one noisy dip is not a knee.
    double best_later = 0;
    for (std::size_t j = i + 1; j < points.size(); ++j)
      best_later = std::max(best_later, points[j].output_throughput);
    const double throughput_gain = best_later / a.output_throughput - 1;
    const double tpot_growth = points[i + 1].tpot_p50_ms / a.tpot_p50_ms - 1;
    if (throughput_gain < max_throughput_gain && tpot_growth > throughput_gain) return i;
  }
  return std::nullopt;
}

void mark_knees(std::vector<sweep_curve>& curves, double max_throughput_gain) {
  for (auto& c : curves) c.knee = find_knee(c.points, max_throughput_gain);
}

std::optional<double> prefix_cache_hit_rate(const nlohmann::json& r) {
  if (!r.contains("server_metrics") || !r["server_metrics"].is_object()) return std::nullopt;
  const auto& m = r["server_metrics"];
  const double queries = m.value("troupe:prefix_cache_queries_total", 0.0);
  const double hits = m.value("troupe:prefix_cache_hits_total", 0.0);
  if (queries <= 0) return std::nullopt;
  return hits / queries;
}

std::string markdown_table(const std::vector<sweep_curve>& curves, bool with_knee) {
  bool any_hit_rate = false, any_server_metrics = false;
  for (const auto& c : curves)
    for (const auto& p : c.points) {
      any_hit_rate |= prefix_cache_hit_rate(*p.result).has_value();
      any_server_metrics |= p.result->contains("server_metrics");
    }
  std::ostringstream o;
  o << "| label | point | offered load | completed | failed | req/s | output tok/s "
       "| TTFT p50 (ms) | TTFT p99 (ms) | TPOT p50 (ms) | TPOT p99 (ms) |";
  if (any_hit_rate) o << " prefix-cache hit rate |";
  if (any_server_metrics) o << " preemptions |";
  if (with_knee) o << " knee |";
  o << "\n|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|";
  if (any_hit_rate) o << "---:|";
  if (any_server_metrics) o << "---:|";
  if (with_knee) o << "---|";
  o << "\n";
  for (const auto& c : curves) {
    for (std::size_t i = 0; i < c.points.size(); ++i) {
      const auto& p = c.points[i];
      const auto& r = *p.result;
      const nlohmann::json params = r.value("parameters", nlohmann::json::object());
      const double rate = params.value("request_rate", -1.0);
      const int64_t concurrency = params.value("max_concurrency", int64_t{0});
      std::string load = rate > 0 ? format_number(rate) + " req/s" : "all at once";
      if (concurrency > 0) load += ", concurrency " + std::to_string(concurrency);
      o << "| " << c.label << " | " << (p.point_name.empty() ? "-" : p.point_text()) << " | " << load
        << " | " << r.value("completed", 0) << " | " << r.value("failed", 0) << " | "
        << fixed(number_at(r, "request_throughput"), 2) << " | " << fixed(p.output_throughput, 1)
        << " | " << fixed(number_at(r, "ttft_ms", "p50"), 1) << " | "
        << fixed(number_at(r, "ttft_ms", "p99"), 1) << " | " << fixed(p.tpot_p50_ms, 2) << " | "
        << fixed(number_at(r, "tpot_ms", "p99"), 2) << " |";
      if (any_hit_rate) {
        const auto h = prefix_cache_hit_rate(r);
        o << " " << (h ? fixed(100 * *h, 1) + "%" : "-") << " |";
      }
      if (any_server_metrics) {
        const auto m = r.value("server_metrics", nlohmann::json::object());
        const auto it = m.find("troupe:num_preemptions_total");
        o << " " << (it != m.end() && it->is_number() ? format_number(it->get<double>()) : "-") << " |";
      }
      if (with_knee) o << " " << (c.knee && *c.knee == i ? "knee" : "") << " |";
      o << "\n";
    }
  }
  return o.str();
}

}  // namespace troupe::bench
