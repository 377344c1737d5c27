#include "actors/persistence/schema/migrations.hpp"

namespace troupe::actors {
namespace {

// api_keys v1: keys are stored only as SHA-256 hex of the full key text.
// allowed_models is a comma-separated list ('' = all models).
constexpr migration kApiKeys[] = {
    {1, "create api_keys",
     R"sql(
CREATE TABLE api_keys (
  id                 TEXT PRIMARY KEY,
  name               TEXT NOT NULL,
  key_sha256         TEXT NOT NULL UNIQUE,
  max_requests_per_minute INTEGER,
  max_tokens_per_minute   INTEGER,
  allowed_models     TEXT NOT NULL DEFAULT '',
  created_at         INTEGER NOT NULL,
  revoked_at         INTEGER
);
)sql",
     R"sql(
CREATE TABLE api_keys (
  id                 TEXT PRIMARY KEY,
  name               TEXT NOT NULL,
  key_sha256         TEXT NOT NULL UNIQUE,
  max_requests_per_minute BIGINT,
  max_tokens_per_minute   BIGINT,
  allowed_models     TEXT NOT NULL DEFAULT '',
  created_at         BIGINT NOT NULL,
  revoked_at         BIGINT
);
)sql"},
};

// rate_buckets v1 (PostgreSQL only): the token buckets that several gateways
// share. A level is in units (requests or tokens); a limit of -1 means "not
// yet sized" and 0 "unlimited"; updated_ms is the database clock in Unix ms,
// so every gateway refills against the same clock.
constexpr migration kRateBuckets[] = {
    {1, "create rate_buckets", nullptr,
     R"sql(
CREATE TABLE rate_buckets (
  principal      TEXT PRIMARY KEY,
  requests_level DOUBLE PRECISION NOT NULL,
  requests_limit BIGINT NOT NULL,
  tokens_level   DOUBLE PRECISION NOT NULL,
  tokens_limit   BIGINT NOT NULL,
  updated_ms     BIGINT NOT NULL
);
CREATE INDEX rate_buckets_updated_ms ON rate_buckets (updated_ms);
)sql"},
};

// request_log v1: one row per finished request. Times are milliseconds;
// started_at is Unix milliseconds (UTC). prompt_text / output_text stay NULL
// unless the operator opted in to storing text.
constexpr migration kRequestLog[] = {
    {1, "create request_log",
     R"sql(
CREATE TABLE request_log (
  id                INTEGER PRIMARY KEY AUTOINCREMENT,
  request_id        TEXT NOT NULL,
  principal         TEXT NOT NULL,
  model             TEXT NOT NULL,
  endpoint          TEXT NOT NULL,
  status            INTEGER NOT NULL,
  finish_reason     TEXT NOT NULL,
  prompt_tokens     INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  queue_time_ms     REAL NOT NULL,
  ttft_ms           REAL NOT NULL,
  total_ms          REAL NOT NULL,
  client_address    TEXT NOT NULL,
  started_at        INTEGER NOT NULL,
  prompt_text       TEXT,
  output_text       TEXT
);
CREATE INDEX request_log_started_at ON request_log (started_at);
)sql",
     R"sql(
CREATE TABLE request_log (
  id                BIGSERIAL PRIMARY KEY,
  request_id        TEXT NOT NULL,
  principal         TEXT NOT NULL,
  model             TEXT NOT NULL,
  endpoint          TEXT NOT NULL,
  status            INTEGER NOT NULL,
  finish_reason     TEXT NOT NULL,
  prompt_tokens     BIGINT NOT NULL,
  completion_tokens BIGINT NOT NULL,
  queue_time_ms     DOUBLE PRECISION NOT NULL,
  ttft_ms           DOUBLE PRECISION NOT NULL,
  total_ms          DOUBLE PRECISION NOT NULL,
  client_address    TEXT NOT NULL,
  started_at        BIGINT NOT NULL,
  prompt_text       TEXT,
  output_text       TEXT
);
CREATE INDEX request_log_started_at ON request_log (started_at);
)sql"},
    // v2: the OpenAI `user` field (the end user an application names on a
    // request), for per-user usage reports; '' when the request had none.
    {2, "add request_log.end_user",
     "ALTER TABLE request_log ADD COLUMN end_user TEXT NOT NULL DEFAULT '';",
     "ALTER TABLE request_log ADD COLUMN end_user TEXT NOT NULL DEFAULT '';"},
};

}  // namespace

std::span<const migration> api_keys_migrations() { return kApiKeys; }
std::span<const migration> request_log_migrations() { return kRequestLog; }
std::span<const migration> rate_buckets_migrations() { return kRateBuckets; }

int latest_version(std::span<const migration> migrations) {
  return migrations.empty() ? 0 : migrations.back().version;
}

}  // namespace troupe::actors
