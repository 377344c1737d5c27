// request_log_store over PostgreSQL (libpq). A batch is one multi-row INSERT
// per chunk inside one transaction: one round trip for a typical batch.
#include "actors/persistence/request_log_store.hpp"

#ifdef TROUPE_HAVE_POSTGRES
#include <charconv>
#include <deque>
#include <cstdlib>

#include "actors/persistence/postgres_db.hpp"
#endif

namespace troupe::actors {

#ifndef TROUPE_HAVE_POSTGRES

std::unique_ptr<request_log_store> open_postgres_request_log(const std::string&, store_access,
                                                             std::string* error) {
  if (error) *error = "this troupe was built without PostgreSQL support (libpq)";
  return nullptr;
}

#else

namespace {

constexpr size_t kRowsPerStatement = 500;  // 7,500 parameters, well under libpq's 65,535

std::string number_text(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : "0";
}

request_log_row read_row(PGresult* r, int i) {
  auto text = [&](int c) { return std::string(PQgetvalue(r, i, c), size_t(PQgetlength(r, i, c))); };
  auto integer = [&](int c) { return std::strtoll(PQgetvalue(r, i, c), nullptr, 10); };
  auto real = [&](int c) { return std::strtod(PQgetvalue(r, i, c), nullptr); };
  auto optional_text = [&](int c) -> std::optional<std::string> {
    if (PQgetisnull(r, i, c)) return std::nullopt;
    return text(c);
  };
  request_log_row row;
  row.id = integer(0);
  row.request_id = text(1);
  row.principal = text(2);
  row.model = text(3);
  row.endpoint = text(4);
  row.status = int32_t(integer(5));
  row.finish_reason = text(6);
  row.prompt_tokens = integer(7);
  row.completion_tokens = integer(8);
  row.queue_time_ms = real(9);
  row.ttft_ms = real(10);
  row.total_ms = real(11);
  row.client_address = text(12);
  row.started_at_unix_ms = integer(13);
  row.prompt_text = optional_text(14);
  row.output_text = optional_text(15);
  row.end_user = text(16);
  return row;
}

const std::string kSelect =
    std::string("SELECT id, ") + kRequestLogWriteColumns + " FROM request_log ";

class postgres_request_log_store final : public request_log_store {
 public:
  explicit postgres_request_log_store(std::unique_ptr<pg_connection> db)
      : db_(std::move(db)), conn_(db_->handle()) {}

  bool migrate(std::string* error) {
    return migrate_postgres(*db_, "request_log", request_log_migrations(), error);
  }

  // 0 when no schema yet, -1 on error.
  int schema_version(std::string* error) {
    return postgres_schema_version(*db_, "request_log", error);
  }

  bool append(std::span<const request_log_row> rows, std::string* error) override {
    if (rows.empty()) return true;
    db_->ensure_open();  // reconnect after a server restart
    if (!exec("BEGIN", error)) return false;
    for (size_t start = 0; start < rows.size(); start += kRowsPerStatement) {
      if (!insert_chunk(rows.subspan(start, std::min(kRowsPerStatement, rows.size() - start)),
                        error)) {
        exec("ROLLBACK", nullptr);
        return false;
      }
    }
    if (!exec("COMMIT", error)) {
      exec("ROLLBACK", nullptr);
      return false;
    }
    return true;
  }

  bool tail(size_t max_rows, std::vector<request_log_row>* out, std::string* error) override {
    std::string sql = std::string("SELECT * FROM (") + kSelect + "ORDER BY id DESC LIMIT " +
                      std::to_string(max_rows) + ") AS newest ORDER BY id ASC";
    pg_result r(PQexec(conn_, sql.c_str()));
    if (!r.ok()) return set_error(error), false;
    for (int i = 0; i < PQntuples(r.r); ++i) out->push_back(read_row(r.r, i));
    return true;
  }

  bool for_each_since(int64_t since_unix_ms,
                      const std::function<void(const request_log_row&)>& visit,
                      std::string* error) override {
    std::string sql = kSelect + "WHERE started_at >= " +
                      std::to_string(since_unix_ms) + " ORDER BY id ASC";
    if (!PQsendQuery(conn_, sql.c_str())) return set_error(error), false;
    PQsetSingleRowMode(conn_);  // streams rows; without it they come in one buffered result
    bool ok = true;
    while (PGresult* raw = PQgetResult(conn_)) {
      pg_result r(raw);
      auto status = PQresultStatus(raw);
      if (status == PGRES_SINGLE_TUPLE || status == PGRES_TUPLES_OK) {
        for (int i = 0; i < PQntuples(raw); ++i) visit(read_row(raw, i));
      } else {
        if (ok) set_error(error);
        ok = false;
      }
    }
    return ok;
  }

 private:
  bool insert_chunk(std::span<const request_log_row> rows, std::string* error) {
    std::string sql =
        std::string("INSERT INTO request_log (") + kRequestLogWriteColumns + ") VALUES ";
    std::deque<std::string> storage;  // stable addresses for the c_str() pointers
    std::vector<const char*> values;
    values.reserve(rows.size() * kRequestLogNumWriteColumns);
    int param = 1;
    for (size_t i = 0; i < rows.size(); ++i) {
      const request_log_row& r = rows[i];
      sql += i == 0 ? "(" : ",(";
      for (int c = 0; c < kRequestLogNumWriteColumns; ++c) {
        sql += (c == 0 ? "$" : ",$") + std::to_string(param++);
      }
      sql += ")";
      auto add = [&](std::string v) {
        storage.push_back(std::move(v));
        values.push_back(storage.back().c_str());
      };
      auto add_optional = [&](const std::optional<std::string>& v) {
        if (v) add(*v);
        else values.push_back(nullptr);
      };
      add(r.request_id);
      add(r.principal);
      add(r.model);
      add(r.endpoint);
      add(std::to_string(r.status));
      add(r.finish_reason);
      add(std::to_string(r.prompt_tokens));
      add(std::to_string(r.completion_tokens));
      add(number_text(r.queue_time_ms));
      add(number_text(r.ttft_ms));
      add(number_text(r.total_ms));
      add(r.client_address);
      add(std::to_string(r.started_at_unix_ms));
      add_optional(r.prompt_text);
      add_optional(r.output_text);
      add(r.end_user);
    }
    pg_result res(PQexecParams(conn_, sql.c_str(), int(values.size()), nullptr, values.data(),
                               nullptr, nullptr, 0));
    if (!res.ok()) return set_error(error), false;
    return true;
  }

  bool exec(const char* sql, std::string* error) { return db_->exec(sql, error); }
  void set_error(std::string* error) const { db_->set_error(error); }

  std::unique_ptr<pg_connection> db_;
  PGconn* conn_;
};

}  // namespace

std::unique_ptr<request_log_store> open_postgres_request_log(const std::string& conninfo,
                                                             store_access access,
                                                             std::string* error) {
  auto db = pg_connection::connect(conninfo, error);
  if (!db) return nullptr;
  auto store = std::make_unique<postgres_request_log_store>(std::move(db));
  if (access == store_access::write) {
    if (!store->migrate(error)) return nullptr;
    return store;
  }
  int version = store->schema_version(error);
  if (version <= 0) {
    if (error && version == 0) *error = "PostgreSQL database holds no request log";
    return nullptr;
  }
  return store;
}

#endif

}  // namespace troupe::actors
