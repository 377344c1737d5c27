// request_log_store over SQLite: WAL journal, batches inserted in one
// transaction with one prepared statement.
#include <sqlite3.h>

#include "actors/persistence/request_log_store.hpp"
#include "actors/persistence/schema/migrations.hpp"
#include "actors/persistence/schema/sqlite_migrate.hpp"
#include "actors/persistence/sqlite_db.hpp"

namespace troupe::actors {
namespace {

const std::string kSelect =
    std::string("SELECT id, ") + kRequestLogWriteColumns + " FROM request_log ";
const std::string kInsert = std::string("INSERT INTO request_log (") + kRequestLogWriteColumns +
                            ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
                            "?14, ?15, ?16)";

request_log_row read_row(const sqlite_statement& s) {
  request_log_row r;
  r.id = s.integer(0);
  r.request_id = s.text(1);
  r.principal = s.text(2);
  r.model = s.text(3);
  r.endpoint = s.text(4);
  r.status = int32_t(s.integer(5));
  r.finish_reason = s.text(6);
  r.prompt_tokens = s.integer(7);
  r.completion_tokens = s.integer(8);
  r.queue_time_ms = s.real(9);
  r.ttft_ms = s.real(10);
  r.total_ms = s.real(11);
  r.client_address = s.text(12);
  r.started_at_unix_ms = s.integer(13);
  r.prompt_text = s.optional_text(14);
  r.output_text = s.optional_text(15);
  r.end_user = s.text(16);
  return r;
}

class sqlite_request_log_store final : public request_log_store {
 public:
  explicit sqlite_request_log_store(std::unique_ptr<sqlite_db> db) : db_(std::move(db)) {}

  bool append(std::span<const request_log_row> rows, std::string* error) override {
    if (rows.empty()) return true;
    if (!db_->exec("BEGIN IMMEDIATE", error)) return false;
    sqlite_statement s(db_->handle(), kInsert.c_str(), error);
    if (!s.ok()) return rollback();
    for (const request_log_row& r : rows) {
      s.bind(1, r.request_id);
      s.bind(2, r.principal);
      s.bind(3, r.model);
      s.bind(4, r.endpoint);
      s.bind(5, int64_t(r.status));
      s.bind(6, r.finish_reason);
      s.bind(7, r.prompt_tokens);
      s.bind(8, r.completion_tokens);
      s.bind(9, r.queue_time_ms);
      s.bind(10, r.ttft_ms);
      s.bind(11, r.total_ms);
      s.bind(12, r.client_address);
      s.bind(13, r.started_at_unix_ms);
      s.bind(14, r.prompt_text);
      s.bind(15, r.output_text);
      s.bind(16, r.end_user);
      if (s.step() != SQLITE_DONE) {
        if (error) *error = db_->last_error();
        return rollback();
      }
      s.reset();
    }
    if (!db_->exec("COMMIT", error)) return rollback();
    return true;
  }

  bool tail(size_t max_rows, std::vector<request_log_row>* out, std::string* error) override {
    std::string sql = std::string("SELECT * FROM (") + kSelect +
                      "ORDER BY id DESC LIMIT ?1) ORDER BY id ASC";
    sqlite_statement s(db_->handle(), sql.c_str(), error);
    if (!s.ok()) return false;
    s.bind(1, int64_t(max_rows));
    return collect(s, [&](const request_log_row& r) { out->push_back(r); }, error);
  }

  bool for_each_since(int64_t since_unix_ms,
                      const std::function<void(const request_log_row&)>& visit,
                      std::string* error) override {
    std::string sql = kSelect + "WHERE started_at >= ?1 ORDER BY id ASC";
    sqlite_statement s(db_->handle(), sql.c_str(), error);
    if (!s.ok()) return false;
    s.bind(1, since_unix_ms);
    return collect(s, visit, error);
  }

 private:
  bool rollback() {
    db_->exec("ROLLBACK", nullptr);
    return false;
  }

  bool collect(sqlite_statement& s, const std::function<void(const request_log_row&)>& visit,
               std::string* error) {
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) visit(read_row(s));
    if (rc != SQLITE_DONE) {
      if (error) *error = db_->last_error();
      return false;
    }
    return true;
  }

  std::unique_ptr<sqlite_db> db_;
};

}  // namespace

std::unique_ptr<request_log_store> open_sqlite_request_log(const std::string& path,
                                                           store_access access,
                                                           std::string* error) {
  auto m = access == store_access::write ? sqlite_db::mode::read_write_create
                                         : sqlite_db::mode::read_only;
  auto db = sqlite_db::open(path, m, error);
  if (!db) return nullptr;
  if (access == store_access::write) {
    if (!migrate_sqlite(*db, "request_log", request_log_migrations(), error)) return nullptr;
  } else {
    int version = sqlite_schema_version(*db, "request_log", error);
    if (version <= 0) {
      if (error && version == 0) *error = "'" + path + "' holds no request log";
      return nullptr;
    }
    if (version > latest_version(request_log_migrations())) {
      if (error) *error = "'" + path + "': request log schema is newer than this build";
      return nullptr;
    }
  }
  return std::make_unique<sqlite_request_log_store>(std::move(db));
}

}  // namespace troupe::actors
