#pragma once
// The security layer behind net::request_hooks:
//   authenticate — static keys, stored API keys (cached), JWTs, or the
//                  explicit auth-disabled mode;
//   admit        — model permission (403) then rate limits (429), from this
//                  process's buckets or from buckets shared in PostgreSQL;
//   record       — corrects the token bucket and hands the row to the log.
// 401 bodies never say which check failed and never echo the credential.
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "actors/persistence/key_store.hpp"
#include "actors/persistence/request_log_sink.hpp"
#include "net/auth/api_key_cache.hpp"
#include "net/auth/jwt.hpp"
#include "net/auth/security_options.hpp"
#include "net/edge/request_hooks.hpp"
#include "net/limits/rate_limiter.hpp"
#include "net/limits/token_bucket.hpp"

namespace troupe::net {

struct security_clock {
  std::function<int64_t()> unix_s;        // wall clock, for JWT exp/nbf/iat
  std::function<int64_t()> monotonic_ms;  // for buckets and caches
  static security_clock system();
};

class security_hooks final : public request_hooks {
 public:
  // Loads keys (JWKS / PEM files), opens the key store and checks the
  // options; nullptr with *error naming the bad setting. log may be null
  // (no request log).
  static std::unique_ptr<security_hooks> create(const security_options& options,
                                                std::shared_ptr<actors::request_log_sink> log,
                                                std::string* error,
                                                security_clock clock = security_clock::system());

  std::optional<hook_refusal> authenticate(const std::string& authorization,
                                           principal* out) override;
  std::optional<hook_refusal> admit(const principal& who, const std::string& model,
                                    int64_t estimated_tokens, admission* out) override;
  void record(const principal& who, int64_t estimated_tokens,
              const request_record& record) override;

  // Drops cached lookups of a key revoked in this process.
  void on_key_revoked(const std::string& key_id);

  // troupe:auth_failures_total{reason=…} ("missing", "unknown_key", "revoked_key",
  // "jwt_expired", …), troupe:rate_limited_total, troupe:forbidden_total
  // (+ the request log's counters when a log is attached).
  std::string metrics_text() const override;
  bool wants_text() const override { return options_.log_store_text; }

 private:
  struct static_entry {
    std::string key_sha256;  // raw 32 bytes
    principal who;
  };

  security_hooks(const security_options& options, std::shared_ptr<actors::request_log_sink> log,
                 security_clock clock);

  std::optional<hook_refusal> authenticate_api_key(const std::string& key, principal* out);
  std::optional<hook_refusal> authenticate_jwt(const std::string& token, principal* out);
  rate_limits limits_for(const principal& who) const;
  // The verifier in force, after re-reading the JWKS file when a reload is due.
  std::shared_ptr<const jwt_verifier> current_jwt();
  // A 401; reason (never shown to the client) labels the failure counter.
  hook_refusal unauthorized(const std::string& message, const std::string& reason);

  security_options options_;
  security_clock clock_;
  std::shared_ptr<actors::request_log_sink> log_;
  std::vector<static_entry> static_keys_;
  std::unique_ptr<actors::key_store> key_store_;
  api_key_cache key_cache_;
  std::mutex jwt_mu_;
  std::shared_ptr<const jwt_verifier> jwt_;  // null when JWTs are off
  std::string jwks_text_;                    // what the verifier was built from
  int64_t next_jwks_check_ms_ = 0;
  std::unique_ptr<admission_limiter> limiter_;  // in-process or shared (PostgreSQL)
  mutable std::mutex metrics_mu_;
  std::map<std::string, int64_t> num_auth_failures_;  // by reason
  std::atomic<int64_t> num_rate_limited_{0};
  std::atomic<int64_t> num_forbidden_{0};
};

// Reads `Authorization: Bearer <token>`: scheme case-insensitive, exactly one
// token (no spaces or commas inside). nullopt when absent or malformed.
std::optional<std::string> parse_bearer(const std::string& authorization);

}  // namespace troupe::net
