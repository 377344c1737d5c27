#pragma once
// Helpers for driving an engine over the fake executor in tests.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "actors/engine/engine.hpp"
#include "fake_executor.hpp"

namespace troupe::engine::testing {

// Everything the engine reported, per request.
struct engine_run {
  std::map<std::string, std::vector<int32_t>> output_ids;
  std::map<std::string, finish_reason> finished;
  std::map<std::string, int32_t> num_cached_prompt_tokens;
  std::map<std::string, int32_t> first_token_step;  // step index of the first token
  std::map<std::string, int32_t> finish_step;
  int32_t num_steps = 0;
};

// Steps until no request is unfinished (at most max_steps), recording outputs.
inline void record(const std::vector<request_output>& outputs, int32_t step, engine_run& run) {
  for (const request_output& o : outputs) {
    auto& ids = run.output_ids[o.request_id];
    if (ids.empty() && !o.new_token_ids.empty()) run.first_token_step[o.request_id] = step;
    ids.insert(ids.end(), o.new_token_ids.begin(), o.new_token_ids.end());
    run.num_cached_prompt_tokens[o.request_id] = o.num_cached_prompt_tokens;
    if (o.finished != finish_reason::none) {
      run.finished[o.request_id] = o.finished;
      run.finish_step[o.request_id] = step;
    }
  }
}

inline engine_run run_to_completion(engine& e, int32_t max_steps = 100000) {
  engine_run run;
  while (e.has_unfinished_requests() && run.num_steps < max_steps) {
    record(e.step(), run.num_steps, run);
    ++run.num_steps;
  }
  return run;
}

// A deterministic prompt of `length` ids in [1, toy_vocab_size) (0 is kept as
// the stop token of tests that want one).
inline std::vector<int32_t> make_prompt(int32_t length, uint32_t salt) {
  std::vector<int32_t> ids;
  uint32_t x = salt * 2654435761u + 12345u;
  for (int32_t i = 0; i < length; ++i) {
    x = x * 1664525u + 1013904223u;
    ids.push_back(1 + static_cast<int32_t>((x >> 8) % (toy_vocab_size - 1)));
  }
  return ids;
}

inline engine_request make_request(std::string id, std::vector<int32_t> prompt,
                                   int32_t max_tokens, float temperature = 0.0f,
                                   uint64_t seed = 0) {
  engine_request r;
  r.request_id = std::move(id);
  r.prompt_token_ids = std::move(prompt);
  r.params.max_tokens = max_tokens;
  r.params.temperature = temperature;
  r.params.seed = seed;
  r.params.ignore_eos = true;
  return r;
}

}  // namespace troupe::engine::testing
