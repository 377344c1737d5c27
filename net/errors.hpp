#pragma once
// The one place where every failure the edge can answer becomes an HTTP status
// and an OpenAI error body {"error":{"message","type","param","code"}}.
// 400 and 401 carry `x-should-retry: false` (the SDKs would otherwise retry
// nothing anyway for 400 but be explicit); 429 and 503 carry Retry-After.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "actors/generation_service.hpp"
#include "net/edge/request_hooks.hpp"

namespace troupe::net {

struct api_error {
  int status = 500;
  std::string message;
  std::string type;
  std::optional<std::string> param;
  std::optional<std::string> code;
  std::vector<std::pair<std::string, std::string>> headers;  // besides the standard ones
};

// The body, as one JSON line: {"error":{...}} with all four keys present.
std::string error_body(const api_error& e);
// Body plus the headers that every error with this status carries.
std::vector<std::pair<std::string, std::string>> error_headers(const api_error& e);
// The WebSocket form: {"type":"error","status":…,"stream_id":…,"error":{…}}.
std::string ws_error_event(const api_error& e, const std::string& stream_id);
// The SSE form after a stream started: "data: {"error":{…}}\n\n".
std::string sse_error_event(const api_error& e);

// 400
api_error invalid_request(std::string message, std::optional<std::string> param = std::nullopt,
                          std::optional<std::string> code = std::nullopt);
api_error invalid_json(const std::string& detail);
api_error wrong_type(const std::string& param, const std::string& expected);
api_error context_length_exceeded(int64_t max_model_len, int64_t prompt_tokens,
                                  int64_t max_tokens, const std::string& param);
api_error no_chat_template(const std::string& model, const std::string& detail);
// 401 / 403 / 429 from the request hooks.
api_error missing_api_key();
api_error from_refusal(const hook_refusal& r);
// 429: too many failed authentications from this address.
api_error auth_throttled(int64_t retry_after_s);
// 404
api_error model_not_found(const std::string& model);
api_error route_not_found(const std::string& method, const std::string& path);
// 405
api_error method_not_allowed(const std::string& method, const std::string& path,
                             const std::string& allowed);
// 400 / 426: a WebSocket upgrade refused before the handshake (RFC 6455 §4.2.2).
api_error invalid_websocket_key();
api_error websocket_version_unsupported();
// 413 / 431
api_error body_too_large(int64_t max_body_bytes);
api_error header_too_large(int64_t max_header_bytes);
// 503
api_error overloaded(int retry_after_s);
api_error not_ready();
api_error shutting_down();
// A started response cut because shutdown_grace_ms ran out.
api_error cut_by_shutdown();
// 500: only for bugs.
api_error internal_error();

// The service's refusal (start) or mid-request failure (event).
api_error from_service_error(actors::service_error err, const std::string& message);

}  // namespace troupe::net
