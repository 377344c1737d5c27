#pragma once
// Engine-side Prometheus metrics, shared by the scheduler actor (gauges after
// every iteration) and request actors (latencies, token counts). Lock-free
// counters; histograms take a short mutex. Names follow vLLM's with a
// `troupe:` prefix (docs/metrics.md has the mapping).
#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace troupe::actors {

class histogram {
 public:
  explicit histogram(std::vector<double> upper_bounds);
  void observe(double value);
  // Appends "name_bucket{le=…}", "name_sum", "name_count" lines.
  void render(const std::string& name, const std::string& help, std::string& out) const;

 private:
  std::vector<double> upper_bounds_;
  mutable std::mutex mutex_;
  std::vector<uint64_t> counts_;  // [upper_bounds_.size() + 1], last = +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

struct metrics_registry {
  metrics_registry();

  // Gauges, written by the scheduler actor after each iteration.
  std::atomic<int64_t> num_requests_running{0};
  std::atomic<int64_t> num_requests_waiting{0};
  std::atomic<int64_t> kv_total_blocks{0};
  std::atomic<int64_t> kv_free_blocks{0};
  std::atomic<int64_t> num_preemptions_total{0};
  std::atomic<int64_t> prefix_cache_queries_total{0};
  std::atomic<int64_t> prefix_cache_hits_total{0};
  // Counters, written by request actors.
  std::atomic<int64_t> prompt_tokens_total{0};
  std::atomic<int64_t> generation_tokens_total{0};
  std::atomic<int64_t> requests_finished_stop{0};
  std::atomic<int64_t> requests_finished_length{0};
  std::atomic<int64_t> requests_finished_abort{0};
  std::atomic<int64_t> requests_rejected_overload{0};

  histogram time_to_first_token_seconds;
  histogram inter_token_latency_seconds;
  histogram e2e_request_latency_seconds;
  histogram request_queue_time_seconds;

  std::string render() const;
};

}  // namespace troupe::actors
