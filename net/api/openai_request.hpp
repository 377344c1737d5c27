#pragma once
// OpenAI request bodies → one plain struct, with every field type-checked.
// Unknown fields are ignored (as OpenAI-compatible servers do); a field of the
// wrong type or out of range is an api_error naming it in `param`; null means
// "not given".
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "actors/generation_service.hpp"
#include "net/api/structured_request.hpp"
#include "net/api/tool_request.hpp"
#include "net/errors.hpp"

namespace troupe::net {

// One prompt of /v1/completions: text, or token ids.
struct prompt_item {
  std::optional<std::string> text;
  std::vector<int32_t> token_ids;
};

struct openai_request {
  std::string model;                          // empty = not given
  std::vector<actors::chat_message> messages; // chat and responses
  std::optional<std::string> prompt_text;     // completions / tokenize
  std::vector<int32_t> prompt_token_ids;      // completions given token ids
  std::optional<int64_t> max_tokens;          // max_tokens | max_completion_tokens | max_output_tokens
  engine::sampling_params params;             // max_tokens filled in later by the router
  bool has_seed = false;
  // Which sampling fields the client set; the others take the model's
  // generation_config.json defaults (as vLLM does), then OpenAI's.
  bool has_temperature = false, has_top_p = false, has_top_k = false,
       has_repetition_penalty = false;
  std::vector<std::string> stop;
  int32_t n = 1;
  bool stream = false;
  bool include_usage = false;
  bool logprobs = false;                      // chat: logprobs; completions: logprobs given
  int32_t top_logprobs = 0;                   // chat: top_logprobs; completions: logprobs int
  bool add_special_tokens = true;             // /tokenize
  std::string user;
  std::string stream_id;                      // WebSocket responses
  // Completions: prompts after the first (prompt_text / prompt_token_ids).
  std::vector<prompt_item> extra_prompts;
  bool echo = false;                          // completions: prompt text before the output
  int32_t best_of = 0;                        // completions: 0 = not given (= n)
  bool include_stop_str_in_output = false;    // vLLM
  structured_output structured;               // response_format / guided_*
  tool_request tools;                         // chat: tools, tool_choice, parallel_tool_calls
};

using parse_result = std::variant<openai_request, api_error>;

// POST /v1/chat/completions
parse_result parse_chat_request(std::string_view body);
// POST /v1/completions
parse_result parse_completion_request(std::string_view body);
// POST /tokenize ({"prompt"} or {"messages"}, add_special_tokens)
parse_result parse_tokenize_request(std::string_view body);
// POST /detokenize ({"tokens":[…]}) → the ids in prompt_token_ids
parse_result parse_detokenize_request(std::string_view body);
// A WebSocket {"type":"response.create", …} event, already known to be an object.
parse_result parse_response_create(std::string_view event_json);

}  // namespace troupe::net
