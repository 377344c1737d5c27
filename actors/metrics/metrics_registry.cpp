#include "actors/metrics/metrics_registry.hpp"

#include "actors/metrics/prometheus_format.hpp"

#include <cstdio>

namespace troupe::actors {

namespace {

std::vector<double> latency_buckets() {
  return {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5,
          0.75,  1.0,   2.5,  5.0,  7.5,  10.0, 20.0, 40.0, 80.0};
}

// Bounds and sums as the Prometheus clients print them (le="0.005").
std::string format_double(double v) { return prometheus_number(v); }

void render_scalar(const char* type, const std::string& name, const std::string& help,
                   int64_t value, std::string& out) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  out += name + " " + std::to_string(value) + "\n";
}

}  // namespace

histogram::histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)), counts_(upper_bounds_.size() + 1, 0) {}

void histogram::observe(double value) {
  std::lock_guard lock(mutex_);
  std::size_t i = 0;
  while (i < upper_bounds_.size() && value > upper_bounds_[i]) ++i;
  ++counts_[i];
  sum_ += value;
  ++count_;
}

void histogram::render(const std::string& name, const std::string& help, std::string& out) const {
  std::lock_guard lock(mutex_);
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
  uint64_t cumulative = 0;
  for (std::size_t i = 0; i < upper_bounds_.size(); ++i) {
    cumulative += counts_[i];
    out += name + "_bucket{le=\"" + format_double(upper_bounds_[i]) + "\"} " +
           std::to_string(cumulative) + "\n";
  }
  cumulative += counts_.back();
  out += name + "_bucket{le=\"+Inf\"} " + std::to_string(cumulative) + "\n";
  out += name + "_sum " + format_double(sum_) + "\n";
  out += name + "_count " + std::to_string(count_) + "\n";
}

metrics_registry::metrics_registry()
    : time_to_first_token_seconds(latency_buckets()),
      inter_token_latency_seconds(latency_buckets()),
      e2e_request_latency_seconds(latency_buckets()),
      request_queue_time_seconds(latency_buckets()) {}

std::string metrics_registry::render() const {
  std::string out;
  render_scalar("gauge", "troupe:num_requests_running", "Requests in the running batch.",
                num_requests_running, out);
  render_scalar("gauge", "troupe:num_requests_waiting", "Requests waiting to be scheduled.",
                num_requests_waiting, out);
  const int64_t total = kv_total_blocks, free_blocks = kv_free_blocks;
  out += "# HELP troupe:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.\n"
         "# TYPE troupe:kv_cache_usage_perc gauge\n";
  out += "troupe:kv_cache_usage_perc " +
         format_double(total > 0 ? 1.0 - static_cast<double>(free_blocks) / total : 0.0) + "\n";
  render_scalar("gauge", "troupe:kv_total_blocks", "KV blocks in the pool.", total, out);
  render_scalar("gauge", "troupe:kv_free_blocks", "KV blocks held by no running sequence.",
                free_blocks, out);
  render_scalar("counter", "troupe:num_preemptions_total", "Sequences preempted (recompute).",
                num_preemptions_total, out);
  render_scalar("counter", "troupe:prefix_cache_queries_total", "Prompt tokens looked up in the prefix cache.",
                prefix_cache_queries_total, out);
  render_scalar("counter", "troupe:prefix_cache_hits_total", "Prompt tokens found in the prefix cache.",
                prefix_cache_hits_total, out);
  render_scalar("counter", "troupe:prompt_tokens_total", "Prefill tokens processed.",
                prompt_tokens_total, out);
  render_scalar("counter", "troupe:generation_tokens_total", "Generation tokens processed.",
                generation_tokens_total, out);
  out += "# HELP troupe:request_success_total Finished requests by finish reason.\n"
         "# TYPE troupe:request_success_total counter\n";
  out += "troupe:request_success_total{finished_reason=\"stop\"} " +
         std::to_string(requests_finished_stop.load()) + "\n";
  out += "troupe:request_success_total{finished_reason=\"length\"} " +
         std::to_string(requests_finished_length.load()) + "\n";
  out += "troupe:request_success_total{finished_reason=\"abort\"} " +
         std::to_string(requests_finished_abort.load()) + "\n";
  render_scalar("counter", "troupe:request_rejected_overload_total",
                "Requests refused with 503 because the admission queue was full.",
                requests_rejected_overload, out);
  time_to_first_token_seconds.render("troupe:time_to_first_token_seconds",
                                     "Time to first token in seconds.", out);
  inter_token_latency_seconds.render("troupe:inter_token_latency_seconds",
                                     "Time between output tokens in seconds.", out);
  e2e_request_latency_seconds.render("troupe:e2e_request_latency_seconds",
                                     "End-to-end request latency in seconds.", out);
  request_queue_time_seconds.render("troupe:request_queue_time_seconds",
                                    "Time from admission to first token in the scheduler, in seconds.", out);
  return out;
}

}  // namespace troupe::actors
