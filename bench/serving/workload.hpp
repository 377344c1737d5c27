#pragma once
// The requests a serving benchmark sends: prompt and output lengths from a
// seeded distribution, and when each request is sent.
#include <cstdint>
#include <string>
#include <vector>

namespace troupe::bench {

enum class dataset_kind { fixed, uniform, sharegpt_like };

struct workload_options {
  dataset_kind dataset = dataset_kind::fixed;
  int32_t num_prompts = 100;
  int32_t input_len = 128;    // fixed: exact; uniform: mean of [len/2, 3len/2]
  int32_t output_len = 128;
  uint64_t seed = 0;
  double request_rate = 0;    // requests/s, Poisson; <= 0 means all at once
  int32_t shared_prefix_len = 0;  // words every prompt starts with (prefix-cache experiment)
};

struct bench_request {
  std::string prompt;       // about input_len tokens: one common word per token
  int32_t input_len = 0;    // words in the prompt
  int32_t output_len = 0;   // max_tokens, with ignore_eos so it is exact on servers that honour it
  double send_at_s = 0;     // seconds after the start
};

// ShareGPT-like lengths: log-normal input and output lengths whose means match
// the ShareGPT figures vLLM's benchmarks report (202 prompt / 179 output tokens
// on average), clipped to [4, 1024].
std::vector<bench_request> make_workload(const workload_options& options);

bool parse_dataset(const std::string& name, dataset_kind* out);

}  // namespace troupe::bench
