#include "net/api/edge_metrics.hpp"

#include <algorithm>
#include <cstdio>

#include "actors/metrics/prometheus_format.hpp"

namespace troupe::net {
namespace {

std::string num(double v) { return actors::prometheus_number(v); }

// vLLM's time_per_output_token_seconds buckets.
const std::vector<double> kTpotBuckets = {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5,
                                          0.75, 1.0,  2.5,  5.0,   7.5, 10.0, 20.0, 40.0, 80.0};

// vLLM's token-count buckets: 1, 2, 5, 10, 20, 50, … up to the context length.
std::vector<double> one_two_five(int64_t max_value) {
  std::vector<double> b;
  for (double scale = 1;; scale *= 10)
    for (double m : {1.0, 2.0, 5.0}) {
      if (m * scale > double(max_value)) return b;
      b.push_back(m * scale);
    }
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

edge_metrics::model_families::model_families(int64_t max_tokens)
    : tpot(kTpotBuckets),
      prompt_tokens(one_two_five(max_tokens)),
      generation_tokens(one_two_five(max_tokens)),
      prefill(kE2eBuckets),
      decode(kE2eBuckets),
      inference(kE2eBuckets),
      e2e(kE2eBuckets) {}

void edge_metrics::generation_finished(const std::string& finish_reason, double e2e_seconds,
                                       const request_record& rec) {
  std::lock_guard lock(mu_);
  const std::string reason = finish_reason.empty() ? "abort" : finish_reason;
  successes_[reason]++;
  e2e_.observe(e2e_seconds);
  auto it = models_.find(rec.model);
  // Token buckets up to 10^7 cover every context length in use.
  if (it == models_.end()) it = models_.emplace(rec.model, model_families(10'000'000)).first;
  model_families& m = it->second;
  m.successes[reason]++;
  m.e2e.observe(e2e_seconds);
  m.prompt_tokens.observe(double(rec.prompt_tokens));
  m.generation_tokens.observe(double(rec.completion_tokens));
  // As vLLM: prefill = first schedule → first token, decode = first token →
  // last, inference = the two; TPOT = decode time per token after the first.
  // The engine's queue time and TTFT count from its arrival; the total is the
  // edge's, so decode includes the last event's trip to the client.
  const double queue_s = rec.queue_time_ms / 1e3, ttft_s = rec.ttft_ms / 1e3;
  const double prefill_s = std::max(0.0, ttft_s - queue_s);
  const double decode_s = std::max(0.0, e2e_seconds - ttft_s);
  m.prefill.observe(prefill_s);
  m.decode.observe(decode_s);
  m.inference.observe(prefill_s + decode_s);
  if (rec.completion_tokens > 1) m.tpot.observe(decode_s / double(rec.completion_tokens - 1));
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
  auto model_label = [](const std::string& model) {
    return "model_name=\"" + actors::prometheus_label_value(model) + "\"";
  };
  if (!has_family(engine_text, "troupe:request_success_total")) {
    out += "# HELP troupe:request_success_total Finished generation requests, by finish reason.\n";
    out += "# TYPE troupe:request_success_total counter\n";
    for (const auto& [model, m] : models_)
      for (const auto& [reason, n] : m.successes)
        out += "troupe:request_success_total{" + model_label(model) + ",finished_reason=\"" + reason +
               "\"} " + std::to_string(n) + "\n";
  }
  if (!has_family(engine_text, "troupe:e2e_request_latency_seconds")) {
    out += "# HELP troupe:e2e_request_latency_seconds Request arrival at the edge to its last byte.\n";
    out += "# TYPE troupe:e2e_request_latency_seconds histogram\n";
    for (const auto& [model, m] : models_) m.e2e.render("troupe:e2e_request_latency_seconds", model_label(model), &out);
  }
  struct family {
    const char* name;
    const char* help;
    histogram model_families::*h;
  };
  static const family kFamilies[] = {
      {"troupe:time_per_output_token_seconds", "Decode time per output token after the first, per request.",
       &model_families::tpot},
      {"troupe:request_prompt_tokens", "Prompt tokens per finished request.", &model_families::prompt_tokens},
      {"troupe:request_generation_tokens", "Generated tokens per finished request.",
       &model_families::generation_tokens},
      {"troupe:request_prefill_time_seconds", "First schedule to first token, per request.",
       &model_families::prefill},
      {"troupe:request_decode_time_seconds", "First token to last token, per request.", &model_families::decode},
      {"troupe:request_inference_time_seconds", "Prefill plus decode time, per request.",
       &model_families::inference},
  };
  for (const family& f : kFamilies) {
    if (has_family(engine_text, f.name)) continue;
    out += std::string("# HELP ") + f.name + " " + f.help + "\n";
    out += std::string("# TYPE ") + f.name + " histogram\n";
    for (const auto& [model, m] : models_) (m.*f.h).render(f.name, model_label(model), &out);
  }
  return engine_text + out;
}

}  // namespace troupe::net
