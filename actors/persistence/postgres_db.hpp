#pragma once
// One libpq connection with the few operations Troupe's PostgreSQL stores
// share: connect (with notices silenced), run a statement, reconnect after a
// server restart, and bring a component's schema up to date. Only built with
// TROUPE_HAVE_POSTGRES; callers keep their own #ifdef.
#ifdef TROUPE_HAVE_POSTGRES
#include <libpq-fe.h>

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "actors/persistence/schema/migrations.hpp"

namespace troupe::actors {

// Owns one PGresult.
struct pg_result {
  PGresult* r;
  explicit pg_result(PGresult* p) : r(p) {}
  ~pg_result() { PQclear(r); }
  pg_result(const pg_result&) = delete;
  pg_result& operator=(const pg_result&) = delete;
  bool ok() const {
    auto s = PQresultStatus(r);
    return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
  }
  int rows() const { return PQntuples(r); }
  std::string text(int row, int col) const {
    return std::string(PQgetvalue(r, row, col), size_t(PQgetlength(r, row, col)));
  }
  bool is_null(int row, int col) const { return PQgetisnull(r, row, col) != 0; }
};

class pg_connection {
 public:
  // nullptr with *error from libpq (it names host and database, never the password).
  static std::unique_ptr<pg_connection> connect(const std::string& conninfo, std::string* error);
  ~pg_connection();
  pg_connection(const pg_connection&) = delete;
  pg_connection& operator=(const pg_connection&) = delete;

  PGconn* handle() const { return conn_; }
  // Reconnects when the server dropped the connection (restart, failover).
  void ensure_open();
  // Runs one or more statements without parameters.
  bool exec(const char* sql, std::string* error);
  // One statement with text parameters (nullptr = SQL NULL).
  pg_result exec_params(const char* sql, const std::vector<const char*>& values);
  void set_error(std::string* error) const;
  // `text` as a quoted SQL literal, for the multi-statement strings that
  // cannot take parameters.
  std::string literal(const std::string& text) const;

 private:
  explicit pg_connection(PGconn* conn) : conn_(conn) {}
  PGconn* conn_;
};

// Brings `component` up to the latest version in one transaction under an
// advisory lock (so two processes opening the same database do not both
// migrate). Fails on a database newer than this build.
bool migrate_postgres(pg_connection& db, const char* component,
                      std::span<const migration> migrations, std::string* error);

// The version recorded for `component` (0 when none), or -1 on error.
int postgres_schema_version(pg_connection& db, const char* component, std::string* error);

inline bool is_postgres_url(const std::string& url) {
  return url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
}

}  // namespace troupe::actors
#else
#include <string>
namespace troupe::actors {
inline bool is_postgres_url(const std::string& url) {
  return url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
}
}  // namespace troupe::actors
#endif
