#pragma once
// The one interface the network layer uses to reach the engine side. net/ never
// sees CAF: it calls this facade, which spawns a request actor per generation
// and delivers events through a sink. Implemented in actors/node/.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/engine/sched/request.hpp"

namespace troupe::actors {

struct chat_message {
  std::string role;
  std::string content;
  // Tool calling: an assistant message's calls as a JSON array of
  // {"id","type":"function","function":{"name","arguments":{…}}} (arguments
  // parsed into an object, as vLLM gives them to templates); a tool message's
  // call id and function name. Empty when absent.
  std::string tool_calls_json;
  std::string tool_call_id;
  std::string name;
};

struct generation_request {
  std::string request_id;            // "chatcmpl-…" / "cmpl-…" / "resp_…"
  std::string model;
  // Exactly one of prompt_text / prompt_token_ids is used; text is encoded with
  // the tokenizer's special tokens (as HF add_special_tokens=True) unless
  // add_special_tokens is false (chat prompts already carry them).
  std::optional<std::string> prompt_text;
  std::vector<int32_t> prompt_token_ids;
  bool add_special_tokens = true;
  engine::sampling_params params;    // seed may be left 0 with has_seed=false
  bool has_seed = false;
  std::vector<std::string> stop;     // stop strings, never emitted…
  bool include_stop_str_in_output = false;  // …unless this is set (vLLM)
  int32_t n = 1;                     // choices per prompt, each its own sequence
  // /v1/completions with several prompts: prompts 1.. (prompt 0 is
  // prompt_token_ids); choice i runs prompt i / n. Usage counts each prompt once.
  std::vector<std::vector<int32_t>> extra_prompt_token_ids;
  std::string principal;             // who asked (for logs/limits), never a secret
  std::string user;                  // the OpenAI `user` field (end user named by the app), for logs
};

enum class service_error {
  none,
  bad_request,           // invalid parameter (message says which)
  context_length_exceeded,
  overloaded,            // admission queue full → 503 + Retry-After
  not_ready,
  worker_lost,           // its worker failed and no other worker of the model could continue
  internal,
};

struct token_logprob_text {
  std::string token;
  float logprob = 0.0f;
  std::vector<std::pair<std::string, float>> top;  // (token text, logprob)
};

struct generation_event {
  int32_t index = 0;                 // choice index
  std::string text_delta;            // safe UTF-8, never a split code point
  std::vector<int32_t> token_ids;    // tokens behind this delta
  std::vector<token_logprob_text> logprobs;
  engine::finish_reason finished = engine::finish_reason::none;  // none while streaming
  std::string finish_reason_text;    // "stop" / "length" once finished
  // Set on the last event of the whole request (all choices finished):
  bool done = false;
  int32_t prompt_tokens = 0;
  int32_t completion_tokens = 0;     // all choices
  int32_t cached_prompt_tokens = 0;
  double queue_time_ms = 0, ttft_ms = 0;
  // An error after the request was accepted (e.g. the worker died).
  service_error error = service_error::none;
  std::string error_message;
};

// Called from actor threads; the implementation must post to its own strand.
using event_sink = std::function<void(generation_event)>;

struct model_info {
  std::string id;
  int64_t created = 0;
  int32_t max_model_len = 0;
  bool has_chat_template = false;
  int32_t vocab_size = 0;            // token ids are < this (0 = unknown)
  // How the chat template's model writes tool calls: "hermes",
  // "llama3_json" or "mistral" (actors/engine/chat/tool_calls.hpp).
  std::string tool_call_format = "llama3_json";
  // Sampling defaults from the checkpoint's generation_config.json, applied
  // to requests that leave the field out.
  std::optional<float> default_temperature, default_top_p, default_repetition_penalty;
  std::optional<int32_t> default_top_k;
};

class generation_service {
 public:
  virtual ~generation_service() = default;

  // Every model the service routes to (a gateway learns them from its
  // workers), the default model first.
  virtual std::vector<model_info> models() const = 0;
  // True while every known model has a worker that takes requests.
  virtual bool ready() const = 0;

  // The model a request names; "" means the default one. nullopt: not served.
  std::optional<model_info> find_model(const std::string& name) const {
    const std::vector<model_info> all = models();
    if (all.empty()) return std::nullopt;
    if (name.empty()) return all.front();
    for (const model_info& m : all)
      if (m.id == name) return m;
    return std::nullopt;
  }
  // The default model (an empty info while none is known).
  model_info model() const { return find_model("").value_or(model_info{}); }

  // Text work for a served model (model as returned by find_model).
  virtual std::vector<int32_t> tokenize(const std::string& model, const std::string& text,
                                        bool add_special_tokens) const = 0;
  virtual std::string detokenize(const std::string& model, const std::vector<int32_t>& ids) const = 0;
  // Renders the model's chat template; on failure returns nullopt and sets *error.
  virtual std::optional<std::string> render_chat(const std::string& model,
                                                 const std::vector<chat_message>& messages,
                                                 bool add_generation_prompt,
                                                 std::string* error) const = 0;

  // The same with tool definitions (a JSON array of OpenAI tools, as text)
  // given to the template as `tools`, as transformers'
  // apply_chat_template(tools=…) does. Empty tools_json = render_chat.
  virtual std::optional<std::string> render_chat_with_tools(const std::string& model,
                                                            const std::vector<chat_message>& messages,
                                                            const std::string& tools_json,
                                                            bool add_generation_prompt,
                                                            std::string* error) const {
    if (tools_json.empty()) return render_chat(model, messages, add_generation_prompt, error);
    *error = "this server cannot render tool definitions";
    return std::nullopt;
  }

  // Validates and admits a request synchronously (so the caller can answer 400 /
  // 503 before any byte is sent), then streams events to sink. On error nothing
  // is started and sink is never called.
  virtual service_error start(generation_request request, event_sink sink,
                              std::string* error_message) = 0;
  // Aborts a started request (client vanished, cancel); its KV blocks are freed
  // in the scheduler's next iteration. Unknown or finished ids are ignored.
  virtual void cancel(const std::string& request_id) = 0;

  // Prometheus text exposition of the engine-side metrics.
  virtual std::string metrics_text() const = 0;
};

}  // namespace troupe::actors
