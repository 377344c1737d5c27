#pragma once
// The steps a request passes through at the edge before and after the engine:
// authenticate → admit (rate limits, model permission) → engine → record.
// The serving edge calls these; the security layer (net/auth, net/limits,
// actors/persistence) implements them. A default implementation accepts the
// static --api-key list only.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace troupe::net {

struct principal {
  std::string id;          // "key:<key id>", "jwt:<sub>", or "anonymous" — never a secret
  std::optional<int64_t> max_requests_per_minute;
  std::optional<int64_t> max_tokens_per_minute;
  std::vector<std::string> allowed_models;  // empty = all
};

// A refusal, mapped to an HTTP status and OpenAI error body by net/errors.
struct hook_refusal {
  int status = 401;                     // 401, 403, 429
  std::string type;                     // "invalid_request_error", "permission_error", "rate_limit_error"
  std::string code;                     // "invalid_api_key", "rate_limit_exceeded", …
  std::string message;                  // safe to show: never echoes a credential
  std::optional<std::string> param;
  std::map<std::string, std::string> headers;  // Retry-After, x-ratelimit-*
};

struct admission {
  std::map<std::string, std::string> headers;  // x-ratelimit-* on success
};

// One finished request, as the request log stores it.
struct request_record {
  std::string request_id;
  std::string principal_id;
  std::string model;
  std::string endpoint;          // "/v1/chat/completions", "/v1/completions", "ws:/v1/responses"
  int status = 200;
  std::string finish_reason;     // "stop", "length", "abort", "error", ""
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  double queue_time_ms = 0;
  double ttft_ms = 0;
  double total_ms = 0;
  std::string client_address;
  int64_t started_at_unix_ms = 0;
  std::optional<std::string> prompt_text;   // only when the config opts in
  std::optional<std::string> output_text;
  std::string user;              // the OpenAI `user` field, as the client sent it (bounded)
};

class request_hooks {
 public:
  virtual ~request_hooks() = default;
  // authorization: the raw Authorization header value ("" if absent), or for
  // WebSocket browsers the key from the openai-insecure-api-key subprotocol
  // passed as "Bearer <key>".
  virtual std::optional<hook_refusal> authenticate(const std::string& authorization,
                                                   principal* out) = 0;
  // Before the engine: model permission and rate limits. estimated_tokens =
  // prompt tokens + max_tokens.
  virtual std::optional<hook_refusal> admit(const principal& who, const std::string& model,
                                            int64_t estimated_tokens, admission* out) = 0;
  // After the request ends (any status): correct the token bucket with the real
  // count and write the request log. Never blocks.
  virtual void record(const principal& who, int64_t estimated_tokens,
                      const request_record& record) = 0;
  // Prometheus text the hooks contribute to /metrics (auth failures, rate
  // limiting, request log counters); "" when they keep none.
  virtual std::string metrics_text() const { return {}; }
  // Whether record() keeps prompt and output text (the edge only collects
  // them when asked).
  virtual bool wants_text() const { return false; }
};

}  // namespace troupe::net
