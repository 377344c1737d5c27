#include "net/trace/request_trace.hpp"

#include <algorithm>

#include "net/trace/trace_context.hpp"

namespace troupe::net {

request_trace_ids new_request_trace(const std::string& traceparent_header) {
  request_trace_ids ids;
  if (auto ctx = parse_traceparent(traceparent_header)) {
    ids.trace_id = ctx->trace_id;
    ids.parent_span_id = ctx->parent_span_id;
    ids.has_parent = true;
  } else {
    ids.trace_id = random_trace_id();
  }
  ids.server_span_id = random_span_id();
  return ids;
}

std::string traceparent_of(const request_trace_ids& ids) {
  return format_traceparent(ids.trace_id, ids.server_span_id, true);
}

std::vector<span> request_spans(const request_trace_input& in) {
  const request_record& rec = *in.record;
  auto at = [&](double ms) { return in.t0_unix_ns + static_cast<uint64_t>(std::max(0.0, ms) * 1e6); };
  std::vector<span> out;

  span root;
  root.trace_id = in.ids.trace_id;
  root.span_id = in.ids.server_span_id;
  root.parent_span_id = in.ids.parent_span_id;
  root.has_parent = in.ids.has_parent;
  root.kind = 2;  // SERVER
  root.name = in.operation + " " + rec.model;  // GenAI convention: "{operation} {model}"
  root.start_unix_ns = at(0);
  root.end_unix_ns = at(in.end_ms);
  auto& a = root.attributes;
  a.push_back({"gen_ai.operation.name", in.operation});
  a.push_back({"gen_ai.system", std::string("troupe")});
  a.push_back({"gen_ai.provider.name", std::string("troupe")});
  a.push_back({"gen_ai.request.model", rec.model});
  a.push_back({"gen_ai.response.model", rec.model});
  a.push_back({"gen_ai.response.id", rec.request_id});
  if (!rec.finish_reason.empty())
    a.push_back({"gen_ai.response.finish_reasons", std::vector<std::string>{rec.finish_reason}});
  a.push_back({"gen_ai.usage.input_tokens", rec.prompt_tokens});
  a.push_back({"gen_ai.usage.output_tokens", rec.completion_tokens});
  if (in.max_tokens) a.push_back({"gen_ai.request.max_tokens", *in.max_tokens});
  if (in.temperature) a.push_back({"gen_ai.request.temperature", *in.temperature});
  if (in.top_p) a.push_back({"gen_ai.request.top_p", *in.top_p});
  if (rec.ttft_ms > 0) a.push_back({"gen_ai.server.time_to_first_token", rec.ttft_ms / 1e3});
  a.push_back({"gen_ai.request.stream", in.stream});
  a.push_back({"http.request.method", std::string("POST")});
  a.push_back({"http.route", rec.endpoint});
  a.push_back({"http.response.status_code", int64_t(rec.status)});
  if (!rec.user.empty()) a.push_back({"user.id", rec.user});
  if (!rec.principal_id.empty()) a.push_back({"troupe.principal", rec.principal_id});
  // Text only when the request log keeps it (log.store_text): the prompt as
  // rendered and the output, under the names Langfuse reads as input/output.
  if (rec.prompt_text) a.push_back({"gen_ai.prompt", *rec.prompt_text});
  if (rec.output_text) a.push_back({"gen_ai.completion", *rec.output_text});
  if (rec.status >= 400 || rec.status == 0) {
    root.error = true;
    root.status_message = "HTTP " + std::to_string(rec.status);
  }
  out.push_back(root);

  auto child = [&](const char* name, double from_ms, double to_ms) {
    if (to_ms < from_ms) return;
    span s;
    s.trace_id = root.trace_id;
    s.span_id = random_span_id();
    s.parent_span_id = root.span_id;
    s.has_parent = true;
    s.name = name;
    s.start_unix_ns = at(from_ms);
    s.end_unix_ns = at(to_ms);
    out.push_back(std::move(s));
  };
  if (in.auth_ms >= 0) child("auth", 0, in.auth_ms);
  // The engine's queue time and TTFT count from its arrival (≈ started).
  const double queue_end = in.started_ms + rec.queue_time_ms;
  const double first_token = rec.ttft_ms > 0 ? in.started_ms + rec.ttft_ms : -1;
  child("queue", in.started_ms, queue_end);
  if (first_token >= 0) {
    child("prefill", queue_end, first_token);
    child("decode", first_token, in.end_ms);
  }
  child("response", in.first_output_ms >= 0 ? in.first_output_ms : in.started_ms, in.end_ms);
  return out;
}

}  // namespace troupe::net
