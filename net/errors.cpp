#include "net/errors.hpp"

#include <strings.h>

#include <nlohmann/json.hpp>

namespace troupe::net {
namespace {

using json = nlohmann::json;

json error_object(const api_error& e) {
  json o;
  o["message"] = e.message;
  o["type"] = e.type;
  o["param"] = e.param ? json(*e.param) : json(nullptr);
  o["code"] = e.code ? json(*e.code) : json(nullptr);
  return o;
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

api_error make(int status, std::string message, std::string type,
               std::optional<std::string> param, std::optional<std::string> code) {
  api_error e;
  e.status = status;
  e.message = std::move(message);
  e.type = std::move(type);
  e.param = std::move(param);
  e.code = std::move(code);
  return e;
}

}  // namespace

std::string error_body(const api_error& e) { return dump(json{{"error", error_object(e)}}); }

std::vector<std::pair<std::string, std::string>> error_headers(const api_error& e) {
  std::vector<std::pair<std::string, std::string>> h = e.headers;
  if (e.status == 400 || e.status == 401) h.emplace_back("x-should-retry", "false");
  bool has_retry_after = false;
  // Header names are case-insensitive, and the security hooks write them in
  // lower case: a case-sensitive test here added a second "Retry-After: 1"
  // that replaced the real wait when the response was built.
  for (auto& [k, v] : h) has_retry_after = has_retry_after || strcasecmp(k.c_str(), "retry-after") == 0;
  if ((e.status == 429 || e.status == 503) && !has_retry_after) h.emplace_back("Retry-After", "1");
  return h;
}

std::string ws_error_event(const api_error& e, const std::string& stream_id) {
  json j{{"type", "error"}, {"status", e.status}, {"error", error_object(e)}};
  if (!stream_id.empty()) j["stream_id"] = stream_id;
  return dump(j);
}

std::string sse_error_event(const api_error& e) { return "data: " + error_body(e) + "\n\n"; }

api_error invalid_request(std::string message, std::optional<std::string> param,
                          std::optional<std::string> code) {
  return make(400, std::move(message), "invalid_request_error", std::move(param), std::move(code));
}

api_error invalid_json(const std::string& detail) {
  return invalid_request("The request body is not valid JSON: " + detail, std::nullopt,
                         std::string("invalid_json"));
}

api_error wrong_type(const std::string& param, const std::string& expected) {
  return invalid_request("'" + param + "' must be " + expected + ".", param);
}

api_error context_length_exceeded(int64_t max_model_len, int64_t prompt_tokens, int64_t max_tokens,
                                  const std::string& param) {
  std::string msg = "This model's maximum context length is " + std::to_string(max_model_len) +
                    " tokens. However, you requested " + std::to_string(prompt_tokens + max_tokens) +
                    " tokens (" + std::to_string(prompt_tokens) + " in the messages, " +
                    std::to_string(max_tokens) +
                    " in the completion). Please reduce the length of the messages or completion.";
  return invalid_request(std::move(msg), param, std::string("context_length_exceeded"));
}

api_error no_chat_template(const std::string& model, const std::string& detail) {
  std::string msg = "The model '" + model +
                    "' has no chat template, so /v1/chat/completions cannot render messages; "
                    "use /v1/completions or start the server with --chat-template FILE.";
  if (!detail.empty()) msg += " (" + detail + ")";
  return invalid_request(std::move(msg), std::string("messages"));
}

api_error missing_api_key() {
  return make(401,
              "You didn't provide an API key. Provide it in the Authorization header "
              "(Authorization: Bearer YOUR_KEY).",
              "invalid_request_error", std::nullopt, std::string("invalid_api_key"));
}

api_error from_refusal(const hook_refusal& r) {
  api_error e = make(r.status, r.message, r.type, r.param,
                     r.code.empty() ? std::nullopt : std::optional<std::string>(r.code));
  for (auto& [k, v] : r.headers) e.headers.emplace_back(k, v);
  return e;
}

api_error auth_throttled(int64_t retry_after_s) {
  api_error e = make(429, "Too many failed authentication attempts from this address; retry later.",
                     "requests", std::nullopt, std::string("too_many_auth_failures"));
  e.headers.emplace_back("Retry-After", std::to_string(retry_after_s));
  return e;
}

api_error model_not_found(const std::string& model) {
  return make(404, "The model '" + model + "' does not exist or you do not have access to it.",
              "invalid_request_error", std::string("model"), std::string("model_not_found"));
}

api_error route_not_found(const std::string& method, const std::string& path) {
  return make(404, "Unknown request URL: " + method + " " + path + ".", "invalid_request_error",
              std::nullopt, std::string("unknown_url"));
}

api_error method_not_allowed(const std::string& method, const std::string& path,
                             const std::string& allowed) {
  api_error e = make(405, "Method " + method + " is not allowed on " + path + " (use " + allowed + ").",
                     "invalid_request_error", std::nullopt, std::string("method_not_allowed"));
  e.headers.emplace_back("Allow", allowed);
  return e;
}

api_error invalid_websocket_key() {
  return make(400, "Sec-WebSocket-Key must be a base64-encoded 16-byte nonce (RFC 6455).",
              "invalid_request_error", std::string("Sec-WebSocket-Key"),
              std::string("invalid_websocket_key"));
}

api_error websocket_version_unsupported() {
  api_error e = make(426, "Only WebSocket version 13 is supported (Sec-WebSocket-Version: 13).",
                     "invalid_request_error", std::string("Sec-WebSocket-Version"),
                     std::string("unsupported_websocket_version"));
  e.headers.emplace_back("Sec-WebSocket-Version", "13");
  return e;
}

api_error body_too_large(int64_t max_body_bytes) {
  return make(413, "The request body exceeds the limit of " + std::to_string(max_body_bytes) + " bytes.",
              "invalid_request_error", std::nullopt, std::string("request_too_large"));
}

api_error header_too_large(int64_t max_header_bytes) {
  return make(431,
              "The request headers exceed the limit of " + std::to_string(max_header_bytes) + " bytes.",
              "invalid_request_error", std::nullopt, std::string("headers_too_large"));
}

api_error overloaded(int retry_after_s) {
  api_error e = make(503, "The engine is currently overloaded, please try again later.",
                     "server_error", std::nullopt, std::string("server_is_overloaded"));
  e.headers.emplace_back("Retry-After", std::to_string(retry_after_s));
  return e;
}

api_error not_ready() {
  api_error e = make(503, "The model is still loading, please try again later.", "server_error",
                     std::nullopt, std::string("not_ready"));
  e.headers.emplace_back("Retry-After", "1");
  return e;
}

api_error shutting_down() {
  api_error e = make(503, "The server is shutting down.", "server_error", std::nullopt,
                     std::string("server_shutting_down"));
  e.headers.emplace_back("Retry-After", "1");
  return e;
}

api_error cut_by_shutdown() {
  api_error e = make(503,
                     "The server shut down before this response was complete (its shutdown grace "
                     "period ran out); retry the request.",
                     "server_error", std::nullopt, std::string("server_shutting_down"));
  e.headers.emplace_back("Retry-After", "1");
  return e;
}

api_error internal_error() {
  return make(500, "The server had an error while processing your request.", "server_error",
              std::nullopt, std::nullopt);
}

api_error from_service_error(actors::service_error err, const std::string& message) {
  switch (err) {
    case actors::service_error::bad_request:
      return invalid_request(message.empty() ? "Invalid request." : message);
    case actors::service_error::context_length_exceeded:
      return invalid_request(message.empty() ? "The prompt is longer than the model's context." : message,
                             std::string("messages"), std::string("context_length_exceeded"));
    case actors::service_error::overloaded:
      return overloaded(1);
    case actors::service_error::not_ready:
      return not_ready();
    case actors::service_error::worker_lost: {
      api_error e = make(503, message.empty() ? "No worker of the model is available." : message,
                         "server_error", std::nullopt, std::string("worker_unavailable"));
      e.headers.emplace_back("Retry-After", "1");
      return e;
    }
    case actors::service_error::none:
    case actors::service_error::internal:
      break;
  }
  return internal_error();
}

}  // namespace troupe::net
