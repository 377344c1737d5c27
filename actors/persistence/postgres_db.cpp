#include "actors/persistence/postgres_db.hpp"

#ifdef TROUPE_HAVE_POSTGRES
#include <cstdlib>

namespace troupe::actors {
namespace {

constexpr int64_t kSchemaLockKey = 0x74726f757065;  // pg_advisory_xact_lock key ("troupe")

}  // namespace

std::unique_ptr<pg_connection> pg_connection::connect(const std::string& conninfo,
                                                      std::string* error) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (!conn || PQstatus(conn) != CONNECTION_OK) {
    if (error) *error = std::string("PostgreSQL connection failed: ") +
                        (conn ? PQerrorMessage(conn) : "out of memory");
    PQfinish(conn);
    return nullptr;
  }
  // Server notices ("relation already exists, skipping") are not errors.
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<pg_connection>(new pg_connection(conn));
}

pg_connection::~pg_connection() { PQfinish(conn_); }

void pg_connection::ensure_open() {
  if (PQstatus(conn_) != CONNECTION_OK) PQreset(conn_);
}

bool pg_connection::exec(const char* sql, std::string* error) {
  pg_result r(PQexec(conn_, sql));
  if (!r.ok()) return set_error(error), false;
  return true;
}

pg_result pg_connection::exec_params(const char* sql, const std::vector<const char*>& values) {
  return pg_result(PQexecParams(conn_, sql, int(values.size()), nullptr, values.data(), nullptr,
                                nullptr, 0));
}

void pg_connection::set_error(std::string* error) const {
  if (error) *error = std::string("PostgreSQL: ") + PQerrorMessage(conn_);
}

std::string pg_connection::literal(const std::string& text) const {
  char* quoted = PQescapeLiteral(conn_, text.data(), text.size());
  if (!quoted) return "NULL";
  std::string out(quoted);
  PQfreemem(quoted);
  return out;
}

int postgres_schema_version(pg_connection& db, const char* component, std::string* error) {
  pg_result exists(PQexec(db.handle(), "SELECT to_regclass('schema_version') IS NOT NULL"));
  if (!exists.ok()) return db.set_error(error), -1;
  if (exists.text(0, 0) != "t") return 0;
  pg_result q = db.exec_params("SELECT version FROM schema_version WHERE component = $1",
                               {component});
  if (!q.ok()) return db.set_error(error), -1;
  return q.rows() == 0 ? 0 : std::atoi(q.text(0, 0).c_str());
}

bool migrate_postgres(pg_connection& db, const char* component,
                      std::span<const migration> migrations, std::string* error) {
  if (!db.exec("BEGIN", error)) return false;
  auto fail = [&](std::string why) {
    db.exec("ROLLBACK", nullptr);
    if (error) *error = std::move(why);
    return false;
  };
  std::string why;
  std::string lock = "SELECT pg_advisory_xact_lock(" + std::to_string(kSchemaLockKey) + ")";
  if (!db.exec(lock.c_str(), &why) ||
      !db.exec("CREATE TABLE IF NOT EXISTS schema_version ("
               " component TEXT PRIMARY KEY, version INTEGER NOT NULL)",
               &why)) {
    return fail(why);
  }
  int current = postgres_schema_version(db, component, &why);
  if (current < 0) return fail(why);
  int latest = latest_version(migrations);
  if (current > latest) return fail(std::string(component) + " schema is newer than this build knows");
  for (const migration& m : migrations) {
    if (m.version <= current) continue;
    if (!m.postgres_sql) return fail(std::string(component) + " has no PostgreSQL schema");
    if (!db.exec(m.postgres_sql, &why)) {
      return fail(std::string(component) + " migration " + std::to_string(m.version) + ": " + why);
    }
  }
  std::string version = std::to_string(latest);
  pg_result up = db.exec_params(
      "INSERT INTO schema_version (component, version) VALUES ($1, $2::integer) "
      "ON CONFLICT (component) DO UPDATE SET version = excluded.version",
      {component, version.c_str()});
  if (!up.ok()) return db.set_error(&why), fail(why);
  if (!db.exec("COMMIT", &why)) return fail(why);
  return true;
}

}  // namespace troupe::actors
#endif
