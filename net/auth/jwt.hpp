#pragma once
// JWT access-token verification (RFC 7519, JWS compact form RFC 7515) along
// the lines of RFC 8725: algorithms come from the configured keys, never from
// the token; "none" and unknown algorithms are refused; exp is required,
// nbf/iat are checked when present, iss must match exactly and aud must
// contain ours. The result says why a token failed, for tests and operator
// counters; clients only ever see "Invalid bearer token.".
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/auth/jwt_key.hpp"

namespace troupe::net {

struct jwt_options {
  std::string issuer;             // required: exact match of "iss"
  std::string audience;           // required: "aud" (string or array) contains it
  int64_t leeway_s = 60;          // clock skew allowed on exp / nbf / iat
  size_t max_token_bytes = 8192;  // larger tokens are refused before parsing
  std::string rpm_claim = "troupe_rpm";
  std::string tpm_claim = "troupe_tpm";
  std::string models_claim = "troupe_models";  // array of strings, or "a,b" / "a b"
};

enum class jwt_error {
  none,
  too_large,
  malformed,          // not three base64url parts of JSON objects
  bad_type,           // "typ" present and not JWT / at+jwt
  unsupported_crit,   // "crit" names extensions we do not implement
  unsupported_alg,    // "none", "HS512", …
  unknown_kid,
  alg_mismatch,       // the selected key is bound to another algorithm
  bad_signature,
  missing_exp,
  expired,
  not_yet_valid,      // nbf in the future
  issued_in_future,   // iat in the future
  wrong_issuer,
  wrong_audience,
  missing_subject,
  bad_claim,          // a limit/model claim of the wrong type
};
const char* jwt_error_name(jwt_error e);

struct jwt_identity {
  std::string subject;
  std::optional<int64_t> max_requests_per_minute;
  std::optional<int64_t> max_tokens_per_minute;
  std::vector<std::string> allowed_models;  // empty = all
};

struct jwt_result {
  jwt_error error = jwt_error::none;
  jwt_identity identity;  // valid when error == none
};

class jwt_verifier {
 public:
  jwt_verifier(jwt_options options, std::vector<jwt_key> keys);

  // Checks the options (issuer, audience, at least one key); "" when usable.
  std::string validate() const;

  jwt_result verify(std::string_view token, int64_t now_unix_s) const;

 private:
  jwt_options options_;
  std::vector<jwt_key> keys_;
};

// Verifies one JWS signature over signing_input with a given key (exposed for
// tests). ES256 signatures are the raw 64-byte R||S of RFC 7518 §3.4.
bool verify_jws_signature(const jwt_key& key, std::string_view signing_input,
                          std::string_view signature);

}  // namespace troupe::net
