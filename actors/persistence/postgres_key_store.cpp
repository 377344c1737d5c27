// key_store over PostgreSQL: the store several gateways share, so a key
// created or revoked once is seen by all of them (each within its lookup
// cache's TTL). One connection behind a mutex; it reconnects after a server
// restart.
#include "actors/persistence/key_store.hpp"

#ifdef TROUPE_HAVE_POSTGRES
#include <cstdlib>
#include <mutex>

#include "actors/persistence/postgres_db.hpp"
#endif

namespace troupe::actors {

#ifndef TROUPE_HAVE_POSTGRES

std::unique_ptr<key_store> open_postgres_key_store(const std::string&, std::string* error) {
  if (error) *error = "this troupe was built without PostgreSQL support (libpq)";
  return nullptr;
}

#else

namespace {

std::optional<int64_t> optional_integer(const pg_result& r, int row, int col) {
  if (r.is_null(row, col)) return std::nullopt;
  return std::strtoll(r.text(row, col).c_str(), nullptr, 10);
}

api_key_record read_row(const pg_result& r, int row) {
  api_key_record k;
  k.id = r.text(row, 0);
  k.name = r.text(row, 1);
  k.key_sha256_hex = r.text(row, 2);
  k.max_requests_per_minute = optional_integer(r, row, 3);
  k.max_tokens_per_minute = optional_integer(r, row, 4);
  k.allowed_models = split_models(r.text(row, 5));
  k.created_at_unix_s = optional_integer(r, row, 6).value_or(0);
  k.revoked_at_unix_s = optional_integer(r, row, 7);
  return k;
}

// Text of an optional number for a query parameter (nullptr = NULL).
struct optional_param {
  std::string text;
  bool present = false;
  explicit optional_param(const std::optional<int64_t>& v) {
    if (v) text = std::to_string(*v), present = true;
  }
  const char* get() const { return present ? text.c_str() : nullptr; }
};

class postgres_key_store final : public key_store {
 public:
  explicit postgres_key_store(std::unique_ptr<pg_connection> db) : db_(std::move(db)) {}

  bool insert(const api_key_record& r, std::string* error) override {
    std::lock_guard lock(mu_);
    db_->ensure_open();
    optional_param rpm(r.max_requests_per_minute), tpm(r.max_tokens_per_minute),
        revoked(r.revoked_at_unix_s);
    std::string models = join_models(r.allowed_models), created = std::to_string(r.created_at_unix_s);
    pg_result q = db_->exec_params(
        "INSERT INTO api_keys (id, name, key_sha256, max_requests_per_minute, "
        "max_tokens_per_minute, allowed_models, created_at, revoked_at) "
        "VALUES ($1, $2, $3, $4::bigint, $5::bigint, $6, $7::bigint, $8::bigint)",
        {r.id.c_str(), r.name.c_str(), r.key_sha256_hex.c_str(), rpm.get(), tpm.get(),
         models.c_str(), created.c_str(), revoked.get()});
    if (!q.ok()) return db_->set_error(error), false;
    return true;
  }

  std::optional<api_key_record> find_by_hash(const std::string& key_sha256_hex,
                                             std::string* error) override {
    std::lock_guard lock(mu_);
    db_->ensure_open();
    std::string sql = std::string("SELECT ") + kApiKeyColumns + " FROM api_keys WHERE key_sha256 = $1";
    pg_result q = db_->exec_params(sql.c_str(), {key_sha256_hex.c_str()});
    if (!q.ok()) {
      db_->set_error(error);
      return std::nullopt;
    }
    if (q.rows() == 0) return std::nullopt;
    return read_row(q, 0);
  }

  std::vector<api_key_record> list(std::string* error) override {
    std::lock_guard lock(mu_);
    db_->ensure_open();
    std::string sql = std::string("SELECT ") + kApiKeyColumns + " FROM api_keys ORDER BY created_at, id";
    pg_result q = db_->exec_params(sql.c_str(), {});
    std::vector<api_key_record> out;
    if (!q.ok()) {
      db_->set_error(error);
      return out;
    }
    for (int i = 0; i < q.rows(); ++i) out.push_back(read_row(q, i));
    return out;
  }

  revoke_outcome revoke(const std::string& id, int64_t now_unix_s, std::string* error) override {
    std::lock_guard lock(mu_);
    db_->ensure_open();
    std::string now = std::to_string(now_unix_s);
    pg_result q = db_->exec_params(
        "UPDATE api_keys SET revoked_at = $2::bigint WHERE id = $1 AND revoked_at IS NULL",
        {id.c_str(), now.c_str()});
    if (!q.ok()) {
      db_->set_error(error);
      return revoke_outcome::failed;
    }
    if (std::atoi(PQcmdTuples(q.r)) == 1) return revoke_outcome::revoked;
    pg_result e = db_->exec_params("SELECT 1 FROM api_keys WHERE id = $1", {id.c_str()});
    if (!e.ok()) {
      db_->set_error(error);
      return revoke_outcome::failed;
    }
    return e.rows() > 0 ? revoke_outcome::already_revoked : revoke_outcome::not_found;
  }

 private:
  std::mutex mu_;
  std::unique_ptr<pg_connection> db_;
};

}  // namespace

std::unique_ptr<key_store> open_postgres_key_store(const std::string& url, std::string* error) {
  auto db = pg_connection::connect(url, error);
  if (!db) return nullptr;
  if (!migrate_postgres(*db, "api_keys", api_keys_migrations(), error)) return nullptr;
  return std::make_unique<postgres_key_store>(std::move(db));
}

#endif

}  // namespace troupe::actors
