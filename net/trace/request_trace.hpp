#pragma once
// The spans of one generation request, built when it ends from the timings its
// session measured: a server span for the request (the root, or a child of the
// caller's traceparent) with children auth, queue, prefill, decode and
// response. Attributes follow the OpenTelemetry GenAI semantic conventions
// (gen_ai.*), so Langfuse shows the root span as an LLM generation.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "net/edge/request_hooks.hpp"
#include "net/trace/span.hpp"

namespace troupe::net {

// Trace identity of one request, fixed when it is admitted (the response's
// traceparent header names server_span_id).
struct request_trace_ids {
  std::array<uint8_t, 16> trace_id{};
  std::array<uint8_t, 8> server_span_id{};
  std::array<uint8_t, 8> parent_span_id{};
  bool has_parent = false;
};

// From the request's traceparent header ("" or malformed: a new trace).
request_trace_ids new_request_trace(const std::string& traceparent_header);
std::string traceparent_of(const request_trace_ids& ids);

struct request_trace_input {
  request_trace_ids ids;
  std::string operation;            // "chat" / "text_completion"
  const request_record* record = nullptr;  // model, tokens, status, finish reason, text, user
  uint64_t t0_unix_ns = 0;          // request read
  double auth_ms = -1;              // t0 → credential checked; < 0 = not measured here
  double started_ms = 0;            // t0 → handed to the engine
  double first_output_ms = -1;      // t0 → first token at the edge; < 0 = none
  double end_ms = 0;                // t0 → response complete
  std::optional<int64_t> max_tokens;
  std::optional<double> temperature, top_p;
  bool stream = false;
};

std::vector<span> request_spans(const request_trace_input& in);

}  // namespace troupe::net
