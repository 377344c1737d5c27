#pragma once
// The OpenAI-compatible API as a function of one parsed HTTP request: routing,
// authentication, validation, prompt rendering and tokenization, admission.
// No sockets here: the session feeds requests in and, for generations, starts
// the prepared request and streams the formatter's output.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "actors/generation_service.hpp"
#include "net/api/edge_metrics.hpp"
#include "net/limits/auth_throttle.hpp"
#include "net/api/openai_request.hpp"
#include "net/api/openai_response.hpp"
#include "net/edge/request_hooks.hpp"
#include "net/errors.hpp"
#include "net/trace/otlp_exporter.hpp"
#include "net/trace/request_trace.hpp"

namespace troupe::net {

struct http_in {
  std::string method;         // "GET", "POST", …
  std::string target;         // path and query
  std::string body;
  std::string authorization;  // raw header value
  std::string request_id;     // x-request-id of this exchange
  std::string client_address;
  std::string traceparent;    // W3C trace context of the caller, "" if none
};

// What prepare() makes of a request that passed every check (model, prompt,
// context, admission), for HTTP and WebSocket alike.
struct prepared_generation {
  actors::generation_request request;
  int64_t estimated_tokens = 0;                // what admission reserved
  std::map<std::string, std::string> headers;  // x-ratelimit-* from admission
  std::optional<std::string> prompt_text;      // for the request log, when it keeps text
};

// A generation that passed every check; the session starts it.
struct pending_generation : prepared_generation {
  std::unique_ptr<openai_formatter> formatter;
  bool stream = false;
  principal who;
  std::string endpoint;
  // Tracing (set when a tracer is attached): the request's trace identity
  // (also sent back as the traceparent header), how long authentication took
  // from the request's arrival, and the GenAI operation name.
  request_trace_ids trace;
  double auth_ms = -1;
  std::string operation;
};

struct http_out {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string endpoint;                            // metrics label
  std::shared_ptr<pending_generation> generation;  // set: stream this instead of body
};

// A prepared Responses-WebSocket generation (admission headers unused: the
// upgrade's response has gone).
struct pending_ws_generation : prepared_generation {
  std::unique_ptr<ws_response_formatter> formatter;
};

class api_router {
 public:
  api_router(actors::generation_service& service, request_hooks& hooks, edge_metrics& metrics,
             auth_throttle_options throttle = {});

  http_out handle(const http_in& in);

  // nullopt when the credential is accepted. `source` is the client's
  // address: one that keeps failing is throttled (429) before its credential
  // is looked at (net/limits/auth_throttle.hpp).
  std::optional<api_error> authenticate(const std::string& authorization, const std::string& source,
                                        principal* who);
  // *requested_model: the model the event asked for (the served one when it
  // named none), set once the event parsed; left empty when it did not.
  std::variant<pending_ws_generation, api_error> prepare_response_create(const std::string& event_json,
                                                                        const principal& who,
                                                                        std::string* requested_model);

  static http_out error_reply(const api_error& e);
  // "chatcmpl-…" style ids: a prefix plus 24 random hex digits.
  static std::string new_id(const std::string& prefix);

  actors::generation_service& service() { return service_; }
  // Spans of finished generations go to this exporter (nullptr: no tracing).
  void set_tracer(otlp_exporter* tracer) { tracer_ = tracer; }
  otlp_exporter* tracer() { return tracer_; }
  request_hooks& hooks() { return hooks_; }
  edge_metrics& metrics() { return metrics_; }

 private:
  http_out generation(const http_in& in, api_kind kind, const principal& who,
                      std::string* requested_model);
  http_out responses_generation(const http_in& in, const principal& who, std::string* requested_model);
  void log_refusal(const http_in& in, const principal& who, const std::string& endpoint,
                   const std::string& model, int status, std::chrono::steady_clock::time_point t0);
  http_out tokenize(const http_in& in);
  http_out detokenize(const http_in& in);
  http_out models(const std::string& path);
  // Model check, prompt → token ids, max_tokens and context checks, admission.
  std::optional<api_error> prepare(openai_request& req, api_kind kind, bool chat_messages,
                                   const principal& who, prepared_generation* out);

  actors::generation_service& service_;
  request_hooks& hooks_;
  edge_metrics& metrics_;
  otlp_exporter* tracer_ = nullptr;
  auth_throttle auth_throttle_;
};

}  // namespace troupe::net
