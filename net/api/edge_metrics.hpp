#pragma once
// HTTP-side metrics of the edge, in Prometheus text format under `troupe:`
// names (docs/metrics.md maps them to vLLM's). Thread-safe: sessions on any
// strand record into it.
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "net/edge/request_hooks.hpp"

namespace troupe::net {

class histogram {
 public:
  explicit histogram(std::vector<double> upper_bounds);
  void observe(double value);
  // Appends `name_bucket{labels,le=…}`, `_sum`, `_count` lines.
  void render(const std::string& name, const std::string& labels, std::string* out) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative
  double sum_ = 0;
  uint64_t count_ = 0;
};

class edge_metrics {
 public:
  edge_metrics();
  void request_finished(const std::string& endpoint, int status, double seconds);
  // A generation answered with 200: its finish reason, its edge-measured
  // end-to-end time, and the per-request families vLLM keeps (token counts,
  // TPOT, prefill/decode/inference time) from its log row, under
  // model_name=rec.model.
  void generation_finished(const std::string& finish_reason, double e2e_seconds,
                           const request_record& rec);
  void connection_opened() { open_connections_++; }
  void connection_closed() { open_connections_--; }
  void connection_rejected() { rejected_connections_++; }
  void client_disconnected() { client_disconnects_++; }
  void slow_client_dropped() { slow_clients_dropped_++; }
  void timeout_dropped() { timeouts_++; }
  int64_t open_connections() const { return open_connections_.load(); }

  // The exposition; families already present in engine_text are left out so a
  // name is never exported twice.
  std::string render(const std::string& engine_text) const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;  // (endpoint, status)
  std::map<std::string, histogram> durations_;                // endpoint
  std::map<std::string, uint64_t> successes_;                 // finish reason
  histogram e2e_;
  // The per-request families of one model (model_name label).
  struct model_families {
    explicit model_families(int64_t max_tokens);
    histogram tpot, prompt_tokens, generation_tokens, prefill, decode, inference, e2e;
    std::map<std::string, uint64_t> successes;  // finish reason
  };
  std::map<std::string, model_families> models_;
  std::atomic<int64_t> open_connections_{0};
  std::atomic<uint64_t> rejected_connections_{0};
  std::atomic<uint64_t> client_disconnects_{0};
  std::atomic<uint64_t> slow_clients_dropped_{0};
  std::atomic<uint64_t> timeouts_{0};
};

}  // namespace troupe::net
