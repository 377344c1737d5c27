#include "net/api/edge_metrics.hpp"

#include <cstdio>

namespace troupe::net {
namespace {

std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// vLLM's e2e latency buckets (seconds).
const std::vector<double> kE2eBuckets = {0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0,
                                         30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0,
                                         1920.0, 7680.0};
const std::vector<double> kHttpBuckets = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                                          2.5, 5.0, 10.0, 30.0, 60.0, 120.0};

bool has_family(const std::string& text, const std::string& name) {
  return text.find("# TYPE " + name + " ") != std::string::npos;
}

}  // namespace

histogram::histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1, 0) {}

void histogram::observe(double value) {
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  counts_[i]++;
  sum_ += value;
  count_++;
}

void histogram::render(const std::string& name, const std::string& labels, std::string* out) const {
  const std::string sep = labels.empty() ? "" : ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    *out += name + "_bucket{" + labels + sep + "le=\"" + num(bounds_[i]) + "\"} " +
            std::to_string(cumulative) + "\n";
  }
  *out += name + "_bucket{" + labels + sep + "le=\"+Inf\"} " + std::to_string(count_) + "\n";
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  *out += name + "_sum" + braces + " " + num(sum_) + "\n";
  *out += name + "_count" + braces + " " + std::to_string(count_) + "\n";
}

edge_metrics::edge_metrics() : e2e_(kE2eBuckets) {}

void edge_metrics::request_finished(const std::string& endpoint, int status, double seconds) {
  std::lock_guard lock(mu_);
  requests_[{endpoint, status}]++;
  auto it = durations_.find(endpoint);
  if (it == durations_.end()) it = durations_.emplace(endpoint, histogram(kHttpBuckets)).first;
  it->second.observe(seconds);
}

void edge_metrics::generation_finished(const std::string& finish_reason, double e2e_seconds) {
  std::lock_guard lock(mu_);
  successes_[finish_reason.empty() ? "abort" : finish_reason]++;
  e2e_.observe(e2e_seconds);
}

std::string edge_metrics::render(const std::string& engine_text) const {
  std::string out;
  std::lock_guard lock(mu_);
  out += "# HELP troupe:http_requests_total HTTP requests answered, by endpoint and status.\n";
  out += "# TYPE troupe:http_requests_total counter\n";
  for (const auto& [key, n] : requests_)
    out += "troupe:http_requests_total{endpoint=\"" + key.first + "\",status=\"" +
           std::to_string(key.second) + "\"} " + std::to_string(n) + "\n";
  out += "# HELP troupe:http_request_duration_seconds Time from request read to response end.\n";
  out += "# TYPE troupe:http_request_duration_seconds histogram\n";
  for (const auto& [endpoint, h] : durations_)
    h.render("troupe:http_request_duration_seconds", "endpoint=\"" + endpoint + "\"", &out);
  out += "# HELP troupe:http_open_connections Open client connections.\n";
  out += "# TYPE troupe:http_open_connections gauge\n";
  out += "troupe:http_open_connections " + std::to_string(open_connections_.load()) + "\n";
  out += "# HELP troupe:http_rejected_connections_total Connections closed at accept (max_connections).\n";
  out += "# TYPE troupe:http_rejected_connections_total counter\n";
  out += "troupe:http_rejected_connections_total " + std::to_string(rejected_connections_.load()) + "\n";
  out += "# HELP troupe:http_client_disconnects_total Clients gone before their response ended.\n";
  out += "# TYPE troupe:http_client_disconnects_total counter\n";
  out += "troupe:http_client_disconnects_total " + std::to_string(client_disconnects_.load()) + "\n";
  out += "# HELP troupe:http_slow_clients_dropped_total Connections dropped for a full write queue.\n";
  out += "# TYPE troupe:http_slow_clients_dropped_total counter\n";
  out += "troupe:http_slow_clients_dropped_total " + std::to_string(slow_clients_dropped_.load()) + "\n";
  out += "# HELP troupe:http_timeouts_total Connections dropped by header, read or idle timeouts.\n";
  out += "# TYPE troupe:http_timeouts_total counter\n";
  out += "troupe:http_timeouts_total " + std::to_string(timeouts_.load()) + "\n";
  if (!has_family(engine_text, "troupe:request_success_total")) {
    out += "# HELP troupe:request_success_total Finished generation requests, by finish reason.\n";
    out += "# TYPE troupe:request_success_total counter\n";
    for (const auto& [reason, n] : successes_)
      out += "troupe:request_success_total{finished_reason=\"" + reason + "\"} " +
             std::to_string(n) + "\n";
  }
  if (!has_family(engine_text, "troupe:e2e_request_latency_seconds")) {
    out += "# HELP troupe:e2e_request_latency_seconds Request arrival at the edge to its last byte.\n";
    out += "# TYPE troupe:e2e_request_latency_seconds histogram\n";
    e2e_.render("troupe:e2e_request_latency_seconds", "", &out);
  }
  return engine_text + out;
}

}  // namespace troupe::net
