#include "net/auth/security_hooks.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "actors/persistence/postgres_db.hpp"
#include "actors/persistence/shared_bucket_store.hpp"
#include "net/auth/api_key.hpp"
#include "net/limits/shared_rate_limiter.hpp"

namespace troupe::net {
namespace {

constexpr size_t kMaxBearerBytes = 8192;
constexpr const char* kIncorrectKey = "Incorrect API key provided.";
constexpr const char* kInvalidBearer = "Invalid bearer token.";
constexpr const char* kMissingKey =
    "You didn't provide an API key. You need to provide your API key in an Authorization "
    "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).";

bool read_file(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

// A model name as it may appear in an error message: bounded, printable.
std::string printable(const std::string& s) {
  std::string out;
  for (char c : s.substr(0, 256)) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  return out;
}

void add_limit_headers(const rate_decision& d, std::map<std::string, std::string>* h) {
  auto add = [&](const bucket_report& b, const char* what) {
    if (!b.limited) return;
    (*h)[std::string("x-ratelimit-limit-") + what] = std::to_string(b.limit);
    (*h)[std::string("x-ratelimit-remaining-") + what] = std::to_string(b.remaining);
    (*h)[std::string("x-ratelimit-reset-") + what] = format_reset_duration(b.reset_ms);
  };
  add(d.requests, "requests");
  add(d.tokens, "tokens");
}

// Loads every configured JWT key (the JWKS from jwks_text); "" or the first error.
std::string load_jwt_keys(const security_options& o, const std::string& jwks_text,
                          std::vector<jwt_key>* keys) {
  if (!o.jwt_jwks_file.empty()) {
    auto r = parse_jwks(jwks_text);
    if (!r.error.empty()) return "'" + o.jwt_jwks_file + "': " + r.error;
    for (auto& k : r.keys) keys->push_back(std::move(k));
  }
  for (const jwt_key_source& src : o.jwt_keys) {
    jwt_alg alg;
    if (!parse_jwt_alg(src.alg, &alg)) {
      return "JWT key '" + src.kid + "': alg must be HS256, RS256 or ES256";
    }
    jwt_keys_result r;
    if (alg == jwt_alg::hs256) {
      if (!src.public_key_pem.empty() || !src.public_key_file.empty()) {
        return "JWT key '" + src.kid + "': HS256 takes a secret, not a public key";
      }
      r = jwt_key_from_secret(src.kid, src.secret);
    } else {
      if (!src.secret.empty()) return "JWT key '" + src.kid + "': " + src.alg + " takes a public key";
      std::string pem = src.public_key_pem;
      if (pem.empty() && !read_file(src.public_key_file, &pem)) {
        return "JWT key '" + src.kid + "': cannot read '" + src.public_key_file + "'";
      }
      r = jwt_key_from_pem(src.kid, alg, pem);
    }
    if (!r.error.empty()) return r.error;
    keys->push_back(std::move(r.keys.front()));
  }
  return "";
}

}  // namespace

security_clock security_clock::system() {
  return {[] {
            return int64_t(std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count());
          },
          rate_limiter::steady_now_ms};
}

std::optional<std::string> parse_bearer(const std::string& authorization) {
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size()) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) return std::nullopt;
  }
  size_t start = kScheme.size();
  if (authorization[start] != ' ') return std::nullopt;
  while (start < authorization.size() && authorization[start] == ' ') ++start;
  size_t end = authorization.size();
  while (end > start && authorization[end - 1] == ' ') --end;
  std::string token = authorization.substr(start, end - start);
  if (token.empty() || token.find_first_of(" \t,\r\n") != std::string::npos) return std::nullopt;
  return token;
}

security_hooks::security_hooks(const security_options& options,
                               std::shared_ptr<actors::request_log_sink> log, security_clock clock)
    : options_(options),
      clock_(std::move(clock)),
      log_(std::move(log)),
      key_cache_(options.key_cache_ttl_ms, options.key_cache_max_entries, clock_.monotonic_ms),
      limiter_(std::make_unique<rate_limiter>(options.max_rate_limited_principals,
                                              clock_.monotonic_ms)) {}

std::unique_ptr<security_hooks> security_hooks::create(const security_options& options,
                                                       std::shared_ptr<actors::request_log_sink> log,
                                                       std::string* error,
                                                       security_clock clock) {
  auto fail = [&](std::string why) -> std::unique_ptr<security_hooks> {
    if (error) *error = std::move(why);
    return nullptr;
  };
  std::unique_ptr<security_hooks> h(new security_hooks(options, std::move(log), std::move(clock)));

  for (size_t i = 0; i < options.static_keys.size(); ++i) {
    const static_api_key& k = options.static_keys[i];
    if (k.key.empty()) return fail("static API key #" + std::to_string(i) + " is empty");
    if (k.key.size() < 16) {
      std::fprintf(stderr, "troupe: WARNING: static API key #%zu is shorter than 16 characters "
                   "and easy to guess; use `troupe keys create` for real keys.\n", i);
    }
    static_entry e;
    e.key_sha256 = sha256_bytes(k.key);
    e.who.id = "static:" + (k.name.empty() ? std::to_string(i) : k.name);
    e.who.max_requests_per_minute = k.max_requests_per_minute;
    e.who.max_tokens_per_minute = k.max_tokens_per_minute;
    e.who.allowed_models = k.allowed_models;
    h->static_keys_.push_back(std::move(e));
  }
  if (!options.keys_db.empty()) {
    std::string why;
    h->key_store_ = actors::key_store::open(options.keys_db, &why);
    if (!h->key_store_) return fail("[auth] keys_db: " + why);
  }
  if (!options.shared_limits_url.empty()) {
    if (!actors::is_postgres_url(options.shared_limits_url)) {
      return fail("[limits] shared_url must be a postgresql:// URL");
    }
    std::string why;
    auto store = actors::shared_bucket_store::open(options.shared_limits_url,
                                                   options.shared_limits_connections, &why);
    if (!store) return fail("[limits] shared_url: " + why);
    h->limiter_ = std::make_unique<shared_rate_limiter>(std::move(store));
  }
  if (options.jwt_enabled) {
    if (!options.jwt_jwks_file.empty() && !read_file(options.jwt_jwks_file, &h->jwks_text_)) {
      return fail("[auth.jwt] cannot read JWKS file '" + options.jwt_jwks_file + "'");
    }
    std::vector<jwt_key> keys;
    if (std::string why = load_jwt_keys(options, h->jwks_text_, &keys); !why.empty()) {
      return fail("[auth.jwt] " + why);
    }
    auto verifier = std::make_shared<const jwt_verifier>(options.jwt, std::move(keys));
    if (std::string why = verifier->validate(); !why.empty()) return fail("[auth.jwt] " + why);
    h->jwt_ = std::move(verifier);
    h->next_jwks_check_ms_ = h->clock_.monotonic_ms() + options.jwt_jwks_reload_ms;
  }
  if (options.auth_disabled) {
    std::fprintf(stderr,
                 "troupe: WARNING: authentication is DISABLED by configuration; every request "
                 "is served as 'anonymous'. Do not expose this server.\n");
  } else if (h->static_keys_.empty() && !h->key_store_ && !options.jwt_enabled) {
    return fail("[auth] no credentials configured (static keys, keys_db or jwt); set "
                "auth disabled explicitly to serve without authentication");
  }
  return h;
}

hook_refusal security_hooks::unauthorized(const std::string& message, const std::string& reason) {
  {
    std::lock_guard lock(metrics_mu_);
    ++num_auth_failures_[reason];
  }
  hook_refusal r;
  r.status = 401;
  r.type = "invalid_request_error";
  r.code = "invalid_api_key";
  r.message = message;
  r.headers["www-authenticate"] = "Bearer";
  return r;
}

std::optional<hook_refusal> security_hooks::authenticate(const std::string& authorization,
                                                         principal* out) {
  if (options_.auth_disabled) {
    *out = principal{"anonymous", std::nullopt, std::nullopt, {}};
    return std::nullopt;
  }
  if (authorization.empty()) return unauthorized(kMissingKey, "missing");
  if (authorization.size() > kMaxBearerBytes + 16) return unauthorized(kInvalidBearer, "too_large");
  auto token = parse_bearer(authorization);
  if (!token) return unauthorized(kInvalidBearer, "not_bearer");

  // Static keys: compare digests in constant time, over the whole list.
  std::string digest = sha256_bytes(*token);
  const static_entry* match = nullptr;
  for (const static_entry& e : static_keys_) {
    if (CRYPTO_memcmp(e.key_sha256.data(), digest.data(), digest.size()) == 0) match = &e;
  }
  if (match) {
    *out = match->who;
    return std::nullopt;
  }
  if (token->rfind(kApiKeyPrefix, 0) == 0) return authenticate_api_key(*token, out);
  if (options_.jwt_enabled && std::count(token->begin(), token->end(), '.') == 2) {
    return authenticate_jwt(*token, out);
  }
  return unauthorized(kIncorrectKey, "unknown_key");
}

std::optional<hook_refusal> security_hooks::authenticate_api_key(const std::string& key,
                                                                 principal* out) {
  if (!key_store_ || !is_well_formed_api_key(key)) return unauthorized(kIncorrectKey, "unknown_key");
  std::string hash = api_key_sha256_hex(key);
  std::optional<actors::api_key_record> record;
  if (auto cached = key_cache_.find(hash)) {
    record = std::move(*cached);
  } else {
    std::string error;
    record = key_store_->find_by_hash(hash, &error);
    if (!record && !error.empty()) {
      std::fprintf(stderr, "troupe: API key lookup failed: %s\n", error.c_str());
      hook_refusal r;
      r.status = 503;
      r.type = "server_error";
      r.code = "server_is_overloaded";
      r.message = "The server could not check the API key; please try again.";
      r.headers["retry-after"] = "1";
      return r;
    }
    key_cache_.put(hash, record);
  }
  if (!record) return unauthorized(kIncorrectKey, "unknown_key");
  if (record->revoked_at_unix_s) return unauthorized(kIncorrectKey, "revoked_key");
  out->id = "key:" + record->id;
  out->max_requests_per_minute = record->max_requests_per_minute;
  out->max_tokens_per_minute = record->max_tokens_per_minute;
  out->allowed_models = record->allowed_models;
  return std::nullopt;
}

std::optional<hook_refusal> security_hooks::authenticate_jwt(const std::string& token,
                                                             principal* out) {
  jwt_result r = current_jwt()->verify(token, clock_.unix_s());
  if (r.error != jwt_error::none) {
    return unauthorized(kInvalidBearer, std::string("jwt_") + jwt_error_name(r.error));
  }
  out->id = "jwt:" + r.identity.subject;
  out->max_requests_per_minute = r.identity.max_requests_per_minute;
  out->max_tokens_per_minute = r.identity.max_tokens_per_minute;
  out->allowed_models = std::move(r.identity.allowed_models);
  return std::nullopt;
}

std::shared_ptr<const jwt_verifier> security_hooks::current_jwt() {
  std::lock_guard lock(jwt_mu_);
  if (options_.jwt_jwks_file.empty() || options_.jwt_jwks_reload_ms <= 0) return jwt_;
  int64_t now = clock_.monotonic_ms();
  if (now < next_jwks_check_ms_) return jwt_;
  next_jwks_check_ms_ = now + options_.jwt_jwks_reload_ms;
  std::string text;
  if (!read_file(options_.jwt_jwks_file, &text) || text == jwks_text_) return jwt_;
  // A rotated key set replaces the old one only when it loads cleanly.
  std::vector<jwt_key> keys;
  std::string why = load_jwt_keys(options_, text, &keys);
  auto verifier = std::make_shared<const jwt_verifier>(options_.jwt, std::move(keys));
  if (why.empty()) why = verifier->validate();
  if (!why.empty()) {
    std::fprintf(stderr, "troupe: JWKS reload failed, keeping the previous keys: %s\n", why.c_str());
    return jwt_;
  }
  jwks_text_ = std::move(text);
  jwt_ = std::move(verifier);
  return jwt_;
}

rate_limits security_hooks::limits_for(const principal& who) const {
  return {who.max_requests_per_minute.value_or(options_.default_max_requests_per_minute),
          who.max_tokens_per_minute.value_or(options_.default_max_tokens_per_minute)};
}

std::optional<hook_refusal> security_hooks::admit(const principal& who, const std::string& model,
                                                  int64_t estimated_tokens, admission* out) {
  if (!who.allowed_models.empty() &&
      std::find(who.allowed_models.begin(), who.allowed_models.end(), model) ==
          who.allowed_models.end()) {
    num_forbidden_.fetch_add(1, std::memory_order_relaxed);
    hook_refusal r;
    r.status = 403;
    r.type = "permission_error";
    r.message = "Key not allowed to access model '" + printable(model) + "'.";
    r.param = "model";
    return r;
  }
  rate_limits limits = limits_for(who);
  rate_decision d = limiter_->try_admit(who.id, limits, estimated_tokens);
  if (d.admitted) {
    add_limit_headers(d, &out->headers);
    return std::nullopt;
  }
  if (d.unavailable) {
    hook_refusal r;
    r.status = 503;
    r.type = "server_error";
    r.code = "server_is_overloaded";
    r.message = "The server could not check the rate limit; please try again.";
    r.headers["retry-after"] = "1";
    return r;
  }
  num_rate_limited_.fetch_add(1, std::memory_order_relaxed);
  hook_refusal r;
  r.status = 429;
  r.type = "rate_limit_error";
  r.code = "rate_limit_exceeded";
  add_limit_headers(d, &r.headers);
  int64_t seconds = retry_after_seconds(d.retry_after_ms);
  r.headers["retry-after"] = std::to_string(seconds);
  r.headers["retry-after-ms"] = std::to_string(std::max<int64_t>(1, d.retry_after_ms));
  const bucket_report& b = d.refused_on_tokens ? d.tokens : d.requests;
  std::string dimension = d.refused_on_tokens ? "tokens per min (TPM)" : "requests per min (RPM)";
  if (d.too_large) {
    r.headers["x-should-retry"] = "false";
    r.message = "Request too large for " + dimension + ": Limit " + std::to_string(b.limit) +
                ", Requested " + std::to_string(d.requested) +
                ". Reduce the prompt or max_tokens.";
  } else {
    r.message = "Rate limit reached for " + dimension + ": Limit " + std::to_string(b.limit) +
                ", Used " + std::to_string(b.limit - b.remaining) + ", Requested " +
                std::to_string(d.requested) + ". Please try again in " + std::to_string(seconds) +
                "s.";
  }
  return r;
}

void security_hooks::record(const principal& who, int64_t estimated_tokens,
                            const request_record& rec) {
  // A request refused before admission (401, 400, 429…) took nothing from
  // the buckets and has nothing to give back; an unauthenticated one has no
  // bucket at all.
  const int64_t actual_tokens = rec.prompt_tokens + rec.completion_tokens;
  if (estimated_tokens != 0 || actual_tokens != 0) {
    limiter_->finish(who.id, limits_for(who), estimated_tokens, actual_tokens);
  }
  if (!log_) return;
  actors::request_log_row row;
  row.request_id = rec.request_id;
  row.principal = who.id;
  row.model = rec.model;
  row.endpoint = rec.endpoint;
  row.status = rec.status;
  row.finish_reason = rec.finish_reason;
  row.prompt_tokens = rec.prompt_tokens;
  row.completion_tokens = rec.completion_tokens;
  row.queue_time_ms = rec.queue_time_ms;
  row.ttft_ms = rec.ttft_ms;
  row.total_ms = rec.total_ms;
  row.client_address = rec.client_address;
  row.end_user = rec.user;
  row.started_at_unix_ms = rec.started_at_unix_ms;
  if (options_.log_store_text) {
    row.prompt_text = rec.prompt_text;
    row.output_text = rec.output_text;
  }
  log_->submit(std::move(row));
}

void security_hooks::on_key_revoked(const std::string& key_id) { key_cache_.invalidate_id(key_id); }

std::string security_hooks::metrics_text() const {
  std::string out = "# TYPE troupe:auth_failures_total counter\n";
  {
    std::lock_guard lock(metrics_mu_);
    for (const auto& [reason, n] : num_auth_failures_) {
      out += "troupe:auth_failures_total{reason=\"" + reason + "\"} " + std::to_string(n) + "\n";
    }
  }
  out += "# TYPE troupe:rate_limited_total counter\n"
      "troupe:rate_limited_total " + std::to_string(num_rate_limited_.load()) + "\n" +
      "# TYPE troupe:forbidden_total counter\n"
      "troupe:forbidden_total " + std::to_string(num_forbidden_.load()) + "\n";
  if (log_) out += log_->metrics_text();
  return out;
}

}  // namespace troupe::net
