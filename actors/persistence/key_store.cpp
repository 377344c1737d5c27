#include "actors/persistence/key_store.hpp"

#include "actors/persistence/schema/sqlite_migrate.hpp"

namespace troupe::actors {
namespace {

constexpr const char* kColumns =
    "id, name, key_sha256, max_requests_per_minute, max_tokens_per_minute, allowed_models, "
    "created_at, revoked_at";

api_key_record read_row(const sqlite_statement& s) {
  api_key_record r;
  r.id = s.text(0);
  r.name = s.text(1);
  r.key_sha256_hex = s.text(2);
  r.max_requests_per_minute = s.optional_integer(3);
  r.max_tokens_per_minute = s.optional_integer(4);
  r.allowed_models = split_models(s.text(5));
  r.created_at_unix_s = s.integer(6);
  r.revoked_at_unix_s = s.optional_integer(7);
  return r;
}

}  // namespace

std::string join_models(const std::vector<std::string>& models) {
  std::string out;
  for (const auto& m : models) {
    if (m.empty()) continue;
    if (!out.empty()) out += ',';
    out += m;
  }
  return out;
}

std::vector<std::string> split_models(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

std::unique_ptr<key_store> key_store::open(const std::string& path, std::string* error) {
  auto db = sqlite_db::open(path, sqlite_db::mode::read_write_create, error);
  if (!db) return nullptr;
  if (!migrate_sqlite(*db, "api_keys", api_keys_migrations(), error)) return nullptr;
  return std::unique_ptr<key_store>(new key_store(std::move(db)));
}

bool key_store::insert(const api_key_record& r, std::string* error) {
  std::lock_guard lock(mu_);
  sqlite_statement s(db_->handle(),
                     "INSERT INTO api_keys (id, name, key_sha256, max_requests_per_minute, "
                     "max_tokens_per_minute, allowed_models, created_at, revoked_at) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                     error);
  if (!s.ok()) return false;
  s.bind(1, r.id);
  s.bind(2, r.name);
  s.bind(3, r.key_sha256_hex);
  s.bind(4, r.max_requests_per_minute);
  s.bind(5, r.max_tokens_per_minute);
  s.bind(6, join_models(r.allowed_models));
  s.bind(7, r.created_at_unix_s);
  s.bind(8, r.revoked_at_unix_s);
  if (s.step() != SQLITE_DONE) {
    if (error) *error = db_->last_error();
    return false;
  }
  return true;
}

std::optional<api_key_record> key_store::find_by_hash(const std::string& key_sha256_hex,
                                                      std::string* error) {
  std::lock_guard lock(mu_);
  std::string sql = std::string("SELECT ") + kColumns + " FROM api_keys WHERE key_sha256 = ?1";
  sqlite_statement s(db_->handle(), sql.c_str(), error);
  if (!s.ok()) return std::nullopt;
  s.bind(1, key_sha256_hex);
  int rc = s.step();
  if (rc == SQLITE_ROW) return read_row(s);
  if (rc != SQLITE_DONE && error) *error = db_->last_error();
  return std::nullopt;
}

std::vector<api_key_record> key_store::list(std::string* error) {
  std::lock_guard lock(mu_);
  std::string sql = std::string("SELECT ") + kColumns + " FROM api_keys ORDER BY created_at, id";
  sqlite_statement s(db_->handle(), sql.c_str(), error);
  std::vector<api_key_record> out;
  if (!s.ok()) return out;
  while (s.step() == SQLITE_ROW) out.push_back(read_row(s));
  return out;
}

revoke_outcome key_store::revoke(const std::string& id, int64_t now_unix_s, std::string* error) {
  std::lock_guard lock(mu_);
  sqlite_statement s(db_->handle(),
                     "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                     error);
  if (!s.ok()) return revoke_outcome::failed;
  s.bind(1, id);
  s.bind(2, now_unix_s);
  if (s.step() != SQLITE_DONE) {
    if (error) *error = db_->last_error();
    return revoke_outcome::failed;
  }
  if (sqlite3_changes(db_->handle()) == 1) return revoke_outcome::revoked;
  sqlite_statement q(db_->handle(), "SELECT 1 FROM api_keys WHERE id = ?1", error);
  if (!q.ok()) return revoke_outcome::failed;
  q.bind(1, id);
  return q.step() == SQLITE_ROW ? revoke_outcome::already_revoked : revoke_outcome::not_found;
}

}  // namespace troupe::actors
