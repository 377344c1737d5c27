// key_store over one SQLite file.
#include <mutex>

#include "actors/persistence/key_store.hpp"
#include "actors/persistence/schema/sqlite_migrate.hpp"
#include "actors/persistence/sqlite_db.hpp"

namespace troupe::actors {
namespace {

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

class sqlite_key_store final : public key_store {
 public:
  explicit sqlite_key_store(std::unique_ptr<sqlite_db> db) : db_(std::move(db)) {}
  bool insert(const api_key_record& record, std::string* error) override;
  std::optional<api_key_record> find_by_hash(const std::string& key_sha256_hex,
                                             std::string* error) override;
  std::vector<api_key_record> list(std::string* error) override;
  revoke_outcome revoke(const std::string& id, int64_t now_unix_s, std::string* error) override;

 private:
  std::mutex mu_;
  std::unique_ptr<sqlite_db> db_;
};

}  // namespace

bool sqlite_key_store::insert(const api_key_record& r, std::string* error) {
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

std::optional<api_key_record> sqlite_key_store::find_by_hash(const std::string& key_sha256_hex,
                                                      std::string* error) {
  std::lock_guard lock(mu_);
  std::string sql = std::string("SELECT ") + kApiKeyColumns + " FROM api_keys WHERE key_sha256 = ?1";
  sqlite_statement s(db_->handle(), sql.c_str(), error);
  if (!s.ok()) return std::nullopt;
  s.bind(1, key_sha256_hex);
  int rc = s.step();
  if (rc == SQLITE_ROW) return read_row(s);
  if (rc != SQLITE_DONE && error) *error = db_->last_error();
  return std::nullopt;
}

std::vector<api_key_record> sqlite_key_store::list(std::string* error) {
  std::lock_guard lock(mu_);
  std::string sql = std::string("SELECT ") + kApiKeyColumns + " FROM api_keys ORDER BY created_at, id";
  sqlite_statement s(db_->handle(), sql.c_str(), error);
  std::vector<api_key_record> out;
  if (!s.ok()) return out;
  while (s.step() == SQLITE_ROW) out.push_back(read_row(s));
  return out;
}

revoke_outcome sqlite_key_store::revoke(const std::string& id, int64_t now_unix_s, std::string* error) {
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

std::unique_ptr<key_store> open_sqlite_key_store(const std::string& path, std::string* error) {
  auto db = sqlite_db::open(path, sqlite_db::mode::read_write_create, error);
  if (!db) return nullptr;
  if (!migrate_sqlite(*db, "api_keys", api_keys_migrations(), error)) return nullptr;
  return std::make_unique<sqlite_key_store>(std::move(db));
}

}  // namespace troupe::actors
