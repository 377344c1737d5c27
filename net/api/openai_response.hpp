#pragma once
// Generation events → the bytes of an OpenAI response: one chat.completion /
// text_completion JSON body, or SSE chunks (chat.completion.chunk /
// text_completion) ending in `data: [DONE]`; and the Responses WebSocket events.
// Pure: no sockets, so every shape is unit-tested.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/generation_service.hpp"
#include "net/errors.hpp"

namespace troupe::net {

enum class api_kind { chat, completion, responses };  // responses: POST /v1/responses

struct format_step {
  std::string bytes;                 // to send now (SSE events, or the whole body when complete)
  bool complete = false;             // the response is finished after these bytes
  std::optional<api_error> error;    // non-streaming failure: answer this instead
};

class ws_response_formatter;

class openai_formatter {
 public:
  struct options {
    api_kind kind = api_kind::chat;
    std::string id;                  // "chatcmpl-…" / "cmpl-…"
    std::string model;
    int64_t created_unix_s = 0;
    bool stream = false;
    bool include_usage = false;
    int32_t n = 1;                   // choices per prompt the client sees
    int32_t best_of = 1;             // sequences per prompt generated (>= n); the n with the
                                     // highest cumulative logprob are returned
    bool logprobs = false;
    int32_t num_prompts = 1;         // completions with several prompts
    // Chat with tools offered: the format to read calls in ("hermes",
    // "llama3_json", "mistral"); empty = no tools. Streams are then held back
    // per choice until it ends, and sent as content or tool_calls deltas.
    std::string tool_call_format;
    std::vector<std::string> echo_prompts;  // completions echo: prompt texts, in order
  };
  explicit openai_formatter(options o);
  ~openai_formatter();

  format_step on_event(const actors::generation_event& ev);

  // For the request log.
  const std::string& finish_reason() const { return last_finish_reason_; }
  int32_t prompt_tokens() const { return prompt_tokens_; }
  int32_t completion_tokens() const { return completion_tokens_; }

 private:
  struct choice {
    bool role_sent = false;
    bool echo_sent = false;
    double cumulative_logprob = 0;
    std::string text;
    std::string finish_reason;
    std::vector<actors::token_logprob_text> logprobs;
  };
  void on_choice_event(const actors::generation_event& ev, format_step* out);
  std::string chunk(const std::string& choices_json) const;
  std::string stream_choice(int32_t index, const actors::generation_event& ev, bool first);
  std::string final_body() const;
  // A finished choice's message: content and tool_calls (when tools are on).
  struct message_parts {
    std::optional<std::string> content;
    std::vector<std::pair<std::string, std::string>> calls;  // (name, arguments JSON)
  };
  message_parts split_message(const std::string& text) const;
  std::string tool_stream_chunks(int32_t index, const actors::generation_event& ev);
  std::string call_id(int32_t choice, size_t k) const;

  // POST /v1/responses: the Responses events (as on the WebSocket), framed
  // as SSE `event:`/`data:` pairs, or the final response object.
  format_step on_responses_event(const actors::generation_event& ev);
  std::unique_ptr<ws_response_formatter> responses_;
  bool responses_started_ = false;

  options opt_;
  std::vector<choice> choices_;
  std::string last_finish_reason_;
  int32_t prompt_tokens_ = 0;
  int32_t completion_tokens_ = 0;
  int32_t cached_tokens_ = 0;
  size_t completion_text_offset_ = 0;
};

// One Responses-API stream on a WebSocket (stream_id lane).
class ws_response_formatter {
 public:
  ws_response_formatter(std::string response_id, std::string stream_id, std::string model,
                        int64_t created_unix_s);
  std::string created_event();
  // Appends zero or more events; returns true when the stream reached its terminal event.
  bool on_event(const actors::generation_event& ev, std::vector<std::string>* out);
  // The terminal event for a client's response.cancel.
  std::string cancelled_event();

 private:
  std::string response_object(const std::string& status, bool with_usage) const;
  std::string stamp(std::string type_and_fields);
  // response.in_progress, output_item.added, content_part.added (once, before
  // the first delta) and their .done counterparts at the end.
  void open_item(std::vector<std::string>* out);
  std::string message_item(const std::string& status) const;  // the output message, as JSON text
  bool item_open_ = false;

  std::string response_id_, stream_id_, model_, item_id_;
  int64_t created_ = 0;
  int64_t sequence_number_ = 0;
  std::string text_;
  int32_t input_tokens_ = 0, output_tokens_ = 0;
};

}  // namespace troupe::net
