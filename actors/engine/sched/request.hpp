#pragma once
// What the engine takes in (a tokenized request with its sampling parameters)
// and what it gives back each iteration (new tokens per request). These are
// plain structs; actors/messages.hpp makes them CAF messages.
#include <cstdint>
#include <string>
#include <vector>

namespace troupe::engine {

enum class finish_reason : int32_t {
  none = 0,    // still running
  stop = 1,    // eos / stop token id (stop strings are decided by the request actor)
  length = 2,  // max_tokens or the model's context reached
  abort = 3,   // client went away, cancelled, or stop string matched upstream
};

const char* to_string(finish_reason r);

struct sampling_params {
  float temperature = 1.0f;
  int32_t top_k = 0;
  float top_p = 1.0f;
  float min_p = 0.0f;
  float repetition_penalty = 1.0f;
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  uint64_t seed = 0;              // always set: the caller draws one if the client gave none
  int32_t max_tokens = 16;        // output tokens
  bool ignore_eos = false;        // benchmarks: run to max_tokens
  std::vector<int32_t> stop_token_ids;  // eos ids of the model plus any extra
  int32_t num_top_logprobs = 0;   // 0..20
  bool return_logprobs = false;   // logprob of each sampled token
  // Added to the logits before sampling (OpenAI logit_bias), parallel arrays;
  // ids in [0, vocab_size), values in [-100, 100]. -100 bans, 100 all but forces.
  std::vector<int32_t> logit_bias_token_ids;
  std::vector<float> logit_bias_values;
  // Structured output: the output bytes must match this regular expression
  // (actors/engine/structured/byte_regex.hpp dialect) in full; empty = free.
  // The gateway turns JSON schemas / choices into it.
  std::string guided_regex;
};

struct engine_request {
  std::string request_id;
  std::vector<int32_t> prompt_token_ids;
  sampling_params params;
  // A request resumed on another worker after its first one died: the last
  // num_resumed_output_tokens of prompt_token_ids are output it had already
  // produced. They count as output (max_tokens, penalties, the index of the
  // next Philox draw), so the continuation is the one the dead worker would
  // have produced.
  int32_t num_resumed_output_tokens = 0;
};

struct token_logprob {
  int32_t token_id = 0;
  float logprob = 0.0f;
  std::vector<int32_t> top_token_ids;
  std::vector<float> top_logprobs;
};

// New tokens of one request after an iteration.
struct request_output {
  std::string request_id;
  std::vector<int32_t> new_token_ids;
  std::vector<token_logprob> logprobs;   // one per new token when asked for
  finish_reason finished = finish_reason::none;
  int32_t num_prompt_tokens = 0;
  int32_t num_cached_prompt_tokens = 0;  // prefix-cache hits
  int32_t num_output_tokens = 0;         // total so far
  // Milliseconds from add_request to the first step that scheduled the
  // request; -1 until then.
  double queue_time_ms = -1;
  // Non-empty: the step that ran this request failed (an executor error);
  // the request is finished (finished == abort) and this says why.
  std::string error;
};

}  // namespace troupe::engine
