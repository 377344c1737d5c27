#pragma once
// What one benchmark run measured, and the summary figures computed from it.
#include <cstdint>
#include <string>
#include <vector>

namespace troupe::bench {

// One request as the client saw it.
struct request_timing {
  bool ok = false;
  std::string error;            // status line or error body when !ok
  int32_t prompt_tokens = 0;    // from the server's usage, else the workload's estimate
  int32_t output_tokens = 0;    // from usage, else the number of content events
  double ttft_s = 0;            // send → first non-empty content
  double e2e_s = 0;             // send → end of stream
  std::vector<double> itl_s;    // gaps between content events
  double tpot_s() const {       // (e2e - ttft) / (output - 1), vLLM's definition
    return output_tokens > 1 ? (e2e_s - ttft_s) / (output_tokens - 1) : 0.0;
  }
};

struct distribution {
  double mean = 0, p50 = 0, p90 = 0, p99 = 0;
};

distribution summarize(std::vector<double> values);

struct slo {
  double ttft_ms = 0;   // 0 = no bound
  double tpot_ms = 0;
};

struct run_summary {
  int32_t completed = 0;
  int32_t failed = 0;
  double duration_s = 0;
  double request_throughput = 0;       // completed / duration
  double output_throughput = 0;        // output tokens / duration
  double total_token_throughput = 0;   // (prompt + output) tokens / duration
  int64_t total_input_tokens = 0;
  int64_t total_output_tokens = 0;
  distribution ttft_ms, tpot_ms, itl_ms, e2e_ms;
  double goodput = 0;                  // requests/s meeting every SLO
  std::vector<std::string> sample_errors;  // first few failures
};

run_summary summarize_run(const std::vector<request_timing>& timings, double duration_s,
                          const slo& goal);

}  // namespace troupe::bench
