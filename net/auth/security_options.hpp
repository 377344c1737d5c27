#pragma once
// Everything the security layer reads from configuration, as plain values.
// The node wiring maps the TOML [auth], [limits] and [log] tables onto this.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "net/auth/jwt.hpp"

namespace troupe::net {

struct static_api_key {
  std::string key;   // the full secret, e.g. from --api-key or an env variable
  std::string name;  // principal becomes "static:<name>" ("static:<index>" if empty)
  std::optional<int64_t> max_requests_per_minute;
  std::optional<int64_t> max_tokens_per_minute;
  std::vector<std::string> allowed_models;  // empty = all
};

// One configured JWT verification key. Exactly one of secret / public_key_pem
// (or public_key_file) is set, and alg says what it verifies.
struct jwt_key_source {
  std::string kid;
  std::string alg;              // "HS256", "RS256", "ES256"
  std::string secret;           // HS256 shared secret, ≥ 32 bytes
  std::string public_key_pem;   // RS256 / ES256
  std::string public_key_file;  // RS256 / ES256, PEM file
};

struct security_options {
  // Serve everyone as "anonymous". Only ever set by an explicit config line;
  // announced on stderr at start.
  bool auth_disabled = false;

  std::vector<static_api_key> static_keys;

  std::string keys_db;               // SQLite file or postgresql:// URL of `troupe keys`; "" = none
  int64_t key_cache_ttl_ms = 5000;   // bound on how late a revocation by another process bites
  size_t key_cache_max_entries = 10000;

  bool jwt_enabled = false;
  jwt_options jwt;                   // issuer, audience, leeway, claim names
  std::string jwt_jwks_file;         // optional JWKS document
  int64_t jwt_jwks_reload_ms = 60000;  // re-read it this often for key rotation (0 = never)
  std::vector<jwt_key_source> jwt_keys;

  int64_t default_max_requests_per_minute = 0;  // 0 = unlimited
  int64_t default_max_tokens_per_minute = 0;
  size_t max_rate_limited_principals = 100000;
  // "postgresql://…": buckets shared with every gateway using the same URL;
  // "" = this process's own buckets.
  std::string shared_limits_url;
  size_t shared_limits_connections = 4;

  bool log_store_text = false;  // keep prompt and output text in the request log
};

}  // namespace troupe::net
