// request_log_store over PostgreSQL (libpq). A batch is one multi-row INSERT
// per chunk inside one transaction: one round trip for a typical batch.
#include "actors/persistence/request_log_store.hpp"

#ifdef TROUPE_HAVE_POSTGRES
#include <libpq-fe.h>

#include <charconv>
#include <deque>
#include <cstdlib>

#include "actors/persistence/schema/migrations.hpp"
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
constexpr int64_t kSchemaLockKey = 0x74726f757065;  // pg_advisory_xact_lock key ("troupe")

std::string number_text(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : "0";
}

struct pg_result {
  PGresult* r;
  explicit pg_result(PGresult* p) : r(p) {}
  ~pg_result() { PQclear(r); }
  bool ok() const {
    auto s = PQresultStatus(r);
    return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
  }
};

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
  explicit postgres_request_log_store(PGconn* conn) : conn_(conn) {}
  ~postgres_request_log_store() override { PQfinish(conn_); }

  bool migrate(std::string* error) {
    if (!exec("BEGIN", error)) return false;
    auto fail = [&](std::string why) {
      exec("ROLLBACK", nullptr);
      if (error) *error = std::move(why);
      return false;
    };
    std::string why;
    std::string lock = "SELECT pg_advisory_xact_lock(" + std::to_string(kSchemaLockKey) + ")";
    if (!exec(lock.c_str(), &why) ||
        !exec("CREATE TABLE IF NOT EXISTS schema_version ("
              " component TEXT PRIMARY KEY, version INTEGER NOT NULL)",
              &why)) {
      return fail(why);
    }
    int current = schema_version(&why);
    if (current < 0) return fail(why);
    int latest = latest_version(request_log_migrations());
    if (current > latest) return fail("request_log schema is newer than this build knows");
    for (const migration& m : request_log_migrations()) {
      if (m.version <= current) continue;
      if (!exec(m.postgres_sql, &why)) {
        return fail("request_log migration " + std::to_string(m.version) + ": " + why);
      }
    }
    std::string up =
        "INSERT INTO schema_version (component, version) VALUES ('request_log', " +
        std::to_string(latest) + ") ON CONFLICT (component) DO UPDATE SET version = excluded.version";
    if (!exec(up.c_str(), &why) || !exec("COMMIT", &why)) return fail(why);
    return true;
  }

  // 0 when no schema yet, -1 on error.
  int schema_version(std::string* error) {
    pg_result exists(PQexec(conn_, "SELECT to_regclass('schema_version') IS NOT NULL"));
    if (!exists.ok()) return set_error(error), -1;
    if (std::string(PQgetvalue(exists.r, 0, 0)) != "t") return 0;
    pg_result q(PQexec(conn_, "SELECT version FROM schema_version WHERE component = 'request_log'"));
    if (!q.ok()) return set_error(error), -1;
    return PQntuples(q.r) == 0 ? 0 : std::atoi(PQgetvalue(q.r, 0, 0));
  }

  bool append(std::span<const request_log_row> rows, std::string* error) override {
    if (rows.empty()) return true;
    if (PQstatus(conn_) != CONNECTION_OK) PQreset(conn_);  // reconnect after a server restart
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

  bool exec(const char* sql, std::string* error) {
    pg_result r(PQexec(conn_, sql));
    if (!r.ok()) return set_error(error), false;
    return true;
  }

  void set_error(std::string* error) const {
    if (error) *error = std::string("PostgreSQL: ") + PQerrorMessage(conn_);
  }

  PGconn* conn_;
};

}  // namespace

std::unique_ptr<request_log_store> open_postgres_request_log(const std::string& conninfo,
                                                             store_access access,
                                                             std::string* error) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (!conn || PQstatus(conn) != CONNECTION_OK) {
    // libpq's message names host and database, not the password.
    if (error) *error = std::string("PostgreSQL connection failed: ") +
                        (conn ? PQerrorMessage(conn) : "out of memory");
    PQfinish(conn);
    return nullptr;
  }
  // Server notices ("relation already exists, skipping") are not errors.
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  auto store = std::make_unique<postgres_request_log_store>(conn);
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
