#pragma once
// Versioned schemas of Troupe's databases. Each component (api_keys,
// request_log) has an ordered list of migrations; a database records the
// version it reached per component in the schema_version table, and opening a
// store applies the missing migrations in one transaction. Migrations are
// append-only: never edit one that has shipped, add the next version.
#include <span>
#include <string>

namespace troupe::actors {

struct migration {
  int version;              // 1, 2, … in order
  const char* description;  // what it changes, for error messages
  const char* sqlite_sql;    // nullptr where the component is PostgreSQL-only
  const char* postgres_sql;  // nullptr where the component is SQLite-only
};

std::span<const migration> api_keys_migrations();
// The api_keys columns both key stores read, in this order.
inline constexpr const char* kApiKeyColumns =
    "id, name, key_sha256, max_requests_per_minute, max_tokens_per_minute, allowed_models, "
    "created_at, revoked_at";

// The request_log columns a store writes, in the order both stores bind them
// (id is assigned by the database and read back first).
inline constexpr const char* kRequestLogWriteColumns =
    "request_id, principal, model, endpoint, status, finish_reason, prompt_tokens, "
    "completion_tokens, queue_time_ms, ttft_ms, total_ms, client_address, started_at, "
    "prompt_text, output_text, end_user";
inline constexpr int kRequestLogNumWriteColumns = 16;
std::span<const migration> request_log_migrations();

// Token buckets shared by gateways (PostgreSQL only).
std::span<const migration> rate_buckets_migrations();

// The version each component reaches with this build.
int latest_version(std::span<const migration> migrations);

}  // namespace troupe::actors
